"""nbgrader settings for the "Building blocks of a neural network" course.

nbgrader reads this file from the current directory, so run every nbgrader
command, and start the formgrader, from the course root. Everything that
makes grading safe is configured here, so `make grade`, `nbgrader autograde`,
`nbgrader generate_feedback` and the formgrader's buttons all grade alike:

- every hand-in runs in the `course-sandbox` kernel, inside bubblewrap
  (`make` installs the kernelspec);
- a dead or stuck kernel keeps the points earned before it;
- every passing check is confirmed outside the kernel and on secret inputs,
  and a check that is not gets an error, 0 points and a review flag;
- feedback shows no hidden test and works offline.
"""
import atexit
import os
import shutil
import sys
import tempfile

# Paths are anchored on this file, not on the current directory, so a copy of
# the course (the tests grade one in a temporary folder) is self-contained.
COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, COURSE_ROOT)  # the grading engine is the course's own `coursetools` package

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds, GetGrades, IgnorePattern, LimitOutput,
    OverwriteCells, OverwriteKernelspec, SaveAutoGrades,
)

from coursetools.engine import computed_values, export, feedback, handin, sandbox, secret_inputs  # noqa: E402
from coursetools.engine.execute import GradingExecute  # noqa: E402
from coursetools.engine.recheck import FlagForReview, Recheck  # noqa: E402
from coursetools.engine.kernel_manager import SandboxKernelManager  # noqa: E402
from coursetools.engine.warm_kernel import StartKernelAhead  # noqa: E402

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

# A hand-in is data: ids that nbgrader would read as globs or paths, links,
# devices and oversized files are refused before nbgrader copies or reads
# anything (coursetools/engine/handin.py)
handin.guard_nbgrader()

c.CourseDirectory.course_id = "nn-building-blocks"
c.CourseDirectory.root = COURSE_ROOT
# The gradebook stores the hidden tests and the key stores the secret inputs:
# both live at the root, are git-ignored and never go into release/.
# A file next to this one, or, when COURSE_GRADEBOOK_URL is set, that database (PostgreSQL
# for a course graded on a cluster: `make grade DB=postgresql://...` sets it). Several
# grading jobs write to the file at once: each waits up to a minute for the others' writes.
c.CourseDirectory.db_url = (os.environ.get("COURSE_GRADEBOOK_URL")
                            or "sqlite:///" + os.path.join(COURSE_ROOT, "gradebook.db") + "?timeout=60")
c.Recheck.secret_file = os.path.join(COURSE_ROOT, secret_inputs.SECRET_FILE)

# Student code runs only in the sandbox (coursetools/engine/sandbox.py)
c.Execute.kernel_name = sandbox.KERNEL_NAME
# A correct notebook runs in about a second; 30 s per cell stops an endless
# loop without cutting off a slow but honest answer. The recheck uses the same.
c.Execute.timeout = 30
# Widget state is for interactive pages, not grading; kept, it is output no cap would see
c.Execute.store_widget_state = False

# nbgrader's first pass over a hand-in (its own steps), with the kernel starting meanwhile
c.Autograde.sanitize_preprocessors = [
    StartKernelAhead,  # in the autograded folder, filled by now; GradingExecute adopts it
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]
# nbgrader's autograde steps, with the course's execution, recheck and review flag
c.Autograde.autograde_preprocessors = [
    GradingExecute,  # in place of nbgrader's Execute
    IgnorePattern,
    ClearMetadataPreprocessor,  # nbgrader's step, which it leaves disabled: the hand-in's metadata stays
    # the results read back for the report, replacing whatever the hand-in's metadata held there
    computed_values.RecordComputedValues,
    LimitOutput,
    Recheck,  # before the scores are saved, so a failed recheck is a failed check
    SaveAutoGrades,
    FlagForReview,
    AssignLatePenalties,
    CheckCellMetadata,
]

# Feedback: no hidden tests, no tracebacks, figures inside the file, nothing from the network
c.GenerateFeedback.preprocessors = [feedback.HideHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]
c.GenerateFeedback.exporter_class = feedback.OfflineHTMLExporter
c.HTMLExporter.embed_images = True
# nbconvert checks the notebook against its schema after every preprocessor (19 times per
# hand-in); once, after the last, rejects the same notebooks: none is written in between
c.Exporter.optimistic_validation = True

# `nbgrader export` and `make grade` write grades.csv quoted, with no cell a spreadsheet runs as a formula
c.ExportApp.plugin_class = export.SpreadsheetSafeCsvExportPlugin

# One hand-in's grading job under `make grade`: a worker process with a wall-clock
# budget and a memory ceiling (coursetools/workers.py). Execution and recheck
# have budgets of their own within it, so a slow hand-in keeps its points
c.HandInJob.wall_budget = 300
c.HandInJob.memory_limit = 4 * 1024**3
c.GradingExecute.total_timeout = 120
c.Recheck.timeout = 150

# Every kernel nbgrader starts talks over Unix sockets (the sandbox has no network). A
# sandboxed kernel makes them in its own /tmp, and the grader reaches them through
# /proc (coursetools/engine/kernel_manager.py): no folder outside is writable by it.
KERNEL_SOCKETS = tempfile.mkdtemp(prefix="nbgrader-kernels-")  # for kernels outside the sandbox (--no-sandbox)
atexit.register(shutil.rmtree, KERNEL_SOCKETS, True)
c.KernelManager.transport = "ipc"
c.KernelManager.ip = os.path.join(KERNEL_SOCKETS, "kernel")
c.NotebookClient.kernel_manager_class = SandboxKernelManager
# `nbgrader collect` and the formgrader's Collect button copy plain files only, from their owner only:
# students write the exchange's inbound folder, and collect usually runs as the instructor or root
c.ExchangeFactory.collect = "coursetools.exchange.PlainFileCollect"

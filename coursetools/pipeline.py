"""Run nbgrader over a course folder: release, then every hand-in as a job of its own, then export.

nbgrader is driven through its own `NbGraderAPI`, with the course's
nbgrader_config.py and so with the same grading engine as `nbgrader
autograde` and the formgrader (`coursetools.engine`). What this adds around
it: each student is graded by a worker process (`coursetools.workers`,
`coursetools.handin_job`), under a time budget and a memory ceiling, after
intake has checked and staged the hand-in; whatever happens to one student
is that student's status, and the batch always ends with every student's
row and both CSVs.
"""

import contextlib
import os
import shutil
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from coursetools import course, intake
from coursetools.engine import export, handin, sandbox, sandbox_kernel
from coursetools.handin_job import StudentOutcome, last_line
from coursetools.workers import HandInJob, WorkerPool

GRADES_CSV = "grades.csv"


class GradingError(RuntimeError):
    """A step of the pipeline failed for the whole course, not for one student."""


@contextlib.contextmanager
def inside(root: Path):
    """nbgrader resolves some paths against the current directory, so work from the course root."""
    previous = Path.cwd()
    os.chdir(root)
    try:
        yield
    finally:
        os.chdir(previous)


def require_sandbox(config) -> None:
    """Stop before grading anyone when the sandbox or its kernelspec is missing, and say what to do."""
    try:
        sandbox.check_available()
    except sandbox.Unavailable as reason:
        raise GradingError(f"student code will not run unsandboxed: {reason}") from None
    kernel = config.Execute.get("kernel_name", "python3")
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        raise GradingError(f"nbgrader_config.py runs hand-ins in the `{kernel}` kernel, which is not installed: "
                           "run `make` (or `python -m coursetools.engine.sandbox_kernel install`)") from None
    if kernel == sandbox.KERNEL_NAME and not all(Path(arg).exists() for arg in spec.argv[:2]):
        sandbox_kernel.install()  # the environment or the course folder moved since `make` installed it


def load_config(root: Path):
    try:
        return course.load_nbgrader_config(root)
    except FileNotFoundError as error:
        raise GradingError(str(error)) from None


def open_api(root: Path, sandboxed: bool = True, check: bool = True) -> NbGraderAPI:
    config = load_config(root)
    course.environment_bin_on_path()
    if not sandboxed:  # the instructor's explicit choice (--no-sandbox)
        config.Execute.kernel_name = "python3"
        config.Recheck.sandboxed = False
    elif check:
        require_sandbox(config)
    # nbgrader reads the staged copies that intake makes, never submitted/ itself
    config.CourseDirectory.submitted_directory = str(intake.STAGING)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def generate_release(api: NbGraderAPI) -> None:
    result = api.generate_assignment(course.ASSIGNMENT, force=True, create=True)
    if not result["success"]:
        raise GradingError(
            f"nbgrader could not generate release/ from source/: {last_line(result.get('error'))}\n"
            f"Fix the source notebook (`nbgrader validate {course.source_notebook(Path('.'))}` shows problems), then rerun."
        )


def require_assignment_in_gradebook(api: NbGraderAPI) -> None:
    with api.gradebook as gradebook:
        try:
            gradebook.find_assignment(course.ASSIGNMENT)
        except MissingEntry:
            raise GradingError(f"the gradebook does not know {course.ASSIGNMENT} yet, so its hidden tests are "
                               "missing: grade once without --no-release") from None


def export_grades(root: Path) -> Path:
    """nbgrader's grade export, through the course's spreadsheet-safe plugin."""
    destination = root / GRADES_CSV
    with Gradebook(course.gradebook_url(root)) as gradebook:
        export.SpreadsheetSafeCsvExportPlugin(to=str(destination)).export(gradebook)
    return destination


def grade_course(root: Path, release: bool = True, sandboxed: bool = True,
                 progress=lambda message: None) -> list[StudentOutcome]:
    """Grade every hand-in under submitted/; return one outcome per student."""
    root = root.resolve()
    with inside(root):
        api = open_api(root, sandboxed)
        students = course.submitted_students(root)
        pool = WorkerPool(root, api.coursedir.db_url, HandInJob(config=load_config(root)), sandboxed)
        pool.warm_up(len(students))  # workers load nbgrader while the release is generated
        try:
            if release:
                progress("regenerating release/ from source/")
                generate_release(api)
            else:
                require_assignment_in_gradebook(api)
        except GradingError:
            pool.close()
            raise
        shutil.rmtree(root / intake.STAGING, ignore_errors=True)
        outcomes = pool.grade(students, on_outcome=lambda outcome: progress(
            f"{handin.shown_name(outcome.student)}: {outcome.status}"))
        progress("writing grades.csv")
        export_grades(root)
    return outcomes

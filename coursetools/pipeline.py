"""Run nbgrader over a course folder: release, intake, autograde, feedback, export.

nbgrader is driven in-process through its own `NbGraderAPI`, with the
course's nbgrader_config.py and so with the same grading engine as
`nbgrader autograde` and the formgrader (`coursetools.engine`). What this
adds around it: intake (renamed notebooks found, invalid ones refused, a
staged copy so submitted/ never changes), one student at a time so a failure
is that student's alone, and the statuses behind the score table.
"""

import contextlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import CsvExportPlugin

from coursetools import course, intake, notebooks
from coursetools.engine import execute, recheck, sandbox, sandbox_kernel

GRADES_CSV = "grades.csv"


class GradingError(RuntimeError):
    """A step of the pipeline failed for the whole course, not for one student."""


@dataclass
class StudentOutcome:
    student: str
    status: str  # one of the statuses in coursetools.intake
    notes: list[str] = field(default_factory=list)  # what was repaired or went wrong, for the instructor
    log: str = ""  # nbgrader's own log of this student's grading

    @property
    def graded(self) -> bool:
        return intake.is_graded(self.status)


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


def open_api(root: Path, sandboxed: bool = True) -> NbGraderAPI:
    try:
        config = course.load_nbgrader_config(root)
    except FileNotFoundError as error:
        raise GradingError(str(error)) from None
    course.environment_bin_on_path()
    if sandboxed:
        require_sandbox(config)
    else:  # the instructor's explicit choice (--no-sandbox)
        config.Execute.kernel_name = "python3"
        config.Recheck.sandboxed = False
    # nbgrader reads the staged copies that intake makes, never submitted/ itself
    config.CourseDirectory.submitted_directory = str(intake.STAGING)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no details given"


def failure_reason(result: dict) -> str:
    """The most specific error nbgrader logged, rather than its generic closing line."""
    errors = [line.strip() for line in (result.get("log") or "").splitlines()
              if re.match(r"\s*[\w.]+(Error|Exception|Exit): ", line) and "NbGraderException" not in line]
    return errors[-1] if errors else last_line(result.get("error") or result.get("log"))


def generate_release(api: NbGraderAPI) -> None:
    result = api.generate_assignment(course.ASSIGNMENT, force=True, create=True)
    if not result["success"]:
        raise GradingError(
            f"nbgrader could not generate release/ from source/: {last_line(result.get('error'))}\n"
            f"Fix the source notebook (`nbgrader validate {course.source_notebook(Path('.'))}` shows problems), then rerun."
        )


# How a stopped execution shows in the status, and what the note tells the instructor
STOPPED = {
    execute.TIMEOUT: (intake.TIMED_OUT, "a cell ran past the time limit; points up to it kept, later checks not run"),
    execute.KERNEL_DIED: (intake.KERNEL_DIED, "the kernel died; points up to it kept, later checks not run"),
}


def forget_previous_grading(api: NbGraderAPI, root: Path, student: str) -> None:
    """A hand-in that cannot be graded now must not show the scores of an earlier run."""
    with api.gradebook as gradebook:
        try:
            gradebook.remove_submission(course.ASSIGNMENT, student)
        except MissingEntry:
            pass
    for folder in (course.autograded_notebook(root, student).parent, course.feedback_file(root, student).parent):
        shutil.rmtree(folder, ignore_errors=True)


def require_assignment_in_gradebook(api: NbGraderAPI) -> None:
    with api.gradebook as gradebook:
        try:
            gradebook.find_assignment(course.ASSIGNMENT)
        except MissingEntry:
            raise GradingError(f"the gradebook does not know {course.ASSIGNMENT} yet, so its hidden tests are "
                               "missing: grade once without --no-release") from None


def autograde(api: NbGraderAPI, root: Path, received: intake.Intake, release) -> StudentOutcome:
    if not received.gradable:
        forget_previous_grading(api, root, received.student)
        return StudentOutcome(received.student, received.status, received.notes)
    intake.stage(root, received, release)
    result = api.autograde(course.ASSIGNMENT, received.student, force=True, create=True)
    log = result.get("log") or ""
    if result["success"]:
        graded_nb = notebooks.read(course.autograded_notebook(root, received.student))
        notes = [*received.notes, *recheck.instructor_notes(graded_nb)]
        stopped = execute.stop_reason(graded_nb)
        if stopped:
            status, why = STOPPED[stopped]
            return StudentOutcome(received.student, status, [*notes, why], log)
        return StudentOutcome(received.student, received.status, notes, log)
    forget_previous_grading(api, root, received.student)
    return StudentOutcome(received.student, intake.NOT_GRADED, [*received.notes, failure_reason(result)],
                          log or result.get("error") or "")


def generate_feedback(api: NbGraderAPI, student: str) -> None:
    result = api.generate_feedback(course.ASSIGNMENT, student, force=True)
    if not result["success"]:
        raise GradingError(f"nbgrader could not write feedback for {student}: {last_line(result.get('error'))}")


def export_grades(root: Path) -> Path:
    destination = root / GRADES_CSV
    with Gradebook(course.gradebook_url(root)) as gradebook:
        CsvExportPlugin(to=str(destination)).export(gradebook)
    return destination


def grade_course(root: Path, release: bool = True, sandboxed: bool = True,
                 progress=lambda message: None) -> list[StudentOutcome]:
    """Grade every hand-in under submitted/; return one outcome per student."""
    root = root.resolve()
    with inside(root):
        api = open_api(root, sandboxed)
        if release:
            progress("regenerating release/ from source/")
            generate_release(api)
        else:
            require_assignment_in_gradebook(api)
        shutil.rmtree(root / intake.STAGING, ignore_errors=True)
        release_nb = notebooks.read(course.release_notebook(root))
        release_ids = notebooks.grade_ids(release_nb)
        outcomes = []
        for student in course.submitted_students(root):
            progress(f"autograding {student}")
            outcomes.append(autograde(api, root, intake.inspect(root, student, release_ids), release_nb))
        progress("writing feedback and grades.csv")
        for outcome in outcomes:
            if outcome.graded:
                generate_feedback(api, outcome.student)
        export_grades(root)
    return outcomes

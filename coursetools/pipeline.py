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
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from coursetools import cluster, course, gradings, intake, roster
from coursetools.engine import export, handin, sandbox, sandbox_kernel, secret_inputs
from coursetools.handin_job import Request, StudentOutcome, last_line
from coursetools.progress import Progress
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


def check_gradebook_reachable(db_url: str) -> None:
    """Stop before grading anyone when a database server holding the gradebook cannot be reached."""
    if db_url.startswith("sqlite"):
        return  # a file nbgrader creates on first use
    try:
        engine = create_engine(db_url, poolclass=NullPool, connect_args={"connect_timeout": 10})
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()
    except Exception as error:  # noqa: BLE001 (a driver, name or network error: each says why in its text)
        reason = last_line(str(error).split("(Background on this error")[0])
        raise GradingError(
            f"cannot reach the gradebook database at {cluster.shown_url(db_url)}: {reason}. Check that the server "
            "is running and accepts connections from this machine (listen_addresses, pg_hba.conf), and that the "
            "user, host, port and database name in the URL are right; nothing was graded") from None


def export_grades(root: Path, db_url: str) -> Path:
    """nbgrader's grade export, through the course's spreadsheet-safe plugin."""
    destination = root / GRADES_CSV
    with Gradebook(db_url) as gradebook:
        export.SpreadsheetSafeCsvExportPlugin(to=str(destination)).export(gradebook)
    return destination


def selected_students(root: Path, only: list[str] | None) -> list[str]:
    """Everyone in submitted/, or the students asked for, each of whom must have a folder there."""
    everyone = course.submitted_students(root)
    if not only:
        return everyone
    unknown = [name for name in only if name not in everyone]
    if unknown:
        raise GradingError(f"no hand-in folder for {', '.join(map(handin.shown_name, unknown))} in "
                           f"{root / 'submitted'}: check the spelling against the folder names there")
    return [name for name in everyone if name in only]


def requests_for(root: Path, students: list[str], version: str, stored: dict, in_gradebook: set,
                 force: bool) -> list[Request]:
    """One request per student, naming the last grading's fingerprint when it may be reused."""
    requests = []
    for student in students:
        record = stored.get(student)
        reusable = (not force and record is not None and record.reusable and student in in_gradebook
                    and gradings.outputs_exist(root, student))
        requests.append(Request(student, version, record.fingerprint if reusable else ""))
    return requests


def kept_outcome(student: str, record) -> StudentOutcome:
    """The row of a student this run did not grade, as their last grading left it."""
    if record is None:
        return StudentOutcome(student, intake.NOT_YET, [
            "not graded yet: this run graded only the students asked for; run `make grade` without STUDENT= "
            "to grade everyone"])
    return StudentOutcome(student, record.status, list(record.notes), unchanged=True)


def grade_course(root: Path, release: bool = True, sandboxed: bool = True, progress=None, jobs: int = 1,
                 only: list[str] | None = None, force: bool = False, scheduler: str = "") -> list[StudentOutcome]:
    """Grade the hand-ins under submitted/ (all, or `only` those); return one outcome per student.

    Hand-ins graded before exactly as they are now keep their grading unless `force`;
    students not asked for keep their rows as they were.
    """
    root = root.resolve()
    progress = progress or Progress()
    with inside(root):
        api = open_api(root, sandboxed)
        db_url = api.coursedir.db_url
        try:
            class_list = roster.read(root)
        except roster.RosterError as error:
            raise GradingError(f"{error}; nothing was graded") from None
        everyone = course.submitted_students(root)
        students = selected_students(root, only)
        check_gradebook_reachable(db_url)
        if class_list is not None:
            roster.import_into_gradebook(class_list, db_url, api.coursedir.course_id)
        limits = HandInJob(config=load_config(root))
        if scheduler:
            try:
                pool = cluster.ClusterPool(scheduler, root, db_url, limits, sandboxed)
            except cluster.ClusterUnavailable as error:
                raise GradingError(str(error)) from None
        else:
            pool = WorkerPool(root, db_url, limits, sandboxed, size=jobs)
            pool.warm_up(len(students))  # workers load nbgrader while the release is generated
        records = None
        try:
            if release:
                progress.message("regenerating release/ from source/")
                generate_release(api)
            else:
                require_assignment_in_gradebook(api)
            secret_inputs.course_secret(Path(api.config.Recheck.secret_file))  # part of the course version
            version = gradings.course_version(root, sandboxed,
                                              gradings.assignment_due_date(db_url, api.coursedir.course_id))
            records = gradings.GradingRecords(db_url, api.coursedir.course_id)
            stored = records.read_all()
            in_gradebook = gradings.students_in_gradebook(db_url, api.coursedir.course_id)
            requests = requests_for(root, students, version, stored, in_gradebook, force)

            def finished(outcome: StudentOutcome) -> None:
                if outcome.unchanged:  # its grading stands: the status and notes it had
                    kept = stored[outcome.student]
                    outcome.status, outcome.notes = kept.status, list(kept.notes)
                elif outcome.status == intake.BUSY:
                    pass  # the other run's grading and record stand
                else:
                    try:
                        records.save(outcome.student, outcome.fingerprint, outcome.status, outcome.notes)
                    except Exception as error:  # noqa: BLE001 (the grading stands; only its reuse is lost)
                        outcome.notes.append(f"this grading could not be recorded for reuse ({type(error).__name__}); "
                                             "the next run grades this hand-in again")
                progress.done(outcome)

            progress.start(len(requests))
            graded = {outcome.student: outcome for outcome in pool.grade(requests, on_outcome=finished)}
            progress.close()
        finally:
            pool.close()
            if records is not None:
                records.close()
        progress.message("writing grades.csv")
        export_grades(root, db_url)
    outcomes = [graded[student] if student in graded else kept_outcome(student, stored.get(student))
                for student in everyone]
    return with_roster(outcomes, class_list)


def with_roster(outcomes: list[StudentOutcome], class_list) -> list[StudentOutcome]:
    """A row for each roster student who handed nothing in, and a note on each hand-in from an id
    the roster does not list; the outcomes as they are without a roster."""
    if class_list is None:
        return outcomes
    listed = {student.id for student in class_list}
    for outcome in outcomes:
        if outcome.student not in listed:
            outcome.notes.append(roster.NOT_ON_ROSTER)
    handed_in = {outcome.student for outcome in outcomes}
    missing = [StudentOutcome(student.id, intake.MISSING, [roster.MISSING_FROM_SUBMITTED])
               for student in class_list if student.id not in handed_in]
    return sorted(outcomes + missing, key=lambda outcome: outcome.student)

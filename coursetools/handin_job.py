"""Grade one hand-in: intake, autograde, feedback. The job a grading worker runs for each student.

A worker is a process of its own (`coursetools.workers` starts it as
`python -m coursetools.handin_job --root DIR`). It reads one request per
line on stdin (a JSON `Request`) and answers each with one JSON line: the
student's status, notes, nbgrader's log, where the time went, and the
hand-in's fingerprint. A hand-in whose fingerprint is the one the request
names was graded before exactly as it is: the job says so and grades nothing. Whatever goes wrong in a job, in intake, the
sandboxed kernel, the recheck or the feedback, becomes that student's
`grading failed` status with the error in the notes, and any scores it had
are removed, so the table and both CSVs agree on it. The worker then takes
the next student; the batch never stops for one hand-in.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from sqlalchemy.exc import SAWarning

from coursetools import course, intake, notebooks, student_lock
from coursetools.engine import execute, handin, recheck, sandbox, speedups, timing, warm_kernel


# The job's own temporary folder (also its TMPDIR), made and removed by the pool that starts it
JOB_SCRATCH_VARIABLE = "COURSE_JOB_SCRATCH"


@dataclass
class StudentOutcome:
    student: str
    status: str  # one of the statuses in coursetools.intake
    notes: list[str] = field(default_factory=list)  # what was repaired or went wrong, for the instructor
    log: str = ""  # nbgrader's own log of this student's grading
    timings: dict = field(default_factory=dict)  # seconds per phase (coursetools.engine.timing)
    fingerprint: str = ""  # of the hand-in as graded and the course version; empty when not gradable
    unchanged: bool = False  # the request's fingerprint matched: nothing was graded again

    @property
    def graded(self) -> bool:
        return intake.is_graded(self.status)


@dataclass
class Request:
    """One student for a grading job, with what it needs to tell an unchanged hand-in."""
    student: str
    course_version: str = ""
    previous: str = ""  # the fingerprint of this student's last grading, if it can be reused


def fingerprint(course_version: str, received: intake.Intake) -> str:
    """What grading depends on: the course version, and the hand-in as intake read and found it
    (the notebook's name and intake's notes too: a renamed or repaired notebook is noted anew)."""
    digest = hashlib.sha256(course_version.encode())
    digest.update(json.dumps([received.notebook.name if received.notebook else "", received.status,
                              received.notes], sort_keys=True).encode("utf-8", "surrogateescape"))
    digest.update(json.dumps(received.nb, sort_keys=True).encode())
    for relative in sorted(received.files):
        digest.update(b"\0file\0" + relative.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(hashlib.sha256(received.files[relative]).digest())
    digest.update(b"\0timestamp\0" + (received.timestamp or b""))
    return digest.hexdigest()


# How a stopped execution shows in the status, and what the note tells the instructor
STOPPED = {
    execute.TIMEOUT: (intake.TIMED_OUT, "a cell ran past the time limit; points up to it kept, later checks not run"),
    execute.KERNEL_DIED: (intake.KERNEL_DIED, "the kernel died; points up to it kept, later checks not run"),
}


REPORTED_ERROR = re.compile(r"\s*[\w.]+(Error|Exception|Exit|Refused|TooLarge): ")


def last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no details given"


def failure_reason(result: dict) -> str:
    """The most specific error nbgrader logged, rather than its generic closing line."""
    errors = [line.strip() for line in (result.get("log") or "").splitlines()
              if REPORTED_ERROR.match(line) and "NbGraderException" not in line]
    return errors[-1] if errors else last_line(result.get("error") or result.get("log"))


def forget_previous_grading(db_url: str, root: Path, student: str) -> None:
    """A hand-in that cannot be graded now must not show the scores of an earlier run, or of this one's start."""
    with Gradebook(db_url) as gradebook:
        try:
            gradebook.remove_submission(course.ASSIGNMENT, student)
        except MissingEntry:
            pass
    for folder in (course.autograded_notebook(root, student).parent, course.feedback_file(root, student).parent):
        shutil.rmtree(folder, ignore_errors=True)


def autograde(api: NbGraderAPI, root: Path, received: intake.Intake, release) -> StudentOutcome:
    intake.stage(root, received, release)
    try:
        result = api.autograde(course.ASSIGNMENT, received.student, force=True, create=True)
    finally:
        warm_kernel.discard()  # a kernel started ahead for a notebook that never ran
    log = result.get("log") or ""
    if not result["success"]:
        return StudentOutcome(received.student, intake.NOT_GRADED, [*received.notes, failure_reason(result)],
                              log or result.get("error") or "")
    graded_nb = notebooks.read(course.autograded_notebook(root, received.student))
    notes = [*received.notes, *recheck.instructor_notes(graded_nb)]
    stopped = execute.stop_reason(graded_nb)
    if stopped:
        status, why = STOPPED[stopped]
        return StudentOutcome(received.student, status, [*notes, why], log)
    return StudentOutcome(received.student, received.status, notes, log)


def write_feedback(api: NbGraderAPI, outcome: StudentOutcome) -> StudentOutcome:
    result = api.generate_feedback(course.ASSIGNMENT, outcome.student, force=True)
    if result["success"]:
        return outcome
    return StudentOutcome(outcome.student, intake.NOT_GRADED,
                          [*outcome.notes, f"feedback could not be written: {failure_reason(result)}"],
                          outcome.log + (result.get("log") or result.get("error") or ""))


def grade_one(api: NbGraderAPI, root: Path, request: Request, release, release_ids: set[str]) -> StudentOutcome:
    """Everything for one student; any failure is theirs alone, with no stale scores left behind."""
    try:
        with student_lock.held(api.coursedir.db_url, root, request.student):
            return grade_alone(api, root, request, release, release_ids)
    except student_lock.Busy:  # nothing of this student was touched: the other run's grading stands
        return StudentOutcome(request.student, intake.BUSY, [
            f"another grading run was grading this hand-in for over {student_lock.WAIT} s; its result stands. "
            "Run `make grade` again once it has finished to see it here"])


def grade_alone(api: NbGraderAPI, root: Path, request: Request, release, release_ids: set[str]) -> StudentOutcome:
    student, seen = request.student, ""
    timing.reset()
    try:
        with timing.phase("intake"):
            received = intake.inspect(root, student, release_ids)
        if not received.gradable:
            outcome = StudentOutcome(student, received.status, received.notes)
        else:
            seen = fingerprint(request.course_version, received)
            if request.previous and seen == request.previous:
                return StudentOutcome(student, received.status, received.notes, fingerprint=seen, unchanged=True)
            started = time.perf_counter()
            outcome = autograde(api, root, received, release)
            # nbgrader's own work around the kernel and the recheck: copies, checks, gradebook rows
            spent = timing.spent()
            timing.add("gradebook", time.perf_counter() - started -
                       sum(spent.get(name, 0.0) for name in ("kernel_start", "execution", "recheck")))
            if outcome.graded:
                with timing.phase("feedback"):
                    outcome = write_feedback(api, outcome)
    except Exception as error:  # noqa: BLE001 (a bug or an odd hand-in: this student's status, never the batch's)
        outcome = StudentOutcome(student, intake.NOT_GRADED,
                                 [f"grading failed: {type(error).__name__}: {error}"], traceback.format_exc())
    outcome.timings = timing.spent()
    outcome.fingerprint = seen if outcome.graded else ""
    return forget_safely(api.coursedir.db_url, root, outcome)


def forget_safely(db_url: str, root: Path, outcome: StudentOutcome) -> StudentOutcome:
    """`forget_previous_grading` for a hand-in that was not graded, as a note if even that fails."""
    if outcome.graded or handin.student_id_problem(outcome.student):  # a refused id never reached the gradebook
        return outcome
    try:
        forget_previous_grading(db_url, root, outcome.student)
    except Exception as error:  # noqa: BLE001 (the batch goes on; the instructor learns what is left over)
        outcome.notes.append(f"earlier scores could not be removed ({type(error).__name__}): check the gradebook")
    return outcome


def forget_after_a_lost_job(db_url: str, root: Path, outcome: StudentOutcome) -> StudentOutcome:
    """`forget_safely` for a job that was killed or lost, from outside it: under the student's lock,
    so that a grading another run has begun since is never what gets removed."""
    try:
        with student_lock.held(db_url, root, outcome.student):
            return forget_safely(db_url, root, outcome)
    except student_lock.Busy:
        outcome.notes.append("another grading run has taken this hand-in up since; its result will stand")
        return outcome


def serve(root: Path, sandboxed: bool, requests, answers) -> None:
    """Grade each student named on `requests`, answering on `answers`, until `requests` ends."""
    from coursetools import pipeline  # the course-level steps; imported here to keep start-up order clear

    speedups.install()  # nbgrader's set-up once per worker rather than once per use
    with pipeline.inside(root):
        api = release = release_ids = None
        for line in requests:
            request = Request(**json.loads(line))
            if api is None:  # only now: a worker may start while the release is still being generated
                api = pipeline.open_api(root, sandboxed, check=False)
                if sandboxed:
                    try:  # once here, rather than in each kernel's launcher
                        sandbox.check_available()
                    except sandbox.Unavailable:
                        pass  # each kernel then checks, and fails with the reason
                release = notebooks.read(course.release_notebook(root))
                release_ids = notebooks.grade_ids(release)
            outcome = grade_one(api, root, request, release, release_ids)
            answers.write(json.dumps(asdict(outcome)) + "\n")
            answers.flush()


def remove_own_scratch() -> None:
    """Remove the temporary folder the pool made for this job (the pool removes it too, if it can)."""
    scratch = os.environ.get(JOB_SCRATCH_VARIABLE)
    if scratch:
        shutil.rmtree(scratch, ignore_errors=True)


def die_with_parent(interval: float = 0.5) -> None:
    """End this job, and the kernels in its process group, as soon as whoever started it is gone.

    A grader killed outright (or a cluster worker lost with its machine's
    batch job) must not leave a job behind that goes on writing a student's
    rows while another job grades that student again.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        remove_own_scratch()  # the pool that would have removed it went with the parent
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def main(argv=None) -> int:
    warnings.filterwarnings("ignore", category=SAWarning)  # see coursetools.grade
    # nbformat warns about a hand-in's odd cell ids on the terminal, quoting them: intake repairs them
    warnings.filterwarnings("ignore", module=r"nbformat(\..*)?$")
    parser = argparse.ArgumentParser(prog="python -m coursetools.handin_job", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--no-sandbox", dest="sandboxed", action="store_false")
    args = parser.parse_args(argv)
    die_with_parent()
    sandbox.use_own_sandbox_user()  # jobs side by side never share a process count
    # Answers go on the original stdout; anything else printed, by Python or a library, goes to stderr
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        serve(args.root.resolve(), args.sandboxed, sys.stdin, answers)
    finally:  # the end of the requests: the pool is done with this job, or is gone
        remove_own_scratch()
    return 0


if __name__ == "__main__":
    sys.exit(main())

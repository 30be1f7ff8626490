"""Confirm every passing check outside the student's kernel, and record the verdict in that check cell.

Runs in nbgrader's autograde step right after the hand-in has been executed
(see nbgrader_config.py), before nbgrader saves the scores. For each check
that passed in the kernel:

1. **Read back.** The value the check saw, read from the kernel as plain
   numbers by `execute.GradingExecute`, must equal the lesson's value here,
   outside the kernel, so a patched `math.isclose`, a shadowed `all` or a
   class that always compares equal earns nothing.
2. **Secret inputs.** Each computed result must follow its exercise's names:
   the hand-in runs again in the sandbox (`recheck_runner.py`) with those
   names pinned to secret values (`secret_inputs.py`), and the result must be
   what the formula gives for them, compared here. A typed-in number, or one
   copied from the printout, does not follow.

A check that fails either gets an error output saying why, in words for the
student, followed by a line for the instructor. nbgrader then scores it 0
like any failed check, so the gradebook, the formgrader, the feedback and
grades.csv all agree. Such a check passed in the kernel, so
`FlagForReview` marks it for manual review in the formgrader.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer, Unicode

from coursetools import notebooks
from coursetools.engine import answer_key, sandbox, secret_inputs, timing
from coursetools.engine.execute import KEPT_SANDBOX
from coursetools.notebooks import grade_id

RUNNER = Path(__file__).with_name("recheck_runner.py")
ENAME = "RecheckFailed"
INSTRUCTOR_PREFIX = "Note for the instructor: "
REPORT_LIMIT = 1024**2  # bytes of runner output read at most; anything past it is a flood
DONE = json.dumps({"done": True}).encode()  # the runner's last report, exactly as it writes it
# Seconds for the kernel's kept sandbox to report the rerun started (it only kills, clears and
# loads the runner, in well under a second); past that, the rerun starts in a sandbox of its own
KEPT_FIRST_REPORT = 5
WATCHDOG_GRACE = 5  # seconds of silence beyond the cell time limit before a stuck rerun is stopped


@dataclass
class Verdict:
    student: str  # what the student reads under the check
    instructor: str  # which of the failure kinds it was, with detail


@dataclass
class RerunReport:
    values: dict = field(default_factory=dict)  # check id -> plain value read before that check
    errors: dict = field(default_factory=dict)  # cell index -> "Type: message" of a student cell that raised
    finished: bool = False
    problem: str = ""  # why the rerun stopped early, for the instructor


def is_course_cell(cell) -> bool:
    meta = notebooks.nbgrader_meta(cell)
    return bool(meta.get("grade") or meta.get("locked"))


def raised(cell) -> bool:
    return any(output.output_type == "error" for output in cell.get("outputs", []))


def exercise_of_each_cell(nb) -> list:
    """The exercise every cell belongs to: from just after the previous exercise's last check to its own."""
    last_check = {}
    for index, cell in enumerate(nb.cells):
        if notebooks.is_test_cell(cell):
            last_check[notebooks.exercise_of(grade_id(cell))] = index
    bounds = sorted((index, exercise) for exercise, index in last_check.items())
    owners = []
    for index in range(len(nb.cells)):
        owners.append(next((exercise for last, exercise in bounds if index <= last), None))
    return owners


def rerun_plan(nb, pins: dict, stop_at: int, cell_timeout: int) -> dict:
    """The runner's plan: every code cell before `stop_at`, with the results to read on the way."""
    owners = exercise_of_each_cell(nb)
    cells = []
    for index, cell in enumerate(nb.cells[:stop_at + 1]):
        if cell.cell_type != "code":
            continue
        computation = answer_key.COMPUTATIONS.get(grade_id(cell)) if notebooks.is_test_cell(cell) else None
        step = {"index": index, "source": cell.source, "exercise": owners[index], "student": not is_course_cell(cell),
                "kernel_raised": raised(cell)}
        if computation and computation.exercise in pins:  # only the results this rerun judges are read
            step["read"] = {"check": computation.check, "name": computation.result}
        if index == stop_at:  # only the read before it is wanted
            step["source"] = ""
        cells.append(step)
    return {"cells": cells, "pins": pins, "cell_timeout": cell_timeout}


class Progress:
    """The runner's output lines, read on a thread, with the time of the last one.

    `over` is set once the runner has said it is done, or has closed its
    output (it ended): the rerun need not wait for the process to exit.
    """

    def __init__(self, stream):
        self.lines, self.size, self.last = [], 0, time.monotonic()
        self.over = threading.Event()
        self.thread = threading.Thread(target=self.read, args=(stream,), daemon=True)
        self.thread.start()

    def read(self, stream) -> None:
        try:
            while line := stream.readline(65536):
                self.size += len(line)
                if self.size > REPORT_LIMIT:  # a flood, not reports: stop listening, and the watchdog stops it
                    return
                self.lines.append(line)
                self.last = time.monotonic()
                if line.strip() == DONE:
                    return
        finally:
            self.over.set()


def stop(process) -> None:
    """Kill the runner and everything it started (its own process group; bwrap takes its sandbox along)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def start_runner(sandboxed: bool, folder, scratch):
    """A sandbox of its own for the runner (or, unsandboxed, a process in `scratch`), with the
    notebook's companion files; returns the process and the streams for the plan and the reports."""
    argv = [sys.executable, "-E", "-s", "-c", RUNNER.read_text()]
    if scratch:  # the notebook's companion files, as the kernel had them
        for host, inside in sandbox.handin_files(folder):
            target = Path(scratch) / Path(inside).relative_to(sandbox.SCRATCH)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(host, target)
    command = sandbox.command(argv, read_only_files=sandbox.handin_files(folder)) if sandboxed else argv
    process = subprocess.Popen(command, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=scratch or "/",
                               preexec_fn=sandbox.apply_limits, start_new_session=True)
    return process, process.stdin, process.stdout


def run_rerun(plan: dict, sandboxed: bool, timeout: float, folder=None, kept=None) -> RerunReport:
    """Start the runner (in the sandbox unless told otherwise) and collect its reports.

    The runner runs in `kept`, the kernel's own sandbox kept for it
    (`kept_sandbox`), when it is still there and starts the rerun in time;
    else in a sandbox of its own. Student code can stop the kept sandbox's
    process (SIGSTOP cannot be ignored): that costs a few seconds, not a point.

    The runner reports before every cell; a cell that keeps it silent for
    longer than the cell time limit (one that ignores the runner's own alarm)
    stops it, and so does the whole rerun's `timeout`.
    """
    started = time.monotonic()
    if kept is not None and sandboxed and kept.can_rerun():
        report = watch_runner(*kept.begin_rerun(RUNNER.read_text()), plan, timeout, first_report=KEPT_FIRST_REPORT)
        if report is not None:
            return report
    # unsandboxed (--no-sandbox), the rerun still works in a folder of its own
    scratch = None if sandboxed else tempfile.mkdtemp(prefix="course-recheck-")
    try:
        return watch_runner(*start_runner(sandboxed, folder, scratch), plan,
                            max(1.0, timeout - (time.monotonic() - started)))
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def send_plan(stream, data: bytes) -> None:
    """On a thread of its own: a runner that stops reading never holds up the watchdog."""
    try:
        stream.write(data)
        stream.close()
    except (OSError, ValueError):  # the runner is gone, or was stopped and killed
        pass


def watch_runner(process, plan_stream, report_stream, plan: dict, timeout: float, first_report=None):
    """Send the plan and collect the reports under the watchdog; None if `first_report` seconds passed
    without a report (the runner was stopped then, and another may be started)."""
    progress = Progress(report_stream)
    writer = threading.Thread(target=send_plan, args=(plan_stream, json.dumps(plan).encode()), daemon=True)
    writer.start()
    started = time.monotonic()
    deadline, silence = started + timeout, plan["cell_timeout"] + WATCHDOG_GRACE
    problem, never_started = "", False
    while not progress.over.is_set() and process.poll() is None:
        now = time.monotonic()
        waiting_for_first = first_report is not None and not progress.lines
        if waiting_for_first and now - started > first_report:
            never_started = True
        elif now > deadline:
            problem = f"the rerun ran past {timeout:.0f} s and was stopped"
        elif now - progress.last > silence:
            problem = "a cell ran past its time limit in the rerun and ignored the alarm"
        if problem or never_started:
            break
        due = min(deadline, progress.last + silence, started + first_report if waiting_for_first else deadline)
        # wakes as soon as the runner is done or ends, or when the nearer limit is due for a look
        progress.over.wait(timeout=max(0.01, due - now))
    stop(process)  # done or not, nothing more is wanted from it
    progress.thread.join(timeout=5)
    writer.join(timeout=5)
    report_stream.close()
    if never_started:
        return None
    parsed = parse_reports(progress.lines)
    parsed.problem = problem
    if not parsed.finished and not parsed.problem:
        parsed.problem = "the rerun stopped early (the process ended or hit a limit)"
    return parsed


def parse_reports(lines) -> RerunReport:
    """The runner's JSON lines. They come from a process that ran student code: only well-formed
    messages about known checks count, the first for each check."""
    report = RerunReport()
    for line in lines:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if not isinstance(message, dict):
            continue
        check, cell = message.get("check"), message.get("cell")
        if isinstance(check, str) and check in answer_key.COMPUTATIONS:
            report.values.setdefault(check, message.get("value"))
        elif isinstance(cell, int) and not isinstance(cell, bool) and "error" in message:
            report.errors.setdefault(cell, str(message["error"])[:300])
        elif message.get("done") is True:
            report.finished = True
    return report


def read_back_verdict(check: answer_key.Check) -> Verdict:
    return Verdict(
        f"`{check.name}` passed the check in your notebook, but read back as plain numbers it is not what the "
        "check asks for: store plain numbers (a list, a tuple or a NumPy array) and leave the checks as they are",
        "the value read back from the kernel differs from the check's (the kernel's check was fooled, "
        "or the value is of an unusual type)")


def rerun_verdict(computation: answer_key.Computation, value, report: RerunReport, new_errors: list) -> Verdict:
    names, result = computation.names, f"`{computation.result}`"
    if computation.check not in report.values:
        return Verdict(f"the grader could not finish running {computation.title} again with other values of "
                       f"{names}, so {result} could not be confirmed; your instructor will look at it",
                       f"a recheck that could not finish: {report.problem}")
    if new_errors:
        return Verdict(f"your code for {computation.title} raised an error when the grader ran it again with other "
                       f"values of {names}: make sure it works for any values of those names",
                       f"code that raised in the recheck: {new_errors[0]}")
    lesson_result = answer_key.CHECKS[computation.check].expected
    if answer_key.matches(value, lesson_result, answer_key.COMPUTED_TOLERANCE):
        return Verdict(f"{result} did not change when {names} changed: "
                       "compute it from those names instead of typing the number",
                       "a result that did not follow its inputs: it kept the lesson's value (typed in?)")
    return Verdict(f"{result} was not right when the grader ran {computation.title} again with other values of "
                   f"{names}: compute it from those names only, so that it works for any values",
                   "a result that did not follow its inputs: wrong for the secret inputs")


def fail_check(cell, verdict: Verdict) -> None:
    cell.outputs.append(NotebookNode(output_type="error", ename=ENAME, evalue=verdict.student, traceback=[
        f"{ENAME}: {verdict.student}", INSTRUCTOR_PREFIX + verdict.instructor]))


def drop_result_outputs(cell) -> None:
    """A check prints nothing and returns nothing; a value shown under it came from student hooks,
    and nbgrader would read it as partial credit."""
    cell.outputs = [o for o in cell.get("outputs", []) if o.output_type in ("stream", "error")]


def instructor_notes(nb) -> list[str]:
    """The instructor's line of every recheck failure in an autograded notebook, with its check."""
    notes = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") == ENAME:
                detail = next((line[len(INSTRUCTOR_PREFIX):] for line in output.get("traceback", [])
                               if line.startswith(INSTRUCTOR_PREFIX)), "")
                notes.append(f"{grade_id(cell)}: {detail}")
    return notes


class Recheck(NbGraderPreprocessor):
    """Confirm passing checks outside the kernel; fail and flag those that are not confirmed."""

    sandboxed = Bool(True, help="Run the rerun inside the bubblewrap sandbox (only --no-sandbox turns this off)."
                     ).tag(config=True)
    secret_file = Unicode("", help="The per-course key the secret inputs are drawn from; created if missing."
                          ).tag(config=True)
    cell_timeout = Integer(0, help="Seconds one cell may run in the rerun; 0: as long as Execute.timeout allows."
                           ).tag(config=True)
    # more than GradingExecute.total_timeout: a notebook the kernel ran to the end must fit in its rerun
    timeout = Integer(360, help="Seconds the whole rerun may take.").tag(config=True)

    def preprocess(self, nb, resources):
        course = resources.get("course", {})
        if "kernel_values" not in course:
            raise RuntimeError("the recheck needs the values read back by coursetools.engine.execute.GradingExecute: "
                               "use it in place of nbgrader's Execute in Autograde.autograde_preprocessors "
                               "(the course's nbgrader_config.py does)")
        if not self.secret_file:
            raise RuntimeError("Recheck.secret_file is not set: point it at the course's key file in "
                               "nbgrader_config.py (the course's config does)")
        review = course.setdefault("review", [])
        kept = course.pop(KEPT_SANDBOX, None)
        try:
            self.confirm(nb, resources, review, kept)
        finally:
            if kept is not None:
                kept.end()  # used or not, the kernel's sandbox ends here
        return nb, resources

    def confirm(self, nb, resources, review: list, kept) -> None:
        course = resources["course"]
        confirmed_so_far = []
        for index, cell in enumerate(nb.cells):
            if not notebooks.is_test_cell(cell):
                continue
            drop_result_outputs(cell)
            check = answer_key.CHECKS.get(grade_id(cell))
            if check is None or raised(cell):
                continue
            if answer_key.matches(course["kernel_values"].get(check.grade_id), check.expected, check.tolerance):
                confirmed_so_far.append(index)
            else:
                self.fail(cell, read_back_verdict(check), review)
        computed = [i for i in confirmed_so_far if grade_id(nb.cells[i]) in answer_key.COMPUTATIONS]
        if computed:
            with timing.phase("recheck"):
                self.confirm_computations(nb, resources, computed, review, kept)

    def confirm_computations(self, nb, resources, indices: list[int], review: list, kept=None) -> None:
        """Rerun the hand-in with secret inputs and judge each computed result in `indices`.

        One rerun confirms them all. When a rerun stops early (the student's
        code exited, hung or hit a limit on the secret inputs), the result it
        stopped before cannot be confirmed, and the ones after it get a rerun
        of their own in which the exercises already judged keep the lesson's
        values: one exercise's trouble never costs another exercise's points.
        """
        student, assignment = resources["nbgrader"]["student"], resources["nbgrader"]["assignment"]
        secret = secret_inputs.course_secret(Path(self.secret_file))
        cell_timeout = self.cell_timeout or self.config.Execute.get("timeout", 30)
        deadline = time.monotonic() + self.timeout
        pending = list(indices)
        while pending:
            computations = {i: answer_key.COMPUTATIONS[grade_id(nb.cells[i])] for i in pending}
            pins = {c.exercise: secret_inputs.draw(secret, assignment, student, c) for c in computations.values()}
            plan = rerun_plan(nb, {c.exercise: {name: {"secret": pins[c.exercise][name], "lesson": lesson_value}
                                                for name, (lesson_value, _) in c.inputs.items()}
                                   for c in computations.values()}, max(pending), cell_timeout)
            report = run_rerun(plan, self.sandboxed, max(1, round(deadline - time.monotonic())),
                               resources.get("metadata", {}).get("path"), kept)
            stopped_before = None
            for index, computation in computations.items():
                value = report.values.get(computation.check)
                if computation.check not in report.values:
                    stopped_before = index
                    break
                if answer_key.matches(value, computation.formula(pins[computation.exercise]),
                                      answer_key.COMPUTED_TOLERANCE):
                    continue
                # errors the kernel run did not have, in the cells that lead up to this result
                new_errors = [error for cell_index, error in sorted(report.errors.items())
                              if cell_index < index and not raised(nb.cells[cell_index])]
                self.fail(nb.cells[index], rerun_verdict(computation, value, report, new_errors), review)
            if stopped_before is None:
                return
            self.fail(nb.cells[stopped_before], rerun_verdict(computations[stopped_before], None, report, []), review)
            pending = [i for i in pending if i > stopped_before]
            if time.monotonic() >= deadline:
                report.problem = f"the recheck ran out of its {self.timeout} s"
                for index in pending:
                    self.fail(nb.cells[index], rerun_verdict(computations[index], None, report, []), review)
                return

    @staticmethod
    def fail(cell, verdict: Verdict, review: list) -> None:
        fail_check(cell, verdict)
        review.append(grade_id(cell))


class FlagForReview(NbGraderPreprocessor):
    """After nbgrader has saved the scores: flag every check the recheck failed for manual review.

    They passed in the student's kernel, so the formgrader lists them under
    "needs manual grade" where an instructor can look and, if the recheck was
    wrong, give the points by hand.
    """

    def preprocess(self, nb, resources):
        review = resources.get("course", {}).get("review", [])
        if review:
            info = resources["nbgrader"]
            with Gradebook(info["db_url"]) as gradebook:
                for check_id in review:
                    grade = gradebook.find_grade(check_id, info["notebook"], info["assignment"], info["student"])
                    grade.needs_manual_grade = True
                gradebook.db.commit()
        return nb, resources

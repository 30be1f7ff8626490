"""Grading workers: each hand-in is graded in a process apart, under a time budget and a memory ceiling.

The batch never runs student-facing work itself. It hands students, one at
a time, to worker processes (`coursetools.handin_job`) and waits for each
answer for at most `HandInJob.wall_budget` seconds. A worker that runs past
it, runs out of memory (`HandInJob.memory_limit`, an address-space limit
that the sandboxed kernels it starts stay within too) or dies is killed
with everything it started, and that student alone gets a status saying
so; a fresh worker takes the next student. Workers are reused between
students to spare nbgrader's start-up, and replaced every
`HandInJob.jobs_per_worker` students so no state builds up.
"""

import dataclasses
import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from traitlets import Integer
from traitlets.config import Configurable

from coursetools import intake
from coursetools.course import GRADEBOOK_URL_VARIABLE
from coursetools.handin_job import JOB_SCRATCH_VARIABLE, Request, StudentOutcome, forget_after_a_lost_job


class HandInJob(Configurable):
    """Limits of one hand-in's grading job (set in nbgrader_config.py, read by `make grade`)."""

    wall_budget = Integer(300, help="Seconds one hand-in's whole grading may take, feedback included.").tag(config=True)
    memory_limit = Integer(4 * 1024**3, help="Bytes of address space a grading worker may use.").tag(config=True)
    jobs_per_worker = Integer(100, help="Hand-ins a worker grades before a fresh one replaces it.").tag(config=True)


@dataclass
class Worker:
    process: subprocess.Popen
    scratch: str  # the worker's temporary folder (TMPDIR), removed with the worker however it ends
    jobs_done: int = 0
    student: str | None = None
    started: float = 0.0
    buffer: bytes = b""


def close_quietly(worker: Worker, streams=("stdin", "stdout")) -> None:
    """Close a worker's pipes; one that died with a request still buffered makes closing fail, harmlessly."""
    for name in streams:
        try:
            getattr(worker.process, name).close()
        except OSError:
            pass


def limit_memory(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


class WorkerPool:
    """Grade students in worker processes, `size` at a time, each job under the budget."""

    def __init__(self, root: Path, db_url: str, limits: HandInJob, sandboxed: bool = True, size: int = 1,
                 keep_warm: bool = False):
        self.root, self.db_url, self.limits, self.sandboxed, self.size = root, db_url, limits, sandboxed, size
        self.keep_warm = keep_warm  # keep idle workers between calls to `grade` (a cluster worker's pool)
        self.selector = selectors.DefaultSelector()
        self.warm: list[Worker] = []

    def warm_up(self, count: int) -> None:
        """Start workers now, so their imports overlap whatever the batch does before grading."""
        self.warm += [self.start_worker() for _ in range(min(self.size, count) - len(self.warm))]

    def close(self) -> None:
        """Let workers started ahead of need go, when the batch ends before grading anyone."""
        for worker in self.warm:
            self.retire(worker)
        self.warm = []

    def start_worker(self) -> Worker:
        argv = [sys.executable, "-m", "coursetools.handin_job", "--root", str(self.root)]
        if not self.sandboxed:
            argv.append("--no-sandbox")
        # the job finds the gradebook the batch uses, whatever the course's default; whatever it
        # puts in a temporary folder (its kernels' socket folders, say) goes in one of its own,
        # removed here even when the job is killed and cannot tidy up
        scratch = tempfile.mkdtemp(prefix="course-job-")
        environment = {**os.environ, GRADEBOOK_URL_VARIABLE: self.db_url, "TMPDIR": scratch,
                       JOB_SCRATCH_VARIABLE: scratch}
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment,
                                   cwd=self.root, start_new_session=True,
                                   preexec_fn=limit_memory(self.limits.memory_limit))
        os.set_blocking(process.stdout.fileno(), False)
        worker = Worker(process, scratch)
        self.selector.register(process.stdout, selectors.EVENT_READ, worker)
        return worker

    def stop_worker(self, worker: Worker) -> None:
        """Kill a worker and everything it started (its kernels die with it: `--die-with-parent`)."""
        self.selector.unregister(worker.process.stdout)
        try:
            os.killpg(worker.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        worker.process.wait()
        close_quietly(worker)
        shutil.rmtree(worker.scratch, ignore_errors=True)

    def retire(self, worker: Worker) -> None:
        """Let a healthy worker finish on its own: end of its input is its signal to exit."""
        self.selector.unregister(worker.process.stdout)
        close_quietly(worker, streams=("stdin",))
        try:
            worker.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.process.pid, signal.SIGKILL)
            worker.process.wait()
        close_quietly(worker)
        shutil.rmtree(worker.scratch, ignore_errors=True)

    def assign(self, worker: Worker, request: Request) -> None:
        worker.student, worker.started, worker.buffer = request.student, time.monotonic(), b""
        try:
            worker.process.stdin.write((json.dumps(dataclasses.asdict(request)) + "\n").encode())
            worker.process.stdin.flush()
        except BrokenPipeError:
            pass  # the worker died at start; its answer will be the end of its output

    def grade(self, requests: list[Request], on_outcome=lambda outcome: None) -> list[StudentOutcome]:
        """One outcome per request, in the order given, whatever happened to any of them."""
        outcomes: dict[str, StudentOutcome] = {}
        queue = list(requests)
        idle, self.warm = self.warm, []
        idle += [self.start_worker() for _ in range(min(self.size, len(queue)) - len(idle))]
        busy: list[Worker] = []
        while queue or busy:
            while queue and idle:
                worker = idle.pop()
                self.assign(worker, queue.pop(0))
                busy.append(worker)
            nearest = min(w.started + self.limits.wall_budget for w in busy)
            for key, _ in self.selector.select(timeout=max(0.0, nearest - time.monotonic())):
                worker = key.data
                outcome = self.read_answer(worker)
                if outcome is None:
                    continue
                if worker.student is None:  # an idle worker ended on its own: replace it when needed
                    self.stop_worker(worker)
                    idle.remove(worker)
                    continue
                busy.remove(worker)
                if worker.process.poll() is not None:  # a worker that died could not clean up after itself
                    outcome = forget_after_a_lost_job(self.db_url, self.root, outcome)
                outcomes[worker.student] = outcome
                on_outcome(outcome)
                worker = self.after_job(worker, healthy=worker.process.poll() is None, needed=bool(queue))
                if worker is not None:
                    idle.append(worker)
            for worker in [w for w in busy if time.monotonic() > w.started + self.limits.wall_budget]:
                busy.remove(worker)
                outcome = StudentOutcome(worker.student, intake.STOPPED, [
                    f"grading this hand-in ran past its {self.limits.wall_budget} s budget and was stopped; "
                    "no points kept. If the notebook is honest but slow, raise c.HandInJob.wall_budget in "
                    "nbgrader_config.py and grade again"])
                self.stop_worker(worker)
                outcome = forget_after_a_lost_job(self.db_url, self.root, outcome)  # whatever it had begun to write
                outcomes[worker.student] = outcome
                on_outcome(outcome)
                if queue:
                    idle.append(self.start_worker())
        if self.keep_warm:
            self.warm = idle
        else:
            for worker in idle:
                self.retire(worker)
        return [outcomes[request.student] for request in requests]

    def read_answer(self, worker: Worker) -> StudentOutcome | None:
        """The worker's answer once a whole line has arrived; a made-up one if the worker died."""
        chunk = worker.process.stdout.read()
        if chunk:
            worker.buffer += chunk
            if b"\n" not in worker.buffer:
                return None
            line = worker.buffer.split(b"\n", 1)[0]
            return StudentOutcome(**json.loads(line))
        if chunk is None:  # nothing to read yet
            return None
        code = worker.process.wait()
        why = (f"killed by signal {-code}" if code < 0 else f"exit code {code}")
        return StudentOutcome(worker.student, intake.NOT_GRADED, [
            f"the process grading this hand-in stopped ({why}); it may have needed more than the "
            f"{self.limits.memory_limit / 1024**3:g} GiB memory ceiling (c.HandInJob.memory_limit)"])

    def after_job(self, worker: Worker, healthy: bool, needed: bool) -> Worker | None:
        """The worker for the next job: this one, a fresh one after a failure or enough jobs, or none."""
        worker.jobs_done += 1
        worker.student = None
        if healthy and worker.jobs_done < self.limits.jobs_per_worker:
            return worker
        if healthy:
            self.retire(worker)
        else:
            self.stop_worker(worker)
        return self.start_worker() if needed else None

"""Grading on a Dask cluster: each hand-in is one task, graded whole by whichever worker takes it.

The driver (`make grade SCHEDULER=tcp://host:8786 DB=postgresql://...`)
submits one task per student and collects the outcomes as they come. The
workers grade in their own sandboxes and write to the shared PostgreSQL
gradebook; every worker machine sees the course folder at the same path.
A worker lost in the middle of a hand-in is noticed by the scheduler, which
gives the task to another worker; the per-student lock
(`coursetools.student_lock`) keeps the two attempts from overlapping.
"""

import dataclasses
import sys
import uuid

from sqlalchemy.engine import make_url

from coursetools import intake
from coursetools.handin_job import Request, StudentOutcome, forget_after_a_lost_job

CONNECT_TIMEOUT = "10s"
WORKERS_TIMEOUT = 60  # seconds to wait for a first worker to join the scheduler


class ClusterUnavailable(RuntimeError):
    """The scheduler cannot be reached or has nobody to grade."""


def task_sent_by_value():
    """The task function. Defined in here, it is pickled whole rather than by its module's name, so a
    worker needs nothing of the course importable beforehand: it puts the course's own `coursetools`
    on its path, then grades."""
    def grade_on_worker(root, *arguments):
        if root not in sys.path:
            sys.path.insert(0, root)
        from coursetools.cluster_task import run_job
        return run_job(root, *arguments)
    return grade_on_worker


def shown_url(db_url: str) -> str:
    return make_url(db_url).render_as_string(hide_password=True)


class ClusterPool:
    """The `WorkerPool` interface, on a Dask scheduler's workers."""

    def __init__(self, address: str, root, db_url: str, limits, sandboxed: bool = True):
        from distributed import Client  # only a cluster run needs it loaded

        if db_url.startswith("sqlite"):
            raise ClusterUnavailable(
                "a cluster needs a gradebook every machine can write to: pass DB=postgresql://user@host/database "
                "(an SQLite file cannot be shared between machines safely)")
        self.root, self.db_url, self.sandboxed = root, db_url, sandboxed
        self.limits = {name: getattr(limits, name) for name in ("wall_budget", "memory_limit", "jobs_per_worker")}
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise ClusterUnavailable(
                f"cannot reach the Dask scheduler at {address} ({type(error).__name__}: {error}). Check that "
                f"`dask scheduler` is running there, that the address and port are right, and that this "
                f"machine may connect to it; nothing was graded") from None
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
        except TimeoutError:
            self.client.close()
            raise ClusterUnavailable(
                f"the Dask scheduler at {address} has no workers after {WORKERS_TIMEOUT} s: start some on "
                f"machines that see this course folder with `dask worker {address} --nthreads 1`") from None

    def warm_up(self, count: int) -> None:
        """Cluster workers keep their grading processes between tasks: nothing to start here."""

    def close(self) -> None:
        self.client.close()

    def grade(self, requests: list[Request], on_outcome=lambda outcome: None) -> list[StudentOutcome]:
        from distributed import as_completed

        batch, task = uuid.uuid4().hex[:8], task_sent_by_value()
        futures = {}
        for number, request in enumerate(requests):
            future = self.client.submit(task, str(self.root), self.db_url, self.sandboxed, self.limits,
                                        dataclasses.asdict(request), key=f"grade-{batch}-{number}", pure=False)
            futures[future] = request
        outcomes = {}
        for future in as_completed(futures, loop=self.client.loop):
            request = futures[future]
            try:
                outcome = StudentOutcome(**future.result())
            except Exception as error:  # noqa: BLE001 (a lost task is this student's status, not the batch's)
                outcome = forget_after_a_lost_job(self.db_url, self.root, StudentOutcome(request.student, intake.NOT_GRADED, [
                    f"the cluster could not grade this hand-in ({type(error).__name__}: {error}); "
                    "check the workers' logs, then grade this student again with STUDENT="]))
            future.release()
            outcomes[request.student] = outcome
            on_outcome(outcome)
        return [outcomes[request.student] for request in requests]

"""The grading job as a cluster task: what a Dask worker runs for one hand-in.

A Dask worker process keeps one grading worker of its own (the same
`coursetools.workers.WorkerPool` that `make grade` uses on one machine), so
each hand-in is still graded in a separate process, in the sandbox, under
the wall budget and the memory ceiling, and the job process is reused
between hand-ins to spare nbgrader's start-up. A lost Dask worker takes
its job and the job's kernels with it (`handin_job.die_with_parent`).
"""

import dataclasses
import threading
from pathlib import Path

from coursetools import course
from coursetools.handin_job import Request
from coursetools.workers import HandInJob, WorkerPool

_pools: dict[tuple, WorkerPool] = {}
_one_at_a_time = threading.Lock()


def run_job(root: str, db_url: str, sandboxed: bool, limits: dict, request: dict) -> dict:
    if not (Path(root) / "nbgrader_config.py").is_file():
        raise FileNotFoundError(f"this worker does not see the course at {root}: every worker machine must see "
                                "the course folder at the same path (a shared file system)")
    course.environment_bin_on_path()
    with _one_at_a_time:  # a worker started with several threads still grades one hand-in per job process
        # a job loads the course once: a new course version or new limits need a new job process
        key = (root, db_url, sandboxed, request.get("course_version", ""), tuple(sorted(limits.items())))
        if key not in _pools:
            for stale in [k for k in _pools if k[0] == root]:
                _pools.pop(stale).close()
            _pools[key] = WorkerPool(Path(root), db_url, HandInJob(**limits), sandboxed, keep_warm=True)
        outcome = _pools[key].grade([Request(**request)])[0]
    return dataclasses.asdict(outcome)

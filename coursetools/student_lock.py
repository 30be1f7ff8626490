"""One grading of a student at a time, wherever the jobs run.

Two jobs may reach the same student: two `make grade` runs started at once,
or a cluster that gives a lost worker's hand-in to another worker while the
first job is still being put down. The second job waits for the first to end,
so their gradebook rows and files never interleave. The lock is one the
operating system or the database drops when its holder dies: a PostgreSQL
advisory lock on a cluster's gradebook, a file lock on the course's own.
"""

import contextlib
import fcntl
import hashlib
import os
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

LOCKS = Path(".grading") / "locks"
# Seconds a job waits for another grading of its student: long enough for a lost job to be put
# down, short enough to end well within the job's own budget
WAIT = 60
POLL = 0.2


class Busy(RuntimeError):
    """Another grading of this student went on past `WAIT`."""


def lock_key(student: str) -> int:
    """A signed 64-bit number for the student, as PostgreSQL's advisory locks take."""
    digest = hashlib.sha256(b"course-grading\0" + student.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def held(db_url: str, root: Path, student: str, wait: float = WAIT):
    """Hold the student's lock for the body; raise `Busy` when it stays taken for `wait` seconds."""
    deadline = time.monotonic() + wait
    if db_url.startswith("postgresql"):
        engine = create_engine(db_url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                key = {"key": lock_key(student)}
                while not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar():
                    if time.monotonic() > deadline:
                        raise Busy(student)
                    time.sleep(POLL)
                connection.commit()
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                    connection.commit()
        finally:
            engine.dispose()
        return
    folder = root / LOCKS
    folder.mkdir(parents=True, exist_ok=True)
    # named by a digest: a student id is never a path
    descriptor = os.open(folder / f"{lock_key(student) & (2**64 - 1):016x}.lock",
                         os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Busy(student) from None
                time.sleep(POLL)
        yield
    finally:
        os.close(descriptor)

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
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

LOCKS = Path(".grading") / "locks"


def lock_key(student: str) -> int:
    """A signed 64-bit number for the student, as PostgreSQL's advisory locks take."""
    digest = hashlib.sha256(b"course-grading\0" + student.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def held(db_url: str, root: Path, student: str):
    if db_url.startswith("postgresql"):
        engine = create_engine(db_url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": lock_key(student)})
                connection.commit()
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(student)})
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
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)

"""What each student's last grading was: the fingerprint it graded, its status and notes.

Kept in the gradebook's own database (a table beside nbgrader's), so it
lives and dies with the scores it describes: a fresh gradebook regrades
everyone, and a cluster's PostgreSQL gradebook carries it for every machine.
`make grade` reads it to leave unchanged hand-ins alone and to show the rows
of students it was not asked to grade.

The course version is a digest of everything grading depends on besides the
hand-in: the configuration, source/ and release/, the grading engine's code
and the key the secret inputs are drawn from. Any change regrades everyone.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, create_engine, delete, select

from coursetools import course, intake
from coursetools.engine.secret_inputs import SECRET_FILE

# Statuses that are the hand-in's own doing, so grading it again would give the same; a timeout,
# a stopped job or a failure may be the machine's, and is tried again
REUSABLE = (intake.GRADED, intake.RENAMED, intake.TAMPERED, intake.KERNEL_DIED)

_metadata = MetaData()
TABLE = Table(
    "course_gradings", _metadata,
    Column("student_id", String(256), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", String(64), nullable=False),
    Column("notes", Text, nullable=False),  # a JSON list
    Column("graded_at", DateTime, nullable=False),
)


@dataclass(frozen=True)
class Record:
    fingerprint: str
    status: str
    notes: list[str]


def course_version(root: Path) -> str:
    """A digest of the course as grading sees it, the same on every machine that holds the same files."""
    digest = hashlib.sha256()
    paths = [root / "nbgrader_config.py", root / SECRET_FILE]
    for folder in ("source", "release", "coursetools"):
        paths += sorted(p for p in (root / folder).rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts)
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


class GradingRecords:
    """The table, through one connection pool for the whole batch."""

    def __init__(self, db_url: str):
        self.engine = create_engine(db_url)
        _metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def read_all(self) -> dict[str, Record]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(TABLE)).all()
        return {row.student_id: Record(row.fingerprint, row.status, json.loads(row.notes)) for row in rows}

    def save(self, student: str, fingerprint: str, status: str, notes: list[str]) -> None:
        """Remember a grading that can be reused; forget the student's record otherwise."""
        with self.engine.begin() as connection:
            connection.execute(delete(TABLE).where(TABLE.c.student_id == student))
            if fingerprint and status in REUSABLE:
                connection.execute(TABLE.insert().values(
                    student_id=student, fingerprint=fingerprint, status=status, notes=json.dumps(notes),
                    graded_at=datetime.now(timezone.utc).replace(tzinfo=None)))


def outputs_exist(root: Path, student: str) -> bool:
    """A graded hand-in is only left alone while what its grading wrote is still there."""
    return course.autograded_notebook(root, student).is_file() and course.feedback_file(root, student).is_file()

"""What each student's last grading was: the fingerprint it graded, its status and notes.

Kept in the gradebook's own database (a table beside nbgrader's), so it
lives and dies with the scores it describes: a fresh gradebook regrades
everyone, and a cluster's PostgreSQL gradebook carries it for every machine.
`make grade` reads it to leave unchanged hand-ins alone and to show the rows
of students it was not asked to grade.

The course version is a digest of everything grading depends on besides the
hand-in: the configuration, source/ and release/, the grading engine's code,
the key the secret inputs are drawn from, whether student code runs in the
sandbox, and the versions of the packages that run and grade it. Any change
regrades everyone. A grading is reused only while the gradebook still holds
its submission.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from importlib import metadata

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy import Boolean, Column, DateTime, MetaData, String, Table, Text, create_engine, delete, select

from coursetools import course, intake
from coursetools.engine.secret_inputs import SECRET_FILE

# Statuses that are the hand-in's own doing, so grading it again would give the same; a timeout,
# a stopped job or a failure may be the machine's, and is tried again
REUSABLE = (intake.GRADED, intake.RENAMED, intake.TAMPERED, intake.KERNEL_DIED)

_metadata = MetaData()
TABLE = Table(
    "course_grading_records", _metadata,
    Column("course_id", String(128), primary_key=True),
    Column("student_id", String(256), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", String(64), nullable=False),
    Column("notes", Text, nullable=False),  # a JSON list
    Column("reusable", Boolean, nullable=False),
    Column("graded_at", DateTime, nullable=False),
)
# What runs and grades student code: a new version of any may change a result
GRADING_PACKAGES = ["nbgrader", "nbconvert", "nbclient", "ipykernel", "ipython", "numpy", "jupyter_client"]


@dataclass(frozen=True)
class Record:
    fingerprint: str
    status: str
    notes: list[str]
    reusable: bool


def course_version(root: Path, sandboxed: bool = True, due_date: str = "") -> str:
    """A digest of the course as grading sees it, the same on every machine that holds the same files
    and the same gradebook: the assignment's due date (which late penalties follow) lives there."""
    digest = hashlib.sha256(f"sandboxed={sandboxed}\0due={due_date}\0".encode())
    for package in GRADING_PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}\0".encode())
    paths = [root / "nbgrader_config.py", root / SECRET_FILE]
    for folder in ("source", "release", "coursetools"):
        paths += sorted(p for p in (root / folder).rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts)
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def assignment_due_date(db_url: str, course_id: str) -> str:
    """The assignment's due date as the gradebook holds it (`nbgrader db assignment add --duedate`,
    or the formgrader), or "" when it has none."""
    with Gradebook(db_url, course_id) as gradebook:
        try:
            return str(gradebook.find_assignment(course.ASSIGNMENT).duedate or "")
        except MissingEntry:
            return ""


class GradingRecords:
    """The table, through one connection pool for the whole batch."""

    def __init__(self, db_url: str, course_id: str):
        self.engine = create_engine(db_url)
        self.course_id = course_id
        _metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def read_all(self) -> dict[str, Record]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(TABLE).where(TABLE.c.course_id == self.course_id)).all()
        return {row.student_id: Record(row.fingerprint, row.status, json.loads(row.notes), row.reusable)
                for row in rows}

    def save(self, student: str, fingerprint: str, status: str, notes: list[str]) -> None:
        """Remember a student's latest grading; it may be reused only when its status says the hand-in earned it."""
        with self.engine.begin() as connection:
            connection.execute(delete(TABLE).where((TABLE.c.course_id == self.course_id) &
                                                   (TABLE.c.student_id == student)))
            connection.execute(TABLE.insert().values(
                course_id=self.course_id, student_id=student, fingerprint=fingerprint, status=status,
                notes=json.dumps(notes), reusable=bool(fingerprint) and status in REUSABLE,
                graded_at=datetime.now(timezone.utc).replace(tzinfo=None)))


def students_in_gradebook(db_url: str, course_id: str) -> set[str]:
    """The students with a submission of the assignment: a grading whose submission was removed
    (in the formgrader, or with `nbgrader db`) is not reused."""
    with Gradebook(db_url, course_id) as gradebook:
        try:
            return {submission.student_id for submission in gradebook.find_assignment(course.ASSIGNMENT).submissions}
        except MissingEntry:
            return set()


def outputs_exist(root: Path, student: str) -> bool:
    """A graded hand-in is only left alone while what its grading wrote is still there."""
    return course.autograded_notebook(root, student).is_file() and course.feedback_file(root, student).is_file()

"""The class list, `roster.csv` at the course root: who is expected to hand in, with their names.

Its columns are `id`, `first_name`, `last_name` and `email` (in any order;
only `id` is required; "First name" and the like are read too). The file is
optional: without it, the class is whoever has a folder in submitted/.

With it, `make grade`, before grading anyone:

- checks every line, and stops with a message naming the line and what to
  fix if one is wrong (an empty or unusable id, an id twice, a line with
  more fields than the header, an email address without `@`);
- writes every student into the gradebook (nbgrader's own student table),
  so the formgrader and nbgrader's export show their names;
- gives each roster student without a folder in submitted/ a row of their
  own, `missing notebook`, and grades each folder whose name is not on the
  roster, with a note asking to check it against the roster.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook

from coursetools.engine.handin import student_id_problem

ROSTER_CSV = "roster.csv"
COLUMNS = ("id", "first_name", "last_name", "email")
# Header spellings a spreadsheet or an LMS export may use, read as the column they mean
ALIASES = {"student": "id", "student_id": "id", "username": "id", "first": "first_name", "given_name": "first_name",
           "last": "last_name", "surname": "last_name", "family_name": "last_name", "e_mail": "email",
           "email_address": "email"}
LONGEST_FIELD = 200
NOT_ON_ROSTER = (f"not on {ROSTER_CSV}: check this folder's name against the roster's ids "
                 "(graded all the same)")
MISSING_FROM_SUBMITTED = "on the roster, with no folder in submitted/: nothing handed in"


class RosterError(ValueError):
    """A roster line that cannot be used; the message names the line and what to change."""


@dataclass(frozen=True)
class Student:
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


def column_of(header: str) -> str:
    name = "_".join(header.strip().lower().replace("-", " ").split())
    return ALIASES.get(name, name)


def parse(text: str, source: str = ROSTER_CSV) -> list[Student]:
    """The roster's students, in file order; RosterError for the first line that cannot be used."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(field.strip() for field in rows[0]):
        raise RosterError(f"{source} is empty: its first line must name the columns, "
                          f"e.g. {','.join(COLUMNS)}")
    columns = [column_of(field) for field in rows[0]]
    unknown = [field for field, column in zip(rows[0], columns) if column not in COLUMNS]
    if unknown:
        raise RosterError(f"{source} line 1: unknown column {unknown[0]!r}; the columns are {', '.join(COLUMNS)}")
    if "id" not in columns:
        raise RosterError(f"{source} line 1: no id column; the columns are {', '.join(COLUMNS)} (only id is required)")
    twice = sorted({column for column in columns if columns.count(column) > 1})
    if twice:
        raise RosterError(f"{source} line 1: the column {twice[0]} is there twice")
    students, lines_of = [], {}
    for number, fields in enumerate(rows[1:], start=2):
        if not any(field.strip() for field in fields):
            continue  # a blank line, as spreadsheets leave at the end
        if len(fields) > len(columns):
            raise RosterError(f"{source} line {number} has {len(fields)} fields but the header names "
                              f"{len(columns)}: a comma inside a name needs the name in double quotes")
        values = {column: field.strip() for column, field in zip(columns, fields)}
        student = Student(**{column: values.get(column, "") for column in COLUMNS})
        where = f"{source} line {number}"
        if not student.id:
            raise RosterError(f"{where}: no id; every student needs the id their hand-in folder is named after")
        problem = student_id_problem(student.id)
        if problem:
            raise RosterError(f"{where}: the id {student.id!r} {problem}; use the name the student's "
                              "folder in submitted/ has, or will have")
        if student.id in lines_of:
            raise RosterError(f"{where}: the id {student.id!r} is on line {lines_of[student.id]} too")
        if student.email and "@" not in student.email:
            raise RosterError(f"{where}: {student.email!r} is not an email address; leave the field empty "
                              "if there is none")
        long_field = next((column for column in COLUMNS if len(getattr(student, column)) > LONGEST_FIELD), None)
        if long_field:
            raise RosterError(f"{where}: the {long_field} is longer than {LONGEST_FIELD} characters")
        lines_of[student.id] = number
        students.append(student)
    return students


def read(root: Path) -> list[Student] | None:
    """The roster of the course at `root`, or None when it has none."""
    path = root / ROSTER_CSV
    if not path.is_file():
        return None
    try:
        text = path.read_bytes().decode("utf-8-sig")  # spreadsheets often start the file with a byte order mark
    except UnicodeDecodeError as error:
        raise RosterError(f"{ROSTER_CSV} is not UTF-8 text (byte {error.start}): save it as "
                          "\"CSV UTF-8\" from the spreadsheet") from None
    return parse(text)


def import_into_gradebook(students: list[Student], db_url: str, course_id: str) -> None:
    """Each roster student in nbgrader's own table, names and email as the roster gives them."""
    with Gradebook(db_url, course_id) as gradebook:
        for student in students:  # a field the roster leaves empty keeps what the gradebook has
            gradebook.update_or_create_student(student.id, **{column: getattr(student, column)
                                                              for column in COLUMNS[1:] if getattr(student, column)})

"""Look at each hand-in before grading and stage a copy for nbgrader.

nbgrader grades `submitted/<student>/<assignment>/<notebook>.ipynb` by its
exact name and silently skips anything else. Intake finds the notebook a
student meant to hand in, names every problem it cannot repair, and writes
the gradable ones into a staging folder. nbgrader reads only the staged copy,
so nothing under submitted/ is ever changed, and a renamed notebook is graded
instead of skipped.

A hand-in is data: its folder name is checked before it is used as an id,
and its files are read only as regular files, never through a link, and
only up to a size (`coursetools.engine.handin`). The staged notebook is
written from what was parsed, never copied.
"""

import json
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from coursetools import course, notebooks
from coursetools.engine import handin

# Statuses a hand-in can end with; the export and the summary use these words
GRADED = "graded"
RENAMED = "renamed"
MISSING = "missing notebook"
INVALID = "invalid notebook"
WRONG_NOTEBOOK = "wrong notebook"
NOT_GRADED = "grading failed"
TAMPERED = "tampered and restored"
TIMED_OUT = "timed out"
KERNEL_DIED = "kernel died"
# Graded, but a check passed in the kernel and failed the recheck: flagged in the formgrader
NEEDS_REVIEW = "needs review"
# Never graded: the folder name cannot be a student id, or the hand-in holds links, devices or pipes
INVALID_ID = "invalid student id"
REFUSED = "refused"
TOO_LARGE = "too large"
# The hand-in's grading job ran past its wall-clock budget or memory ceiling and was stopped
STOPPED = "grading stopped"
# Left out of a run that graded only some students (STUDENT=), and never graded before
NOT_YET = "not graded yet"
# Another grading run was grading this student at the same time; its result stands
BUSY = "graded by another run"

STAGING = Path(".grading") / "submitted"


def is_graded(status: str) -> bool:
    """Whether a hand-in with this status has scores in the gradebook."""
    return status in (GRADED, RENAMED, TAMPERED, TIMED_OUT, KERNEL_DIED, NEEDS_REVIEW)


@dataclass
class Intake:
    student: str
    status: str
    notes: list[str] = field(default_factory=list)
    notebook: Path | None = None  # the file that will be graded, when there is one
    nb: nbformat.NotebookNode | None = None  # its content, parsed from the bytes read once
    files: dict = field(default_factory=dict)  # the student's other plain files: relative path -> bytes
    timestamp: bytes | None = None  # submitted/<student>/timestamp.txt, for late penalties

    @property
    def gradable(self) -> bool:
        return self.nb is not None


def plain_files(folder: Path) -> dict[str, int]:
    """Names and modes of the entries of a folder, links not followed."""
    return {entry.name: entry.stat(follow_symlinks=False).st_mode for entry in folder.iterdir()} \
        if folder.is_dir() else {}


def find_notebook(folder: Path) -> tuple[Path | None, list[str]]:
    """The notebook the student handed in, and notes on how it was found."""
    expected = folder / f"{course.NOTEBOOK}.ipynb"
    entries = plain_files(folder)
    if expected.name in entries:
        return expected, []
    candidates = sorted(folder / name for name, mode in entries.items()  # `._x.ipynb`: macOS metadata, not a notebook
                        if name.endswith(".ipynb") and not name.startswith(".") and stat.S_ISREG(mode))
    copies = [p for p in candidates if p.stem.startswith(f"{course.NOTEBOOK}-Copy")]
    if copies:
        return copies[0], [f"graded {handin.shown_name(copies[0].name)}, a copy of {expected.name}"]
    if len(candidates) == 1:
        return candidates[0], [f"graded {handin.shown_name(candidates[0].name)}, the only notebook handed in, "
                               f"as {expected.name}"]
    if candidates:
        names = ", ".join(handin.shown_name(p.name) for p in candidates)
        return None, [f"{len(candidates)} notebooks ({names}) and none named {expected.name}: "
                      f"ask the student which one to grade and rename it to {expected.name}"]
    return None, [f"no notebook in submitted/{folder.parent.name}/{folder.name}: expected {expected.name}"]


class Unreadable(ValueError):
    """The bytes are not a notebook; the message names the problem, never the content."""


def decode(data: bytes, name: str, notes: list[str]) -> str:
    if data.startswith(b"\xef\xbb\xbf"):  # a byte-order mark some editors add: not part of the JSON
        data = data[3:]
        notes.append(f"{name}: byte-order mark removed before grading")
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
    if bad:
        notes.append(f"{name}: {bad} byte(s) that are not UTF-8 text replaced before grading")
    return text


def parse(text: str, name: str):
    """A notebook from its text; the error says where it is broken, and quotes nothing of it."""
    if not text.strip():
        raise Unreadable(f"{name} is empty: ask the student to save the notebook and hand it in again")
    try:
        json.loads(text)
    except RecursionError:
        raise Unreadable(f"{name} nests too deeply to be a notebook: ask for a fresh copy") from None
    except json.JSONDecodeError as error:
        raise Unreadable(f"{name} is not valid notebook JSON (line {error.lineno}, column {error.colno}): "
                         "ask for a fresh copy") from None
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises many kinds for malformed notebooks
        raise Unreadable(f"{name} is not a readable notebook ({type(error).__name__}): ask for a fresh copy") from None


CELL_TYPES = ("code", "markdown", "raw")


def coerce_cells(nb, name: str) -> list[str]:
    """Make the structure safe to grade: what cannot be a cell is refused, odd metadata dropped.

    Editors write valid notebooks; anything else was edited by hand, and a
    malformed field must cost this hand-in a note, never stop the grader.
    """
    repairs = []
    if not isinstance(nb.get("cells"), list) or not all(
            isinstance(c, dict) and c.get("cell_type") in CELL_TYPES for c in nb.cells):
        raise Unreadable(f"{name} has cells that are not notebook cells: ask for a fresh copy")
    handin.check_cells(nb)
    for index, cell in enumerate(nb.cells, start=1):
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(str(part) for part in cell["source"])
        elif not isinstance(cell.get("source"), str):
            cell["source"] = ""
            repairs.append(f"cell {index}: a source that was not text emptied")
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = nbformat.NotebookNode()
        if "nbgrader" in cell.metadata and not isinstance(cell.metadata["nbgrader"], dict):
            del cell.metadata["nbgrader"]
            repairs.append(f"cell {index}: nbgrader marks that were not valid removed")
        if cell.cell_type == "code" and not isinstance(cell.get("outputs"), list):
            cell["outputs"] = []
    if not isinstance(nb.get("metadata"), dict):
        nb["metadata"] = nbformat.NotebookNode()
    give_cells_valid_ids(nb)
    return repairs


CELL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def give_cells_valid_ids(nb) -> None:
    """Unique, well-formed cell ids, as nbformat 4.5 requires; a hand-edited id must not fail the grading."""
    if nb.get("nbformat_minor", 0) < 5:
        return
    taken = set()
    for index, cell in enumerate(nb.cells):
        candidate = cell.get("id")
        if not (isinstance(candidate, str) and CELL_ID.fullmatch(candidate)) or candidate in taken:
            candidate = f"cell-{index}"
            while candidate in taken:
                candidate += "-"
            cell["id"] = candidate
        taken.add(candidate)


def read_notebook(notebook: Path, release_ids: set[str], notes: list[str]):
    """Read, parse and check a hand-in's notebook: the notebook and the repairs made to its structure.

    Raises `Unreadable` or `handin.Refused`.
    """
    name = handin.shown_name(notebook.name)
    nb = parse(decode(handin.read_regular_file(notebook), name, notes), name)
    repairs = coerce_cells(nb, name)
    ids = {notebooks.grade_id(c) for c in nb.cells}
    if release_ids and not ids & release_ids:
        raise Unreadable(f"{name} has none of this assignment's cells: probably another assignment's notebook, or the "
                         "work was copied into a new notebook; ask for the work in the notebook that was handed out")
    return nb, repairs


def inspect(root: Path, student: str, release_ids: set[str]) -> Intake:
    if handin.student_id_problem(student):
        return Intake(student, INVALID_ID, [handin.rename_advice(student)])
    try:
        handin.check_folder(root / "submitted" / student)
    except handin.Refused as reason:
        return Intake(student, TOO_LARGE if isinstance(reason, handin.TooLarge) else REFUSED, [str(reason)])
    folder = root / "submitted" / student / course.ASSIGNMENT
    notebook, notes = find_notebook(folder) if folder.is_dir() else (
        None, [f"no {course.ASSIGNMENT}/ folder in submitted/{student}"])
    if notebook is None:
        return Intake(student, MISSING, notes)
    try:
        nb, repairs = read_notebook(notebook, release_ids, notes)
    except handin.Refused as reason:
        return Intake(student, TOO_LARGE if isinstance(reason, handin.TooLarge) else REFUSED, [*notes, str(reason)])
    except Unreadable as problem:
        status = WRONG_NOTEBOOK if "another assignment" in str(problem) else INVALID
        return Intake(student, status, [*notes, str(problem)])
    try:  # other notebooks are left out: nbgrader would grade them as this assignment
        files = handin.plain_files_below(folder, skip=lambda relative: relative.endswith(".ipynb"))
        timestamp = read_timestamp(root / "submitted" / student)
    except handin.Refused as reason:
        return Intake(student, TOO_LARGE if isinstance(reason, handin.TooLarge) else REFUSED, [*notes, str(reason)])
    if files:
        shown = ", ".join(handin.shown_name(name) for name in sorted(files))
        notes.append(f"files beside the notebook, given to it read-only: {shown}")
    status = TAMPERED if repairs else RENAMED if notebook.name != f"{course.NOTEBOOK}.ipynb" else GRADED
    return Intake(student, status, [*notes, *repairs], notebook, nb, files, timestamp)


def read_timestamp(student_folder: Path) -> bytes | None:
    """nbgrader's `timestamp.txt` (written by `collect`), read as a small plain file if there is one."""
    path = student_folder / "timestamp.txt"
    if not os.path.lexists(path):
        return None
    return handin.read_regular_file(path, limit=1024)


def is_answer_cell(cell) -> bool:
    """A cell the student writes in: its marks are the course's, its content the student's."""
    marks = notebooks.nbgrader_meta(cell)
    return bool(marks.get("solution")) and not marks.get("grade") and not marks.get("locked")


def restore_course_cells(nb, release) -> tuple[list[str], list[str]]:
    """Put the release's nbgrader cells back as they were: metadata, type, and any that were deleted.

    nbgrader itself then restores the checks' source from the gradebook, hidden
    tests included. A student's answers are kept; only what the course owns is
    repaired. Returns the repairs to checks and read-only cells, which make a
    hand-in `tampered and restored`, and those to answer cells, which ordinary
    editing causes (*Split Cell* copies an answer cell's marks; an answer
    retyped in a new cell leaves the old one deleted) and which are only noted.
    """
    release_cells = {notebooks.grade_id(c): c for c in release.cells if notebooks.grade_id(c)}
    repairs, edits, seen, kept = [], [], set(), []
    for cell in nb.cells:
        grade_id = notebooks.grade_id(cell)
        if not grade_id and "nbgrader" not in cell.get("metadata", {}):
            kept.append(cell)
            continue
        if grade_id in seen and is_answer_cell(release_cells[grade_id]):
            cell.metadata.pop("nbgrader", None)
            edits.append(f"{grade_id}: a second cell with its marks (a split cell?) kept as the student's own")
            kept.append(cell)
            continue
        if grade_id not in release_cells or grade_id in seen:
            cell.metadata.pop("nbgrader", None)
            repairs.append(f"removed nbgrader marks from a cell the course does not have ({grade_id or 'no id'})")
            kept.append(cell)
            continue
        seen.add(grade_id)
        original = release_cells[grade_id]
        if cell.cell_type != original.cell_type:
            repairs.append(f"{grade_id}: cell type changed back to {original.cell_type}")
            cell = notebooks.nbformat.from_dict({**cell, "cell_type": original.cell_type,
                                                 "outputs": [], "execution_count": None})
        if notebooks.nbgrader_meta(cell) != notebooks.nbgrader_meta(original):
            repairs.append(f"{grade_id}: nbgrader metadata restored")
            cell.metadata["nbgrader"] = notebooks.nbformat.from_dict(notebooks.nbgrader_meta(original))
        if notebooks.nbgrader_meta(original).get("locked") and cell.source != original.source:
            repairs.append(f"{grade_id}: edited read-only cell restored")
        kept.append(cell)
    nb.cells = kept
    for grade_id, original in release_cells.items():
        if grade_id not in seen:
            insert_after_previous(nb, release, original)
            (edits if is_answer_cell(original) else repairs).append(f"{grade_id}: deleted cell put back")
    return repairs, edits


def insert_after_previous(nb, release, original) -> None:
    """Insert a release cell after the nearest nbgrader cell that precedes it in the release."""
    position = 0
    present = {notebooks.nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(nb.cells)}
    for cell in release.cells:
        if cell is original:
            break
        grade_id = notebooks.nbgrader_meta(cell).get("grade_id")
        if grade_id is not None and grade_id in present:
            position = present[grade_id] + 1
    restored = notebooks.nbformat.from_dict(original)
    if any(c.get("id") == restored.get("id") for c in nb.cells):
        restored["id"] = f"{restored['id']}-restored"[:64]  # a student's cell kept the original id
    nb.cells.insert(position, restored)


def stage(root: Path, intake: Intake, release) -> None:
    """Write the hand-in, repaired, where nbgrader will read it and under the name it expects.

    The notebook is written from what intake parsed; the student's other
    plain files (data, modules, images) are copied from the bytes read
    without following links, so nbgrader can put them beside the notebook,
    where the kernel finds them; `timestamp.txt` keeps late hand-ins late.
    """
    destination = root / STAGING / intake.student / course.ASSIGNMENT
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    nb = intake.nb
    repairs, edits = restore_course_cells(nb, release)
    if repairs:
        intake.status = TAMPERED
    intake.notes.extend(repairs + edits)
    notebooks.write(nb, destination / f"{course.NOTEBOOK}.ipynb")
    for relative, data in intake.files.items():
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if intake.timestamp is not None:
        (destination.parent / "timestamp.txt").write_bytes(intake.timestamp)

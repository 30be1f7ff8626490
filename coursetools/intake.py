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
    candidates = sorted(folder / name for name, mode in entries.items()
                        if name.endswith(".ipynb") and stat.S_ISREG(mode))
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
    return repairs


def read_notebook(notebook: Path, release_ids: set[str], notes: list[str]):
    """Read, parse and check a hand-in's notebook: the notebook and the repairs made to its structure.

    Raises `Unreadable` or `handin.Refused`.
    """
    name = handin.shown_name(notebook.name)
    nb = parse(decode(handin.read_regular_file(notebook), name, notes), name)
    repairs = coerce_cells(nb, name)
    ids = {notebooks.grade_id(c) for c in nb.cells}
    if release_ids and not ids & release_ids:
        raise Unreadable(f"{name} has none of this assignment's cells: probably another assignment's notebook")
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
    extras = sorted(handin.shown_name(name) for name in plain_files(folder)
                    if name != notebook.name and not name.startswith("."))
    if extras:
        notes.append(f"extra files ignored: {', '.join(extras)}")
    status = TAMPERED if repairs else RENAMED if notebook.name != f"{course.NOTEBOOK}.ipynb" else GRADED
    return Intake(student, status, [*notes, *repairs], notebook, nb)


def restore_course_cells(nb, release) -> list[str]:
    """Put the release's nbgrader cells back as they were: metadata, type, and any that were deleted.

    nbgrader itself then restores the checks' source from the gradebook, hidden
    tests included. A student's answers are kept; only what the course owns is
    repaired.
    """
    release_cells = {notebooks.nbgrader_meta(c)["grade_id"]: c for c in release.cells if notebooks.nbgrader_meta(c)}
    repairs, seen, kept = [], set(), []
    for cell in nb.cells:
        grade_id = notebooks.nbgrader_meta(cell).get("grade_id")
        if grade_id is None and "nbgrader" not in cell.get("metadata", {}):
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
            repairs.append(f"{grade_id}: deleted cell put back")
    return repairs


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
    """Write the hand-in, repaired, where nbgrader will read it and under the name it expects."""
    destination = root / STAGING / intake.student / course.ASSIGNMENT
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    nb = intake.nb
    repairs = restore_course_cells(nb, release)
    if repairs:
        intake.status = TAMPERED
        intake.notes.extend(repairs)
    notebooks.write(nb, destination / f"{course.NOTEBOOK}.ipynb")

"""Look at each hand-in before grading and stage a copy for nbgrader.

nbgrader grades `submitted/<student>/<assignment>/<notebook>.ipynb` by its
exact name and silently skips anything else. Intake finds the notebook a
student meant to hand in, names every problem it cannot repair, and copies
the gradable ones into a staging folder. nbgrader reads only the staged copy,
so nothing under submitted/ is ever changed, and a renamed notebook is graded
instead of skipped.
"""

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from coursetools import course, notebooks

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

    @property
    def gradable(self) -> bool:
        return self.notebook is not None


def find_notebook(folder: Path) -> tuple[Path | None, list[str]]:
    """The notebook the student handed in, and notes on how it was found."""
    expected = folder / f"{course.NOTEBOOK}.ipynb"
    if expected.is_file():
        return expected, []
    candidates = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    copies = [p for p in candidates if p.stem.startswith(f"{course.NOTEBOOK}-Copy")]
    if copies:
        return copies[0], [f"graded {copies[0].name}, a copy of {expected.name}"]
    if len(candidates) == 1:
        return candidates[0], [f"graded {candidates[0].name}, the only notebook handed in, as {expected.name}"]
    if candidates:
        names = ", ".join(p.name for p in candidates)
        return None, [f"{len(candidates)} notebooks ({names}) and none named {expected.name}: "
                      f"ask the student which one to grade and rename it to {expected.name}"]
    return None, [f"no notebook in submitted/{folder.parent.name}/{folder.name}: expected {expected.name}"]


def problem_with(path: Path, release_ids: set[str]) -> str:
    """Why this file cannot be graded as this assignment's notebook; empty if it can."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        return f"{path.name} is empty: ask the student to save the notebook and hand it in again"
    try:
        nb = nbformat.reads(text, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as error:
        return f"{path.name} is not valid notebook JSON ({str(error).splitlines()[0][:80]}): ask for a fresh copy"
    except Exception as error:  # nbformat raises many kinds for malformed notebooks
        return f"{path.name} is not a readable notebook ({type(error).__name__}): ask for a fresh copy"
    ids = {notebooks.nbgrader_meta(c).get("grade_id") for c in nb.get("cells", [])}
    if release_ids and not ids & release_ids:
        return f"{path.name} has none of this assignment's cells: probably another assignment's notebook"
    return ""


def inspect(root: Path, student: str, release_ids: set[str]) -> Intake:
    folder = root / "submitted" / student / course.ASSIGNMENT
    notebook, notes = find_notebook(folder) if folder.is_dir() else (
        None, [f"no {course.ASSIGNMENT}/ folder in submitted/{student}"])
    if notebook is None:
        return Intake(student, MISSING, notes)
    problem = problem_with(notebook, release_ids)
    if problem:
        status = WRONG_NOTEBOOK if "another assignment" in problem else INVALID
        return Intake(student, status, [*notes, problem])
    extras = sorted(p.name for p in folder.iterdir() if p != notebook and not p.name.startswith("."))
    if extras:
        notes.append(f"extra files ignored: {', '.join(extras)}")
    return Intake(student, RENAMED if notebook.name != f"{course.NOTEBOOK}.ipynb" else GRADED, notes, notebook)


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
    nb = notebooks.read(intake.notebook)
    repairs = restore_course_cells(nb, release)
    if repairs:
        intake.status = TAMPERED
        intake.notes.extend(repairs)
    notebooks.write(nb, destination / f"{course.NOTEBOOK}.ipynb")

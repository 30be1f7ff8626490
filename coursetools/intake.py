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
TIMED_OUT = "timed out"
KERNEL_DIED = "kernel died"

STAGING = Path(".grading") / "submitted"


def is_graded(status: str) -> bool:
    """Whether a hand-in with this status has scores in the gradebook."""
    return status in (GRADED, RENAMED, TIMED_OUT, KERNEL_DIED)


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


def stage(root: Path, intake: Intake) -> None:
    """Copy the hand-in to where nbgrader will read it, under the name it expects."""
    destination = root / STAGING / intake.student / course.ASSIGNMENT
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    shutil.copyfile(intake.notebook, destination / f"{course.NOTEBOOK}.ipynb")

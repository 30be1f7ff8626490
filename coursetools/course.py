"""Where things live in a course folder.

Everything takes the course root as an argument, so the same code works on
the repository and on a temporary copy of it (the tests grade such copies).
"""

import os
import shutil
import sys
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "building_blocks"
NOTEBOOK = "building_blocks"

# Folders that make up a gradable course: copied as a whole by the tests.
# nbgrader_config.py loads the grading engine from the course's own coursetools/.
COURSE_FILES = ["nbgrader_config.py", "coursetools", "source", "release", "submitted"]


def source_notebook(root: Path) -> Path:
    return root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"


def release_notebook(root: Path) -> Path:
    return root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"


def submitted_notebook(root: Path, student: str) -> Path:
    return root / "submitted" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"


def autograded_notebook(root: Path, student: str) -> Path:
    return root / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"


def feedback_file(root: Path, student: str) -> Path:
    return root / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html"


# nbgrader_config.py takes the gradebook's URL from this variable when it is set (a PostgreSQL
# server for a cluster), so every nbgrader command and the formgrader use the same gradebook
GRADEBOOK_URL_VARIABLE = "COURSE_GRADEBOOK_URL"


def gradebook_url(root: Path) -> str:
    """The course's own gradebook: an SQLite file at its root."""
    return "sqlite:///" + str(root / "gradebook.db")


def submitted_students(root: Path) -> list[str]:
    """Every student folder under submitted/, hand-in or not, sorted.

    A link in place of a folder is listed too, without following it: intake
    gives it a status of its own rather than grading what it points to.
    """
    submitted = root / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir()
                  if (p.is_symlink() or p.is_dir()) and not p.name.startswith("."))


def copy_course(destination: Path, keep_students=None) -> Path:
    """A gradable copy of this course; with `keep_students`, only those students stay in submitted/."""
    destination.mkdir(parents=True)
    for name in COURSE_FILES:
        source = REPOSITORY_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / name)
    if keep_students is not None:
        for student in submitted_students(destination):
            if student not in keep_students:
                shutil.rmtree(destination / "submitted" / student)
    return destination


def load_nbgrader_config(root: Path):
    """The course's nbgrader_config.py, loaded as nbgrader itself loads it."""
    from traitlets.config.loader import PyFileConfigLoader

    config_file = root / "nbgrader_config.py"
    if not config_file.is_file():
        raise FileNotFoundError(f"{config_file} is missing: point --root at the course folder, "
                                "the one that holds nbgrader_config.py")
    return PyFileConfigLoader(config_file.name, path=str(root)).load_config()


def environment_bin_on_path() -> None:
    """Put this interpreter's bin/ first on PATH.

    nbgrader runs the `alembic` executable to set up its database and
    jupyter_client looks for kernels on PATH; both must come from the same
    environment as nbgrader itself, even when the caller did not activate it.
    """
    bin_dir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if parts[0] != bin_dir:
        os.environ["PATH"] = os.pathsep.join([bin_dir, *parts])

"""Shared fixtures: the course's notebooks, an executed source and a graded copy of the course.

The expensive fixtures (running a kernel, grading every demo student) are
session-scoped so each happens once per test run.
"""

import hashlib
from html.parser import HTMLParser
import subprocess
import sys
from pathlib import Path

import nbclient
import pytest

from coursetools import course, notebooks

ROOT = course.REPOSITORY_ROOT
# nbgrader, run here or in a subprocess, needs this environment's `alembic` and kernel
course.environment_bin_on_path()


@pytest.fixture(scope="session")
def source_nb():
    return notebooks.read(course.source_notebook(ROOT))


@pytest.fixture(scope="session")
def release_nb():
    return notebooks.read(course.release_notebook(ROOT))


def execute(nb):
    """Run a notebook top to bottom in a real kernel, in the source folder, stopping at the first error."""
    workdir = course.source_notebook(ROOT).parent
    client = nbclient.NotebookClient(notebooks.nbformat.from_dict(nb), timeout=60, record_timing=False,
                                     config=course.load_nbgrader_config(ROOT),
                                     resources={"metadata": {"path": str(workdir)}})
    return client.execute()


@pytest.fixture(scope="session")
def executed_source(source_nb):
    return execute(source_nb)


copy_course = course.copy_course


def digest_tree(folder: Path) -> dict:
    """Every file below a folder, by its content hash."""
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def course_copy(tmp_path):
    """A fresh, ungraded copy of the course for one test."""
    return copy_course(tmp_path / "course")


class _TextOf(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.hidden_depth = [], 0

    def handle_starttag(self, tag, attrs):
        self.hidden_depth += tag in ("style", "script")

    def handle_endtag(self, tag):
        self.hidden_depth -= tag in ("style", "script")

    def handle_data(self, data):
        if not self.hidden_depth:
            self.parts.append(data)


def feedback_lines(path: Path) -> set[str]:
    """The lines a student reads in a feedback page, stripped, as text rather than HTML."""
    parser = _TextOf()
    parser.feed(path.read_text(encoding="utf-8"))
    return {line.strip() for line in "".join(parser.parts).splitlines() if line.strip()}


def marked_lines(nb, begin: str, end: str) -> set[str]:
    return {line for cell in nb.cells for line in notebooks.marked_regions(cell.source, begin, end)}


def run_grade(root: Path, *extra: str, env=None) -> subprocess.CompletedProcess:
    """`make grade`'s command, run on a course copy as a separate process."""
    return subprocess.run([sys.executable, "-m", "coursetools.grade", "--root", str(root), *extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=600, env=env)


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory):
    """A copy of the course graded twice with the real command, as an instructor would rerun it."""
    root = copy_course(tmp_path_factory.mktemp("graded") / "course")
    first = run_grade(root)
    first_csv = (root / "grades.csv").read_text()
    second = run_grade(root)
    return {"root": root, "first": first, "second": second, "first_csv": first_csv}

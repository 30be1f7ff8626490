"""Shared fixtures: the course's notebooks, an executed source and a graded copy of the course.

The expensive fixtures (running a kernel, grading every demo student) are
session-scoped so each happens once per test run.
"""

import csv
import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
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
    """Every entry below a folder: files by content hash, links by target (never followed), others by type."""
    state = {}
    for parent, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = Path(parent) / name
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                state[path.relative_to(folder)] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                state[path.relative_to(folder)] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(),
                                                   stat.S_IMODE(info.st_mode))
            elif not stat.S_ISDIR(info.st_mode):
                state[path.relative_to(folder)] = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode))
    return state


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


def grade_twice(base: Path) -> dict:
    """A copy of the course graded twice with the real command, as an instructor would rerun it."""
    root = copy_course(base / "course")
    first = run_grade(root)
    first_csv = (root / "grades.csv").read_text()
    second = run_grade(root)
    return {"root": root, "first": first, "second": second, "first_csv": first_csv}


# One grading run keeps about one core busy, so the suite's single runs are started in the
# background when the session starts: they go alongside the runs that come first rather than
# one after another, and the tests that read them wait for them. Each job is a function of a
# fresh folder; modules name theirs in `BACKGROUND_RUNS` (module name -> {job name: job}).
_background = ThreadPoolExecutor(1)
_started: dict = {}


def background_result(name: str):
    return _started[name].result()


@pytest.fixture(scope="session", autouse=True)
def start_background_runs(request, tmp_path_factory):
    for module in {item.module for item in request.session.items}:
        for name, job in getattr(module, "BACKGROUND_RUNS", {}).items():
            if name not in _started:
                _started[name] = _background.submit(job, tmp_path_factory.mktemp(name))
    yield
    _background.shutdown(wait=True)


@pytest.fixture(scope="session")
def graded_course():
    return background_result("graded_course")


def grade_in_parts(base: Path, names: list[str], build=None, config: str = "", keep_students=(), parts: int = 2,
                   lay=None) -> dict:
    """Grade many hand-ins with `make grade`'s command, split over course copies graded at once (one per core).

    `build(root, name)` returns the notebook to hand in as `name` in the copy at `root`, or
    `lay(root, name)` puts whatever the hand-in is under submitted/ itself; `config` is appended
    to each copy's nbgrader_config.py. Returns every part's result and root, every student's
    scores.csv row, the root that graded each student, and whether submitted/ stayed as it was.
    """
    def grade(index: int) -> dict:
        root = copy_course(base / f"part{index}" / "course", keep_students=list(keep_students))
        with open(root / "nbgrader_config.py", "a", encoding="utf-8") as handle:
            handle.write("\n" + config + "\n")
        for name in names[index::parts]:
            if lay is not None:
                lay(root, name)
            else:
                notebooks.write(build(root, name), course.submitted_notebook(root, name))
        before = digest_tree(root / "submitted")
        result = run_grade(root)
        with open(root / "scores.csv", newline="", encoding="utf-8") as handle:
            rows = {row["student"]: row for row in csv.DictReader(handle)}
        return {"root": root, "result": result, "rows": rows, "untouched": digest_tree(root / "submitted") == before}

    with ThreadPoolExecutor(parts) as pool:
        graded = list(pool.map(grade, range(parts)))
    return {"parts": graded, "rows": {name: row for part in graded for name, row in part["rows"].items()},
            "roots": {name: part["root"] for part in graded for name in part["rows"]}}

"""Hand-ins whose code kills or hangs its kernel: points earned before the failure are kept."""

import csv

import pytest

from coursetools import course, demo_students, notebooks

from conftest import copy_course, run_grade

# Short enough to keep the suite fast, long enough for any honest cell here
CELL_TIMEOUT = 4

# Student -> (answers, status, total): everything before the failing cell keeps its points
CASES = {
    "kernel_exits_in_e3": ({**demo_students.PLAIN_PYTHON, "e3_numpy_answer": "import os\nos._exit(1)"},
                           "kernel died", 14),
    "endless_loop_in_e2": ({**demo_students.CORRECT, "e2_outputs_answer": "while True:\n    pass"},
                           "timed out", 12),
    "ignores_interrupt_in_e4": ({**demo_students.CORRECT, "e4_output_answer": (
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.1)")},
        "timed out", 23),
}


@pytest.fixture(scope="module")
def failures_run(tmp_path_factory, release_nb):
    root = copy_course(tmp_path_factory.mktemp("failures") / "course", keep_students=["correct"])
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(f"\nc.Execute.timeout = {CELL_TIMEOUT}\n")
    for student, (answers, *_) in CASES.items():
        notebooks.write(demo_students.hand_in(release_nb, answers), course.submitted_notebook(root, student))
    result = run_grade(root)
    with open(root / "scores.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return {"root": root, "result": result, "rows": rows}


def test_does_the_batch_complete(failures_run):
    """Failing hand-ins are graded hand-ins: the command succeeds and counts them."""
    result = failures_run["result"]
    assert result.returncode == 0, result.stderr[-2000:]
    assert "4 hand-ins: 1 graded, 1 kernel died, 2 timed out" in result.stdout
    assert float(failures_run["rows"]["correct"]["total"]) == 25


@pytest.mark.parametrize("student", sorted(CASES))
def test_are_points_before_the_failure_kept(failures_run, student):
    _, status, total = CASES[student]
    row = failures_run["rows"][student]
    assert row["status"] == status
    assert float(row["total"]) == total
    assert "points up to it kept" in row["notes"]


def test_does_no_release_on_a_fresh_course_say_what_to_do(course_copy):
    result = run_grade(course_copy, "--no-release")
    assert result.returncode == 1
    assert "grade once without --no-release" in result.stderr


@pytest.mark.parametrize("student", sorted(CASES))
def test_is_the_autograded_notebook_kept(failures_run, student):
    assert course.autograded_notebook(failures_run["root"], student).is_file()

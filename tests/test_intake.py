"""Hand-ins that are not where or what nbgrader expects: each gets a clear status, none is lost."""

import csv
import shutil

import pytest
from nbgrader.api import Gradebook

from coursetools import course

from conftest import background_result, copy_course, digest_tree, run_grade

CORRECT = "correct"


def folder(root, student):
    path = root / "submitted" / student / course.ASSIGNMENT
    path.mkdir(parents=True, exist_ok=True)
    return path


def correct_notebook(root):
    return course.submitted_notebook(root, CORRECT).read_bytes()


# Student -> (how to make the hand-in, expected status, expected total or None when never graded, a word of the note)
CASES = {
    "copy1": (lambda root: folder(root, "copy1").joinpath("building_blocks-Copy1.ipynb").write_bytes(correct_notebook(root)),
              "renamed", 25, "building_blocks-Copy1.ipynb"),
    "lone_other_name": (lambda root: folder(root, "lone_other_name").joinpath("my work.ipynb").write_bytes(correct_notebook(root)),
                        "renamed", 25, "the only notebook"),
    "extra_files": (lambda root: (folder(root, "extra_files").joinpath("building_blocks.ipynb").write_bytes(correct_notebook(root)),
                                  folder(root, "extra_files").joinpath("notes.txt").write_text("scratch")),
                    "graded", 25, "files beside the notebook, given to it read-only: notes.txt"),
    # a file name that would forge a note for another student, in colour, if printed as it is
    "file_name_with_a_newline": (lambda root: (
        folder(root, "file_name_with_a_newline").joinpath("building_blocks.ipynb").write_bytes(correct_notebook(root)),
        folder(root, "file_name_with_a_newline").joinpath("data.csv\n  correct: copied\x1b[31m").write_text("x")),
        "graded", 25, "files beside the notebook, given to it read-only: 'data.csv\\n correct: copied\\x1b[31m'"),
    "invalid_json": (lambda root: folder(root, "invalid_json").joinpath("building_blocks.ipynb").write_text('{"cells": [', encoding="utf-8"),
                     "invalid notebook", None, "not valid notebook JSON"),
    "empty_file": (lambda root: folder(root, "empty_file").joinpath("building_blocks.ipynb").write_text(""),
                   "invalid notebook", None, "is empty"),
    "no_notebook": (lambda root: folder(root, "no_notebook").joinpath("answers.py").write_text("inputs = [1, 2, 3]\n"),
                    "missing notebook", None, "expected building_blocks.ipynb"),
    "no_assignment_folder": (lambda root: (root / "submitted" / "no_assignment_folder").mkdir(parents=True),
                             "missing notebook", None, "no building_blocks/ folder"),
    "two_notebooks": (lambda root: [folder(root, "two_notebooks").joinpath(n).write_bytes(correct_notebook(root))
                                    for n in ("draft.ipynb", "final.ipynb")],
                      "missing notebook", None, "ask the student which one"),
    "other_assignment": (lambda root: folder(root, "other_assignment").joinpath("building_blocks.ipynb").write_text(
        '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', encoding="utf-8"),
        "wrong notebook", None, "another assignment"),
}


def grade_the_cases(base):
    # keep the run short: one demo student besides the cases
    root = copy_course(base / "course", keep_students=[CORRECT])
    for make, *_ in CASES.values():
        make(root)
    before = digest_tree(root / "submitted")
    result = run_grade(root)
    with open(root / "scores.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return {"root": root, "result": result, "rows": rows, "before": before}


BACKGROUND_RUNS = {"intake": grade_the_cases}  # started when the session starts (conftest.py)


@pytest.fixture(scope="module")
def intake_run():
    return background_result("intake")


def test_does_the_batch_finish_and_report_the_ungraded(intake_run):
    result = intake_run["result"]
    assert result.returncode == 1, "ungradable hand-ins make the command fail, after grading all the others"
    summary = "11 hand-ins: 3 graded, 2 invalid notebook, 3 missing notebook, 2 renamed, 1 wrong notebook"
    assert summary in result.stdout, result.stdout
    assert "Not graded: " in result.stderr and "rerun `make grade`" in result.stderr


@pytest.mark.parametrize("student", sorted(CASES))
def test_does_each_hand_in_get_its_status_and_score(intake_run, student):
    _, status, total, note = CASES[student]
    row = intake_run["rows"][student]
    assert row["status"] == status
    assert note in row["notes"]
    if total is None:
        assert row["total"] == "" and row["e1_inputs"] == "", "never graded must not look like a zero"
    else:
        assert float(row["total"]) == total
        with Gradebook(course.gradebook_url(intake_run["root"])) as gb:
            assert gb.find_submission_notebook(course.NOTEBOOK, course.ASSIGNMENT, student).score == total


def test_does_every_note_stay_on_one_line_without_control_characters(intake_run):
    for row in intake_run["rows"].values():
        assert row["notes"].isprintable(), row["notes"]
    noted = [line for line in intake_run["result"].stdout.splitlines() if line.startswith("  ")]
    assert all(line.split(":")[0].strip() in intake_run["rows"] for line in noted), noted


def test_is_submitted_left_untouched(intake_run):
    assert digest_tree(intake_run["root"] / "submitted") == intake_run["before"]


def test_does_a_hand_in_that_breaks_later_lose_its_old_scores(intake_run):
    """A rerun must not show the scores of an earlier, different hand-in."""
    root = intake_run["root"].parent / "rerun"  # a copy: the other tests read the first run
    shutil.copytree(intake_run["root"], root, symlinks=True)
    for student in course.submitted_students(root):
        if student != "extra_files":  # only this hand-in changes; the rest of the gradebook stays as it was
            shutil.rmtree(root / "submitted" / student)
    course.submitted_notebook(root, "extra_files").write_text("", encoding="utf-8")
    result = run_grade(root, "--no-release")
    assert result.returncode == 1
    with open(root / "scores.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["student"] == "extra_files")
    assert row["status"] == "invalid notebook" and row["total"] == ""
    assert not course.autograded_notebook(root, "extra_files").exists()

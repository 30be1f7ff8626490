"""Grading again only what changed: unchanged hand-ins keep their grading, `--student` grades one, `--force` all.

One course copy of three students is graded over and over with `make
grade`'s command, a change made before each run (a hand-in, the course's
files, the gradebook's due date); `--timings` names the
hand-ins each run actually graded.
"""

import json
import shutil

import pytest
from nbgrader.api import Gradebook

from coursetools import course

from conftest import background_result, copy_course, run_grade

STUDENTS = ["blank", "correct", "no_bias"]


def outputs_state(root) -> dict:
    """Each student's written files, by modification time: a file graded again is written again."""
    return {student: (course.autograded_notebook(root, student).stat().st_mtime_ns,
                      course.feedback_file(root, student).stat().st_mtime_ns) for student in STUDENTS}


def totals(root) -> dict:
    with Gradebook(course.gradebook_url(root)) as gradebook:
        return {student: gradebook.find_submission(course.ASSIGNMENT, student).score for student in STUDENTS}


def run_and_look(root, *flags) -> dict:
    timings = root / "timings.json"
    result = run_grade(root, "--timings", str(timings), *flags)
    graded = sorted(json.loads(timings.read_text())["students"]) if timings.exists() else None
    timings.unlink(missing_ok=True)
    state = outputs_state(root) if result.returncode in (0, 1) else None
    return {"result": result, "graded": graded, "outputs": state, "totals": totals(root),
            "table": result.stdout, "scores_csv": (root / "scores.csv").read_text()}


def a_series_of_runs(folder) -> dict:
    root = copy_course(folder / "course", keep_students=STUDENTS)
    runs = {"first": run_and_look(root)}
    runs["unchanged"] = run_and_look(root)
    # no_bias hands in again, now with the right answers
    shutil.copyfile(course.submitted_notebook(root, "correct"), course.submitted_notebook(root, "no_bias"))
    runs["one_changed"] = run_and_look(root)
    runs["one_student"] = run_and_look(root, "--student", "blank", "--force")
    runs["forced"] = run_and_look(root, "--force")
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write("\n# a change to the course's configuration\n")
    runs["new_course_version"] = run_and_look(root)
    course.feedback_file(root, "correct").unlink()
    runs["feedback_removed"] = run_and_look(root)
    with Gradebook(course.gradebook_url(root)) as gradebook:  # as the formgrader's or `nbgrader db` would
        gradebook.remove_submission(course.ASSIGNMENT, "blank")
    runs["submission_removed"] = run_and_look(root)
    with Gradebook(course.gradebook_url(root)) as gradebook:  # late penalties follow it
        gradebook.update_or_create_assignment(course.ASSIGNMENT, duedate="2026-01-15 17:00:00")
    runs["due_date_set"] = run_and_look(root)
    runs["unsandboxed"] = run_and_look(root, "--no-sandbox")
    runs["unknown_student"] = run_grade(root, "--student", "nobody")
    return runs


BACKGROUND_RUNS = {"incremental": a_series_of_runs}


@pytest.fixture(scope="module")
def runs():
    return background_result("incremental")


def test_does_the_first_run_grade_everyone(runs):
    first = runs["first"]
    assert first["result"].returncode == 0, first["result"].stderr[-3000:]
    assert first["graded"] == STUDENTS
    assert first["totals"] == {"blank": 0, "correct": 25, "no_bias": 19}


def test_does_an_unchanged_course_grade_nobody_again(runs):
    first, again = runs["first"], runs["unchanged"]
    assert again["result"].returncode == 0
    assert again["graded"] == []
    assert "3 unchanged" in again["result"].stderr
    assert again["outputs"] == first["outputs"]
    assert again["table"] == first["table"] and again["scores_csv"] == first["scores_csv"]


def test_is_only_the_changed_hand_in_graded_again(runs):
    before, after = runs["unchanged"], runs["one_changed"]
    assert after["graded"] == ["no_bias"]
    assert after["totals"] == {"blank": 0, "correct": 25, "no_bias": 25}
    assert {s: v for s, v in after["outputs"].items() if s != "no_bias"} == \
        {s: v for s, v in before["outputs"].items() if s != "no_bias"}


def test_does_one_student_get_graded_alone_with_everyone_kept(runs):
    before, after = runs["one_changed"], runs["one_student"]
    assert after["result"].returncode == 0, after["result"].stderr[-3000:]
    assert after["graded"] == ["blank"]
    assert after["totals"] == before["totals"]
    assert {s: v for s, v in after["outputs"].items() if s != "blank"} == \
        {s: v for s, v in before["outputs"].items() if s != "blank"}
    assert after["table"] == before["table"] and after["scores_csv"] == before["scores_csv"]


def test_does_force_grade_everyone_again(runs):
    assert runs["forced"]["graded"] == STUDENTS
    assert runs["forced"]["totals"] == runs["one_student"]["totals"]


def test_does_a_new_course_version_grade_everyone_again(runs):
    assert runs["new_course_version"]["graded"] == STUDENTS


def test_is_a_hand_in_whose_feedback_is_gone_graded_again(runs):
    assert runs["feedback_removed"]["graded"] == ["correct"]


def test_is_a_hand_in_whose_submission_was_removed_graded_again(runs):
    assert runs["submission_removed"]["graded"] == ["blank"]
    assert runs["submission_removed"]["totals"] == runs["forced"]["totals"]


def test_does_a_new_due_date_grade_everyone_again(runs):
    assert runs["due_date_set"]["graded"] == STUDENTS
    assert runs["due_date_set"]["totals"] == runs["forced"]["totals"]


def test_does_grading_without_the_sandbox_reuse_nothing(runs):
    assert runs["unsandboxed"]["graded"] == STUDENTS


def test_is_an_unknown_student_refused_with_a_clear_message(runs):
    result = runs["unknown_student"]
    assert result.returncode == 1
    assert "no hand-in folder for nobody" in result.stderr

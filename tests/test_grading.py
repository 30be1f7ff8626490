"""Grading the demo students with the real command, scores read back through nbgrader's gradebook API."""

import csv

import pytest
from nbgrader.api import Gradebook

from coursetools import course, demo_students, notebooks, reflection

from conftest import ROOT, background_result, copy_course, digest_tree, grade_twice, run_grade

BACKGROUND_RUNS = {"graded_course": grade_twice}  # started when the session starts (conftest.py)

ALL_CHECKS = [
    "e1_inputs", "e1_weights", "e1_bias", "e1_output",
    "e2_inputs", "e2_weights1", "e2_weights2", "e2_weights3", "e2_bias1", "e2_bias2", "e2_bias3", "e2_outputs",
    "e3_numpy", "e3_inputs", "e3_weights", "e3_bias", "e3_outputs",
    "e4_inputs", "e4_weights", "e4_biases", "e4_output",
]
NUMPY_CHECKS = [c for c in ALL_CHECKS if c.startswith(("e3_", "e4_"))]

# Student -> (checks that must fail, total out of 25)
EXPECTED = {
    "correct": ([], 25),
    "blank": (ALL_CHECKS, 0),
    "no_bias": (["e1_bias", "e1_output", "e3_bias", "e3_outputs"], 19),
    "swapped_dot": (["e4_output"], 23),
    "plain_python_only": (NUMPY_CHECKS, 14),
    "honest_variants": ([], 25),
    "typed_in_result": (["e1_output"], 23),
}
# The check that passed in the notebook and failed the recheck is flagged for review
FLAGGED = {"typed_in_result": ["e1_output"]}


def status_of(student):
    return "needs review" if student in FLAGGED else "graded"


@pytest.fixture(scope="module")
def points(source_nb):
    return notebooks.test_points(source_nb)


@pytest.fixture(scope="module")
def gradebook(graded_course):
    with Gradebook(course.gradebook_url(graded_course["root"])) as gb:
        yield gb


def test_are_the_checks_listed_here_the_notebooks_checks(points):
    assert list(points) == ALL_CHECKS


def test_does_every_demo_student_have_an_expectation():
    assert set(EXPECTED) == set(demo_students.STUDENTS) == set(course.submitted_students(ROOT))


def test_does_the_grade_command_succeed(graded_course):
    for run in ("first", "second"):
        result = graded_course[run]
        assert result.returncode == 0, result.stderr[-3000:]
        assert "7 hand-ins: 6 graded, 1 needs review; 1 flagged for review" in result.stdout


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_does_each_check_score_exactly_as_expected(gradebook, points, student):
    failing, total = EXPECTED[student]
    submission = gradebook.find_submission_notebook(course.NOTEBOOK, course.ASSIGNMENT, student)
    scores = {g.name: g.score for g in submission.grades if g.cell_type == "code"}
    expected = {check: 0.0 if check in failing else value for check, value in points.items()}
    assert scores == expected
    assert submission.score == total
    assert submission.max_score == 25
    assert [g.name for g in submission.grades if g.needs_manual_grade] == FLAGGED.get(student, [])


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_is_the_score_table_printed(graded_course, student):
    lines = [line.split() for line in graded_course["first"].stdout.splitlines()]
    row = next(line for line in lines if line and line[0] == student)
    assert " ".join(row[5:]) == f"{EXPECTED[student][1]} {status_of(student)}"


def test_does_the_table_add_up_per_exercise(graded_course):
    rows = {line.split()[0]: line.split()[1:5] for line in graded_course["first"].stdout.splitlines()
            if line.split() and line.split()[0] in EXPECTED}
    assert rows["no_bias"] == ["2", "9", "3", "5"]
    assert rows["plain_python_only"] == ["5", "9", "0", "0"]
    assert rows["swapped_dot"] == ["5", "9", "6", "3"]
    assert rows["typed_in_result"] == ["3", "9", "6", "5"]


def test_does_the_scores_csv_hold_every_check_of_every_student(graded_course, points):
    with open(graded_course["root"] / "scores.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(EXPECTED)
    for student, (failing, total) in EXPECTED.items():
        assert rows[student]["status"] == status_of(student)
        assert {c: float(rows[student][c]) for c in points} == {c: 0.0 if c in failing else p for c, p in points.items()}
        assert float(rows[student]["total"]) == total and float(rows[student]["max_score"]) == 25


def test_does_the_grades_csv_hold_every_student(graded_course):
    with open(graded_course["root"] / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(EXPECTED)
    for student, (_, total) in EXPECTED.items():
        assert float(rows[student]["score"]) == total
        assert float(rows[student]["max_score"]) == 25
        assert rows[student]["assignment"] == course.ASSIGNMENT


def test_does_rerunning_give_the_same_result(graded_course):
    assert graded_course["first"].stdout == graded_course["second"].stdout
    assert graded_course["first_csv"] == (graded_course["root"] / "grades.csv").read_text()


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_is_feedback_written_for_every_student(graded_course, student):
    feedback = course.feedback_file(graded_course["root"], student)
    assert feedback.is_file()
    assert f"{EXPECTED[student][1]}" in feedback.read_text(encoding="utf-8")


def test_does_grading_leave_submitted_untouched(graded_course):
    assert digest_tree(graded_course["root"] / "submitted") == digest_tree(ROOT / "submitted")


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_are_the_demo_hand_ins_built_from_the_current_release(release_nb, student):
    committed = notebooks.read(course.submitted_notebook(ROOT, student))
    rebuilt = demo_students.hand_in(release_nb, demo_students.STUDENTS[student], demo_students.REFLECTIONS.get(student))
    assert notebooks.structure(committed) == notebooks.structure(rebuilt), \
        "submitted/ is stale: run `make students`"
    assert any(c.get("outputs") for c in committed.cells if c.cell_type == "code"), "hand-ins are saved after a run"


def test_does_an_empty_submitted_folder_stop_with_a_clear_message(course_copy):
    for student in course.submitted_students(course_copy):
        for path in sorted((course_copy / "submitted" / student).rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        (course_copy / "submitted" / student).rmdir()
    result = run_grade(course_copy)
    assert result.returncode == 1
    assert "Nothing to grade" in result.stderr and "submitted/<student>/" in result.stderr


def test_does_a_missing_config_stop_with_a_clear_message(course_copy):
    (course_copy / "nbgrader_config.py").unlink()
    result = run_grade(course_copy)
    assert result.returncode == 1
    assert "nbgrader_config.py is missing" in result.stderr


def grade_with_a_broken_hand_in(base):
    root = copy_course(base / "course", keep_students=["blank", "correct", "typed_in_result"])
    course.submitted_notebook(root, "blank").write_text("{ this is not a notebook")
    return root, run_grade(root)


BACKGROUND_RUNS["broken_hand_in"] = grade_with_a_broken_hand_in


def test_does_an_ungradable_hand_in_fail_alone():
    """One broken hand-in is reported by name while the others are still graded."""
    course_copy, result = background_result("broken_hand_in")
    assert result.returncode == 1
    assert "3 hand-ins: 1 graded, 1 invalid notebook, 1 needs review" in result.stdout
    assert "Not graded: blank" in result.stderr
    with Gradebook(course.gradebook_url(course_copy)) as gb:
        assert gb.find_submission_notebook(course.NOTEBOOK, course.ASSIGNMENT, "correct").score == 25


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_does_grading_keep_each_students_closing_answers(graded_course, student):
    """The reflection cell has no nbgrader marks: the autograded notebook keeps what the student typed."""
    release = reflection.release_text(ROOT)
    autograded = notebooks.read(course.autograded_notebook(graded_course["root"], student))
    time_taken, unclear = demo_students.REFLECTIONS.get(student, ("", ""))
    assert reflection.answers_of(autograded, release) == reflection.Answers(time_taken, unclear)


def test_does_the_report_show_what_the_class_said_without_names(graded_course):
    page = (graded_course["root"] / "report" / "index.html").read_text(encoding="utf-8")
    section = page.split("<h2>What students said</h2>")[1]
    assert "6 of 7 graded hand-ins answered" in section
    assert "5 answers read as a time, median 1 h; 1 could not be read as a time." in section
    assert "<tr><td>What the bias is for</td><td>2</td></tr>" in section
    assert "<tr><td>Why np.dot wants the weights first</td><td>1</td></tr>" in section
    assert not [student for student in EXPECTED if student in section]

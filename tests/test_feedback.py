"""Feedback files: helpful to the student, and never a leak of hidden tests or solutions."""

import re

import pytest

from coursetools import course, notebooks
from coursetools.engine import recheck

from conftest import feedback_lines, grade_twice, marked_lines
from test_grading import EXPECTED

BACKGROUND_RUNS = {"graded_course": grade_twice}  # started when the session starts (conftest.py)

EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_does_feedback_hide_every_hidden_test_line(graded_course, source_nb, student):
    hidden = marked_lines(source_nb, notebooks.HIDDEN_BEGIN, notebooks.HIDDEN_END)
    shown = feedback_lines(course.feedback_file(graded_course["root"], student))
    assert not hidden & shown, f"hidden test lines in {student}'s feedback: {hidden & shown}"
    assert not any(notebooks.HIDDEN_BEGIN in line for line in shown)


def test_does_feedback_show_no_solution_to_a_student_who_wrote_nothing(graded_course, source_nb, release_nb):
    # the lesson itself shows some of the code (as the document does); only what students never get counts
    public = {line.strip() for cell in release_nb.cells for line in cell.source.splitlines()}
    solutions = marked_lines(source_nb, notebooks.SOLUTION_BEGIN, notebooks.SOLUTION_END) - public
    assert solutions
    shown = feedback_lines(course.feedback_file(graded_course["root"], "blank"))
    assert not solutions & shown, f"solution lines in feedback: {solutions & shown}"


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_does_feedback_work_offline(graded_course, student):
    html = course.feedback_file(graded_course["root"], student).read_text(encoding="utf-8")
    assert not EXTERNAL.search(html), "feedback loads something from the network"
    images = re.findall(r"<img[^>]*\ssrc=\"([^\"]*)\"", html)
    assert len(images) == 3 and all(src.startswith("data:image/png;base64,") for src in images), \
        "every figure is embedded in the file"


def test_does_feedback_explain_a_failed_hidden_check(graded_course):
    """The student sees the check's message, not the hidden assert behind it."""
    shown = feedback_lines(course.feedback_file(graded_course["root"], "no_bias"))
    assert any(line.startswith("AssertionError: `output` is not the neuron's output yet") for line in shown)
    assert "Score: 0.0 / 2.0 (Top)" in shown and "Score: 2.0 / 2.0 (Top)" in shown


def test_does_feedback_say_why_a_typed_in_result_scored_nothing(graded_course):
    """The recheck's verdict reaches the student in words, without the instructor's note."""
    shown = feedback_lines(course.feedback_file(graded_course["root"], "typed_in_result"))
    assert any(line.startswith("RecheckFailed: `output` did not change when `inputs`, `weights` and `bias` changed")
               for line in shown)
    # the notebook itself speaks of the instructor (the closing questions' cell does): what must stay
    # out is the note the recheck writes for the instructor, its prefix and its detail
    autograded = notebooks.read(course.autograded_notebook(graded_course["root"], "typed_in_result"))
    details = [note.split(": ", 1)[1] for note in recheck.instructor_notes(autograded)]
    assert details and all(details)
    assert not any(recheck.INSTRUCTOR_PREFIX.strip() in line or any(d in line for d in details) for line in shown)

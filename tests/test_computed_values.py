"""The value each computed result held after its answer cell: read back when graded, kept in the
autograded notebook's metadata as plain numbers only, and counted in the instructor's report."""

import re

import pytest
from nbgrader.api import Gradebook
from nbformat.v4 import new_notebook

from coursetools import class_report, course, demo_students, notebooks
from coursetools.engine import answer_key, computed_values

from conftest import background_result, copy_course, run_grade

PLANTED = {"e1_output": 0.3, "e4_output": "<script>alert(1)</script>"}
# Exercise 2 written as Exercise 1's three terms per neuron, leaving Exercise 4 as released
LAST_INPUT_LEFT_OUT = (
    "outputs = [\n"
    "    inputs[0]*weights1[0] + inputs[1]*weights1[1] + inputs[2]*weights1[2] + bias1,\n"
    "    inputs[0]*weights2[0] + inputs[1]*weights2[1] + inputs[2]*weights2[2] + bias2,\n"
    "    inputs[0]*weights3[0] + inputs[1]*weights3[1] + inputs[2]*weights3[2] + bias3,\n"
    "]"
)


def planted_hand_in(release):
    """Exercise 1 right and Exercise 2 wrong, with wrong values planted where the grader records them."""
    answers = {cell: code for cell, code in demo_students.CORRECT.items() if cell != "e4_output_answer"}
    nb = demo_students.hand_in(release, {**answers, "e2_outputs_answer": LAST_INPUT_LEFT_OUT})
    nb.metadata[computed_values.METADATA_SECTION] = {computed_values.COMPUTED: dict(PLANTED)}
    return nb


# Exercise 1's result left as an endless iterator: its check fails, and nothing may hang on it
ENDLESS = {**demo_students.CORRECT, "e1_output_answer": "import itertools\noutput = itertools.count()"}


def grade_a_few_mistakes(base):
    """`no_bias` leaves the bias out of Exercises 1 and 3; `planted` also plants values in its metadata;
    `endless` leaves an endless iterator where Exercise 1's result belongs."""
    root = copy_course(base / "course", keep_students=["correct", "no_bias"])
    release = notebooks.read(course.release_notebook(root))
    notebooks.write(planted_hand_in(release), course.submitted_notebook(root, "planted"))
    notebooks.write(demo_students.hand_in(release, ENDLESS), course.submitted_notebook(root, "endless"))
    return root, run_grade(root)


BACKGROUND_RUNS = {"a_few_mistakes": grade_a_few_mistakes}  # started when the session starts (conftest.py)


@pytest.fixture(scope="module")
def graded():
    root, result = background_result("a_few_mistakes")
    assert result.returncode == 0, result.stderr[-3000:]
    return root


def recorded_metadata(root, student) -> dict:
    nb = notebooks.read(course.autograded_notebook(root, student))
    return nb.metadata[computed_values.METADATA_SECTION][computed_values.COMPUTED]


def same_results(recorded: dict, expected: dict) -> bool:
    return recorded.keys() == expected.keys() and all(
        answer_key.matches(recorded[check], value, answer_key.COMPUTED_TOLERANCE) for check, value in expected.items())


def test_does_grading_record_the_value_each_answer_cell_left(graded):
    assert same_results(recorded_metadata(graded, "correct"), {
        "e1_output": 2.3, "e2_outputs": [4.8, 1.21, 2.385], "e3_outputs": 4.8, "e4_output": [4.8, 1.21, 2.385]})
    no_bias = recorded_metadata(graded, "no_bias")
    assert same_results({check: no_bias[check] for check in ("e1_output", "e3_outputs")},
                        {"e1_output": 0.3, "e3_outputs": 2.8})


def test_does_an_endless_iterator_cost_only_its_own_check(graded):
    """Looking at the answer cell's result iterates nothing: the rest of the notebook runs and scores."""
    with Gradebook(course.gradebook_url(graded)) as gradebook:
        assert gradebook.find_submission(course.ASSIGNMENT, "endless").score == 23
    assert "e1_output" not in recorded_metadata(graded, "endless")
    assert same_results({check: recorded_metadata(graded, "endless")[check] for check in ("e3_outputs",)},
                        {"e3_outputs": 4.8})


def test_does_a_value_planted_in_the_hand_ins_metadata_not_survive_grading(graded):
    planted = recorded_metadata(graded, "planted")
    assert same_results(planted, {"e1_output": 2.3, "e2_outputs": [2.3, 2.46, 0.21], "e3_outputs": 4.8})


def test_does_the_report_list_the_bias_left_out_with_its_one_student(graded):
    page = (graded / class_report.REPORT_FOLDER / class_report.REPORT_PAGE).read_text(encoding="utf-8")
    section = page.split("<h2>Common wrong results</h2>")[1].split("<h2>")[0]
    exercises = dict(re.findall(r"<h3>(Exercise \d): .*?</h3>(.*?)(?=<h3>|$)", section, re.DOTALL))
    assert "<tr><td>0.3</td><td>1</td><td>bias left out</td></tr>" in exercises["Exercise 1"]
    assert "wrong in 1 of 3 hand-ins with a value" in exercises["Exercise 1"]
    assert re.search(r"<tr><td>\[2\.3, 2\.46, 0\.21\]</td><td>1</td><td>last input and its weight left out",
                     exercises["Exercise 2"])
    assert "<tr><td>2.8</td><td>1</td><td>bias left out</td></tr>" in exercises["Exercise 3"]
    assert "1 hand-in had no value for <code>output</code>" in exercises["Exercise 4"]
    assert "script" not in section


@pytest.mark.parametrize("value, kept", [
    (2.3, 2.3), (2, 2.0), ([4.8, 1.21, 2.385], [4.8, 1.21, 2.385]), ([[1, 2], [3, 4]], [[1.0, 2.0], [3.0, 4.0]]),
    ([], []), (-0.0, -0.0),
    (float("nan"), None), (float("inf"), None), (10**400, None), (True, None), ("2.3", None),
    ("<script>alert(1)</script>", None), (None, None), ({"a": 1}, None), ([1.0, "x"], None), ([1.0, None], None),
    ([[[1.0]]], None), ([1.0] * (computed_values.MAX_NUMBERS + 1), None), ([1.0] * 10**6, None),
    ([[1.0] * 60] * 2, None),
])
def test_is_only_a_small_plain_value_kept(value, kept):
    assert computed_values.plain_result(value) == kept


def test_does_recording_replace_whatever_the_metadata_held():
    nb = new_notebook()
    nb.metadata["course"] = {"computed": {"e1_output": 0.3, "e2_outputs": [1, 2, 3], "e9_output": 1}}
    read = {"e1_output": 2.3, "e3_outputs": float("nan"), "e4_output": "<b>", "e9_output": 5}
    nb, _ = computed_values.RecordComputedValues().preprocess(nb, {"course": {computed_values.RESOURCE: read}})
    assert nb.metadata["course"]["computed"] == {"e1_output": 2.3}


@pytest.mark.parametrize("planted", [{"computed": {"e1_output": 0.3}}, "not a section", None])
def test_is_the_key_written_even_when_nothing_was_read(planted):
    nb = new_notebook()
    nb.metadata["course"] = planted
    nb, _ = computed_values.RecordComputedValues().preprocess(nb, {})
    assert nb.metadata["course"]["computed"] == {}


def test_are_the_values_recorded_after_every_step_that_touches_the_metadata():
    steps = course.load_nbgrader_config(course.REPOSITORY_ROOT).Autograde.autograde_preprocessors
    names = [step.__name__ for step in steps]
    assert (names.index("GradingExecute") < names.index("ClearMetadataPreprocessor")
            < names.index("RecordComputedValues"))


def test_is_a_recorded_value_read_back_as_data_only():
    assert computed_values.recorded({"metadata": {"course": {"computed": PLANTED}}}) == {"e1_output": 0.3}
    for hostile in ({"metadata": {"course": ["x"]}}, {"metadata": None}, {}, "not a notebook"):
        assert computed_values.recorded(hostile) == {}


"""The master notebook in source/: lesson, exercises and autograder tests."""

import ast
import json
import re

import pytest
from nbgrader.validator import Validator

from coursetools import course, figures, lesson, notebooks
from coursetools.engine import answer_key

from conftest import execute

EXPECTED_OUTPUT_HEADING = "**Expected output:**"
# Printed values are compared as numbers, within this tolerance, never as strings
PRINT_TOLERANCE = 1e-9


def printed_value(text: str):
    """Parse printed numbers, Python lists or NumPy arrays alike, into nested lists of floats."""
    # NumPy separates elements with spaces: `[4.8   1.21  2.385]`
    as_python = re.sub(r"(?<=[\d.])\s+(?=[-\d\[])", ", ", text.strip())
    return ast.literal_eval(as_python)


def assert_same_value(actual, expected, where):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for a, e in zip(actual, expected):
            assert_same_value(a, e, where)
    else:
        assert abs(actual - expected) <= PRINT_TOLERANCE, f"{where}: {actual!r} != {expected!r}"


def expected_output_blocks(nb):
    """(code cell before it, expected text) for every 'Expected output' cell."""
    blocks = []
    for previous, cell in zip(nb.cells, nb.cells[1:]):
        if cell.cell_type == "markdown" and cell.source.startswith(EXPECTED_OUTPUT_HEADING):
            text = cell.source.split("```")[1].strip("\n")
            blocks.append((previous, text))
    return blocks


def stdout_of(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def test_is_the_source_notebook_normalised():
    assert notebooks.normalise_files([course.source_notebook(course.REPOSITORY_ROOT)], check=True) == [], \
        "the source notebook carries outputs or editor metadata: run `make normalise`"


def test_does_every_test_cell_pass_on_the_solutions():
    results = Validator().validate(str(course.source_notebook(course.REPOSITORY_ROOT)))
    assert results == {}, f"nbgrader validate reports problems in the source: {results}"


def test_does_the_source_run_without_errors_or_warnings(executed_source):
    for cell in executed_source.cells:
        if cell.cell_type == "code":
            kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
            assert ("stream", "stderr") not in kinds and ("error", None) not in kinds, cell.source


def test_does_the_notebook_show_the_documents_expected_outputs(source_nb):
    shown = [text for _, text in expected_output_blocks(source_nb)]
    assert len(shown) == len(lesson.EXPECTED_PRINTS)
    for text, expected in zip(shown, lesson.EXPECTED_PRINTS):
        assert_same_value(printed_value(text), printed_value(expected), f"expected output {text!r}")


def test_does_every_expected_output_show_exactly_what_the_cell_prints(executed_source):
    """Students compare text: NumPy's padding (`[4.8   1.21  2.385]`) included."""
    for cell, expected in expected_output_blocks(executed_source):
        assert stdout_of(cell).strip() == expected.strip(), cell.source


def test_does_every_printed_result_equal_the_expected_output(executed_source):
    blocks = expected_output_blocks(executed_source)
    assert blocks, "no 'Expected output' cells found"
    for cell, expected in blocks:
        assert_same_value(printed_value(stdout_of(cell)), printed_value(expected), cell.source)


# After each exercise's last check: the names it defines and the document's values for them
EXERCISE_VALUES = {
    "e1_output": {"inputs": lesson.E1_INPUTS, "weights": lesson.E1_WEIGHTS, "bias": lesson.E1_BIAS,
                  "output": lesson.E1_OUTPUT},
    "e2_outputs": {"inputs": lesson.E2_INPUTS, "weights1": lesson.E2_WEIGHTS1, "weights2": lesson.E2_WEIGHTS2,
                   "weights3": lesson.E2_WEIGHTS3, "bias1": lesson.E2_BIAS1, "bias2": lesson.E2_BIAS2,
                   "bias3": lesson.E2_BIAS3, "outputs": lesson.E2_OUTPUTS},
    "e3_outputs": {"inputs": lesson.E3_INPUTS, "weights": lesson.E3_WEIGHTS, "bias": lesson.E3_BIAS,
                   "outputs": lesson.E3_OUTPUTS},
    "e4_output": {"inputs": lesson.E4_INPUTS, "weights": lesson.E4_WEIGHTS, "biases": lesson.E4_BIASES,
                  "output": lesson.E4_OUTPUT},
}
PROBE = """import json as _json
print(_json.dumps({_n: getattr(globals()[_n], "tolist", lambda: globals()[_n])() for _n in %r}))"""


@pytest.fixture(scope="module")
def exercise_namespaces(source_nb):
    """The solution's variables as they stand at the end of each exercise, read from a real kernel."""
    nb = notebooks.nbformat.from_dict(source_nb)
    probed = []
    for cell in nb.cells:
        probed.append(cell)
        grade_id = notebooks.nbgrader_meta(cell).get("grade_id")
        if grade_id in EXERCISE_VALUES and notebooks.is_test_cell(cell):
            probe = notebooks.nbformat.v4.new_code_cell(PROBE % list(EXERCISE_VALUES[grade_id]))
            probe.metadata["probe_for"] = grade_id
            probed.append(probe)
    nb.cells = probed
    executed = execute(nb)
    return {c.metadata["probe_for"]: json.loads(stdout_of(c)) for c in executed.cells if "probe_for" in c.metadata}


@pytest.mark.parametrize("last_check", sorted(EXERCISE_VALUES))
def test_do_the_solutions_hold_the_documents_values(exercise_namespaces, last_check):
    for name, expected in EXERCISE_VALUES[last_check].items():
        assert_same_value(exercise_namespaces[last_check][name], expected, f"{name} after {last_check}")


def test_does_every_graded_cell_follow_the_house_style(source_nb):
    for cell in source_nb.cells:
        if not notebooks.is_test_cell(cell):
            continue
        grade_id = notebooks.nbgrader_meta(cell)["grade_id"]
        tree = ast.parse(cell.source)
        assert isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant) \
            and tree.body[0].value.value.startswith("Check that"), f"{grade_id}: first line is not a 'Check that' docstring"
        # a bare expression at the end would be read by nbgrader as partial credit
        assert not isinstance(tree.body[-1], ast.Expr), f"{grade_id}: ends with an expression"
        visible, hidden = cell.source.split(notebooks.HIDDEN_BEGIN)
        assert "assert" in visible, f"{grade_id}: no visible check"
        assert "When graded" in hidden and notebooks.HIDDEN_END in hidden, \
            f"{grade_id}: the hidden part does not say what else runs when the notebook is graded"
        # nbgrader runs check cells in the student's kernel, which can print them: the hidden part
        # holds no secret, only words; what it describes runs outside the kernel
        hidden_lines = notebooks.marked_regions(cell.source, notebooks.HIDDEN_BEGIN, notebooks.HIDDEN_END)
        assert all(line.startswith("#") for line in hidden_lines), f"{grade_id}: code in the hidden part"
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                assert node.msg is not None, f"{grade_id}: an assert without a message for the student"
            # check cells run in the student's namespace: they may import modules but bind no other name
            assert not isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.NamedExpr)), \
                f"{grade_id}: binds a name the student might be using"
        assert notebooks.nbgrader_meta(cell)["points"] > 0


@pytest.mark.parametrize("grade_id", sorted(answer_key.CHECKS))
def test_does_the_visible_check_compare_the_lessons_value_with_its_stated_tolerance(source_nb, grade_id):
    """Visible checks test the values the notebook prints, so Validate's Success means every result is right."""
    cell = next(c for c in source_nb.cells if notebooks.nbgrader_meta(c).get("grade_id") == grade_id)
    visible = cell.source.split(notebooks.HIDDEN_BEGIN)[0]
    check = answer_key.CHECKS[grade_id]
    if check.expected is True:
        assert "sys.modules" in visible
        return
    tree = ast.parse(visible)
    tolerances = {ast.literal_eval(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.keyword) and node.arg in ("abs_tol", "atol")}
    assert tolerances == {check.tolerance}, f"{grade_id}: compared within {tolerances}, not {check.tolerance:g}"
    stated = {float(value) for value in re.findall(r"# .*within ([0-9.e+-]+)", visible)}
    assert stated == {check.tolerance}, f"{grade_id}: the tolerance is not stated beside the check"
    literals = [ast.literal_eval(node) for node in ast.walk(tree)
                if isinstance(node, ast.List) or isinstance(node, ast.Constant) and type(node.value) in (int, float)]
    assert any(answer_key.matches(value, check.expected, 0) for value in literals), \
        f"{grade_id}: the visible check does not compare with the lesson's value {check.expected}"


def test_is_every_answer_cell_followed_by_its_check(source_nb):
    """Each exercise's checks sit right after its answers, so reused names are checked as they stand there."""
    cells = source_nb.cells
    for index, cell in enumerate(cells):
        if notebooks.is_answer_cell(cell):
            grade_id = notebooks.nbgrader_meta(cell)["grade_id"]
            following = [c for c in cells[index + 1:index + 3] if notebooks.is_test_cell(c)]
            assert following and notebooks.nbgrader_meta(following[0])["grade_id"] == grade_id.removesuffix("_answer"), \
                f"{grade_id} is not followed by its check"
            assert cell.source.startswith("# "), f"{grade_id}: the stub does not start with a one-line instruction"


def test_are_the_points_as_published(source_nb):
    points = notebooks.test_points(source_nb)
    per_exercise = {}
    for grade_id, value in points.items():
        per_exercise[notebooks.exercise_of(grade_id)] = per_exercise.get(notebooks.exercise_of(grade_id), 0) + value
    assert per_exercise == {"e1": 5, "e2": 9, "e3": 6, "e4": 5}
    assert len(points) == 21


LESSON_SECTIONS = [
    "What is deep learning", "Why deep learning matters", "Open-source deep learning frameworks",
    "When to use deep learning", "Neural networks versus hand-engineered features", "What is a neural network",
    "Forward propagation", "Back propagation", "Deep learning versus neural networks", "The building blocks",
    "Neurons", "Exercise 1", "Synapses and weights", "Bias", "Layers", "Exercise 2", "Exercise 3", "Exercise 4",
]


def test_does_the_lesson_follow_the_documents_order(source_nb):
    headings = [line.lstrip("#").strip() for cell in source_nb.cells if cell.cell_type == "markdown"
                for line in cell.source.splitlines() if line.startswith("#")]
    positions = []
    for section in LESSON_SECTIONS:
        matches = [i for i, h in enumerate(headings) if section.lower() in h.lower()]
        assert matches, f"no heading for {section!r}"
        positions.append(matches[0])
    assert positions == sorted(positions), "the lesson's sections are out of the document's order"


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_is_every_figure_shown_and_up_to_date(source_nb, name, tmp_path):
    markdown = "".join(c.source for c in source_nb.cells if c.cell_type == "markdown")
    assert f"](figures/{name})" in markdown, f"{name} is drawn but never shown"
    committed = course.source_notebook(course.REPOSITORY_ROOT).parent / "figures" / name
    fresh = {p.name: p for p in figures.draw_all(tmp_path)}[name]
    assert committed.read_bytes() == fresh.read_bytes(), f"{name} is out of date: run `make figures`"

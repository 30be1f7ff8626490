"""Write the demo students' hand-ins into submitted/.

Each hand-in starts from the release notebook, exactly as a student gets it,
and replaces the stub of some answer cells with that student's code; most
students also answer the optional closing questions. The notebook is then
run once, as the student would before handing in, so it carries outputs.
Rerun this after every change to the release.

Usage: python -m coursetools.demo_students [--root DIR]
"""

import argparse
from pathlib import Path

import nbclient

from coursetools import course, notebooks, reflection

STUB = "# YOUR CODE HERE\nraise NotImplementedError()"

# A correct answer for every answer cell, written as a student would
CORRECT = {
    "e1_inputs_answer": "inputs = [1, 2, 3]",
    "e1_weights_answer": "weights = [0.2, 0.8, -0.5]",
    "e1_bias_answer": "bias = 2",
    "e1_output_answer": "output = inputs[0]*weights[0] + inputs[1]*weights[1] + inputs[2]*weights[2] + bias",
    "e2_inputs_answer": "inputs = [1, 2, 3, 2.5]",
    "e2_weights1_answer": "weights1 = [0.2, 0.8, -0.5, 1]",
    "e2_weights2_answer": "weights2 = [0.5, -0.91, 0.26, -0.5]",
    "e2_weights3_answer": "weights3 = [-0.26, -0.27, 0.17, 0.87]",
    "e2_bias1_answer": "bias1 = 2",
    "e2_bias2_answer": "bias2 = 3",
    "e2_bias3_answer": "bias3 = 0.5",
    "e2_outputs_answer": (
        "outputs = [\n"
        "    inputs[0]*weights1[0] + inputs[1]*weights1[1] + inputs[2]*weights1[2] + inputs[3]*weights1[3] + bias1,\n"
        "    inputs[0]*weights2[0] + inputs[1]*weights2[1] + inputs[2]*weights2[2] + inputs[3]*weights2[3] + bias2,\n"
        "    inputs[0]*weights3[0] + inputs[1]*weights3[1] + inputs[2]*weights3[2] + inputs[3]*weights3[3] + bias3,\n"
        "]"
    ),
    "e3_numpy_answer": "import numpy as np",
    "e3_inputs_answer": "inputs = [1, 2, 3, 2.5]",
    "e3_weights_answer": "weights = [0.2, 0.8, -0.5, 1.0]",
    "e3_bias_answer": "bias = 2",
    "e3_outputs_answer": "outputs = np.dot(weights, inputs) + bias",
    "e4_inputs_answer": "inputs = [1.0, 2.0, 3.0, 2.5]",
    "e4_weights_answer": (
        "weights = [[0.2, 0.8, -0.5, 1],\n"
        "           [0.5, -0.91, 0.26, -0.5],\n"
        "           [-0.26, -0.27, 0.17, 0.87]]"
    ),
    "e4_biases_answer": "biases = [2.0, 3.0, 0.5]",
    "e4_output_answer": "output = np.dot(weights, inputs) + biases",
}

PLAIN_PYTHON = {cell: code for cell, code in CORRECT.items() if cell.startswith(("e1_", "e2_"))}

# Student id -> the answer cells they filled in, and with what
STUDENTS = {
    "correct": CORRECT,
    # Opened the notebook and handed it in without writing anything
    "blank": {},
    # Left both bias cells as they were and computed the outputs without a bias
    "no_bias": {
        **{cell: code for cell, code in CORRECT.items() if cell not in ("e1_bias_answer", "e3_bias_answer")},
        "e1_output_answer": "output = inputs[0]*weights[0] + inputs[1]*weights[1] + inputs[2]*weights[2]",
        "e3_outputs_answer": "outputs = np.dot(weights, inputs)",
    },
    # Swapped the arguments of np.dot in the layer: shapes (4,) and (3, 4) do not align
    "swapped_dot": {**CORRECT, "e4_output_answer": "output = np.dot(inputs, weights) + biases"},
    # Did the plain-Python exercises and stopped before NumPy
    "plain_python_only": PLAIN_PYTHON,
    # Typed Exercise 1's result in from the expected output: the checks pass, the recheck does not
    "typed_in_result": {**CORRECT, "e1_output_answer": "output = 2.3"},
    # Correct throughout, by other honest routes than the lesson's
    "honest_variants": {
        **CORRECT,
        "e1_output_answer": (
            "# each input times its weight, summed, plus the bias\n"
            "output = sum(x * w for x, w in zip(inputs, weights)) + bias"
        ),
        "e2_bias1_answer": "bias1 = 2.0",
        "e2_outputs_answer": (
            "outputs = []\n"
            "for neuron_weights, neuron_bias in zip([weights1, weights2, weights3], [bias1, bias2, bias3]):\n"
            "    total = neuron_bias\n"
            "    for x, w in zip(inputs, neuron_weights):\n"
            "        total += x * w\n"
            "    outputs.append(total)"
        ),
        "e3_inputs_answer": "inputs = np.array([1, 2, 3, 2.5])",
        "e3_outputs_answer": "outputs = np.array(weights) @ inputs + bias",
        "e4_weights_answer": (
            "weights = np.array([[0.2, 0.8, -0.5, 1],\n"
            "                    [0.5, -0.91, 0.26, -0.5],\n"
            "                    [-0.26, -0.27, 0.17, 0.87]])"
        ),
        "e4_output_answer": "output = np.dot(inputs, np.array(weights).T) + biases",
    },
}

# Student id -> their answers to the closing questions (time taken, what was unclear), in the
# forms students write them; the others leave the questions as they are
REFLECTIONS = {
    "correct": ("about 40 minutes", ""),
    "no_bias": ("an hour", "What the bias is for"),
    "swapped_dot": ("a while", ""),
    "plain_python_only": ("2 hours", "What np.dot does"),
    "typed_in_result": ("45", "what the bias is for."),
    "honest_variants": ("1h30", "Why np.dot wants the weights first"),
}


def hand_in(release: notebooks.nbformat.NotebookNode, answers: dict[str, str], reflection_answers=None):
    """The release notebook with the given answer cells filled in, and the closing questions answered
    when `reflection_answers` (time taken, what was unclear) is given; not yet run."""
    nb = notebooks.nbformat.from_dict(release)
    if reflection_answers:
        answer_closing_questions(nb, *reflection_answers)
    filled = set()
    for cell in nb.cells:
        cell_id = notebooks.nbgrader_meta(cell).get("grade_id")
        if cell_id in answers:
            if STUB not in cell.source:
                raise ValueError(f"answer cell {cell_id!r} in the release has no stub to replace; "
                                 "regenerate the release with `make release`")
            cell.source = cell.source.replace(STUB, answers[cell_id])
            filled.add(cell_id)
    unknown = set(answers) - filled
    if unknown:
        raise ValueError(f"no answer cells named {sorted(unknown)} in the release; update STUDENTS in {__file__}")
    return nb


def answer_closing_questions(nb, time_taken: str, unclear: str) -> None:
    cell = next((c for c in nb.cells if c.get("id") == reflection.CELL_ID), None)
    if cell is None:
        raise ValueError(f"no cell with id {reflection.CELL_ID!r} in the release; regenerate it with `make release`")
    cell.source = reflection.answered(cell.source, time_taken, unclear)


def run_as_student(nb, workdir: Path, config):
    """Run every cell once, errors included, the way Run All leaves a notebook."""
    client = nbclient.NotebookClient(nb, timeout=30, allow_errors=True, record_timing=False, config=config,
                                     resources={"metadata": {"path": str(workdir)}})
    return client.execute()


def write_all(root: Path) -> list[Path]:
    course.environment_bin_on_path()
    config = course.load_nbgrader_config(root)  # same kernel settings as grading
    release = notebooks.read(course.release_notebook(root))
    written = []
    for student, answers in STUDENTS.items():
        path = course.submitted_notebook(root, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        nb = hand_in(release, answers, REFLECTIONS.get(student))
        notebooks.write(run_as_student(nb, path.parent, config), path)
        written.append(path)
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m coursetools.demo_students", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=course.REPOSITORY_ROOT, help="course root (default: this repository)")
    args = parser.parse_args(argv)
    for path in write_all(args.root):
        print(f"wrote {path.relative_to(args.root)}")


if __name__ == "__main__":
    main()

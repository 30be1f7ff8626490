"""Named submissions for the corpus test: cheats, honest variants, tampering and failures.

Each entry builds a hand-in from the release notebook and states exactly
which checks must score 0 and which status the hand-in must end with.
Every other check must score its full points.
"""

from dataclasses import dataclass, field

from coursetools import demo_students, notebooks

CORRECT = demo_students.CORRECT
PLAIN_PYTHON = demo_students.PLAIN_PYTHON
NUMPY_CHECKS = ["e3_numpy", "e3_inputs", "e3_weights", "e3_bias", "e3_outputs",
                "e4_inputs", "e4_weights", "e4_biases", "e4_output"]


@dataclass(frozen=True)
class Submission:
    answers: dict  # answer cell id -> code, as in demo_students
    failing: list = field(default_factory=list)  # checks that must score 0
    status: str = "graded"
    change: object = None  # optional function(notebook) that edits the hand-in further


# Cheats that fool nbgrader's own hidden tests in the kernel: only the recheck catches them.
# (Environment sniffing would too, but the sandbox starts kernels with an empty environment.)
FOOLS_THE_KERNEL = {
    "fake_len_iter_array", "input_transformer", "literal_array_e4", "literal_output_e1",
    "literal_outputs_e2", "literal_outputs_e3", "literal_via_helper", "patched_allclose", "patched_isclose",
    "shadowed_all", "shadowed_builtins", "swapped_math_module",
}


def with_answer(cell_id, code, base=CORRECT):
    return {**base, cell_id: code}


def cell(nb, grade_id):
    return next(c for c in nb.cells if notebooks.nbgrader_meta(c).get("grade_id") == grade_id)


def add_cell(source):
    def change(nb):
        nb.cells.append(notebooks.nbformat.v4.new_code_cell(source))
    return change


def delete_cell(grade_id):
    def change(nb):
        nb.cells = [c for c in nb.cells if notebooks.nbgrader_meta(c).get("grade_id") != grade_id]
    return change


def set_source(grade_id, source):
    def change(nb):
        cell(nb, grade_id).source = source
    return change


def set_points(grade_id, points):
    def change(nb):
        cell(nb, grade_id).metadata.nbgrader.points = points
    return change


def unflag_check(grade_id):
    def change(nb):
        meta = cell(nb, grade_id).metadata.nbgrader
        meta.grade, meta.locked, meta.checksum = False, False, "0" * 32
    return change


def to_markdown(grade_id):
    def change(nb):
        target = cell(nb, grade_id)
        target.cell_type = "markdown"
        target.pop("outputs", None)
        target.pop("execution_count", None)
    return change


def strip_metadata(grade_id):
    def change(nb):
        cell(nb, grade_id).metadata.pop("nbgrader")
    return change


def invent_check(nb):
    nb.cells.append(notebooks.nbformat.v4.new_code_cell("bonus = True", metadata={"nbgrader": {
        "grade": True, "grade_id": "bonus", "points": 50, "locked": False, "solution": False,
        "schema_version": 3, "task": False}}))


ALWAYS_EQUAL_FLOAT = """class Same(float):
    def __eq__(self, other): return True
    def __sub__(self, other): return Same(0)
    def __abs__(self): return 0.0
    def __float__(self): return 2.3
output = Same(0)"""

ALWAYS_EQUAL_ARRAY = """class Same(np.ndarray):
    def __eq__(self, other): return np.ones(3, dtype=bool)
output = np.zeros(3).view(Same)"""

FAKE_SEQUENCE = """class Fake:
    def __len__(self): return 3
    def __iter__(self): return iter([4.8, 1.21, 2.385])
    def __array__(self, dtype=None, copy=None): return np.array([4.8, 1.21, 2.385])
output = Fake()"""

CORPUS = {
    # --- cheats: each gains nothing -------------------------------------------------------------
    "literal_output_e1": Submission(with_answer("e1_output_answer", "output = 2.3"), ["e1_output"]),
    "literal_outputs_e2": Submission(with_answer("e2_outputs_answer", "outputs = [4.8, 1.21, 2.385]"), ["e2_outputs"]),
    "literal_outputs_e3": Submission(with_answer("e3_outputs_answer", "outputs = 4.8"), ["e3_outputs"]),
    "literal_array_e4": Submission(with_answer("e4_output_answer", "output = np.array([4.8, 1.21, 2.385])"),
                                   ["e4_output"]),
    "literal_via_helper": Submission(with_answer("e1_output_answer", "result = 2.3\noutput = result"), ["e1_output"]),
    "patched_allclose": Submission(with_answer(
        "e4_output_answer", "np.allclose = lambda *a, **k: True\noutput = np.zeros(3)"), ["e4_output"]),
    "patched_isclose": Submission(with_answer(
        "e1_output_answer", "import math\nmath.isclose = lambda *a, **k: True\noutput = 0.0"), ["e1_output"]),
    "patched_builtins_module": Submission(with_answer(
        "e1_output_answer", "import builtins\nbuiltins.all = lambda values: True\noutput = 0.0"), ["e1_output"]),
    "patched_operator": Submission(with_answer(
        "e1_output_answer", "import operator\noperator.eq = lambda a, b: True\noutput = 0.0"), ["e1_output"]),
    "always_equal_float": Submission(with_answer("e1_output_answer", ALWAYS_EQUAL_FLOAT), ["e1_output"]),
    "always_equal_array": Submission(with_answer("e4_output_answer", ALWAYS_EQUAL_ARRAY), ["e4_output"]),
    "fake_len_iter_array": Submission(with_answer("e4_output_answer", FAKE_SEQUENCE), ["e4_output"]),
    # `all` is what the hidden tests use to compare lists
    "shadowed_all": Submission(with_answer("e1_inputs_answer", "all = lambda values: True\ninputs = [0, 0, 0]"),
                               ["e1_inputs", "e1_output"]),
    # the hidden test of e3_outputs converts with `float`; the cheat undoes itself before it breaks E4
    "shadowed_builtins": Submission({**with_answer(
        "e3_outputs_answer", "float = lambda value: 4.8\nisinstance = lambda *a: True\noutputs = 0.0"),
        "e4_inputs_answer": "del float, isinstance\ninputs = [1.0, 2.0, 3.0, 2.5]"}, ["e3_outputs"]),
    "shadowed_more_builtins": Submission({**with_answer(
        "e1_output_answer", "len = lambda x: 3\nabs = lambda x: 0\nround = lambda *a: 0\ntype = lambda x: float\n"
                            "AssertionError = Warning\noutput = 0.0"),
        "e2_inputs_answer": "del len, abs, round, type, AssertionError\ninputs = [1, 2, 3, 2.5]"}, ["e1_output"]),
    "input_transformer": Submission(with_answer(
        "e1_output_answer", "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"),
        ["e1_output"]),
    "ast_transformer": Submission(with_answer(
        "e1_output_answer", "import ast\nget_ipython().ast_transformers.append(ast.NodeTransformer())\noutput = 0"),
        ["e1_output"]),
    "exception_handler": Submission(with_answer(
        "e1_output_answer", "get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)\noutput = 0"),
        ["e1_output"]),
    "event_callback": Submission(CORRECT, [], change=add_cell(
        "get_ipython().events.register('pre_run_cell', lambda info: None)")),
    "rewritten_history": Submission(with_answer("e1_output_answer", "In[-1] = ''\nOut.clear()\noutput = 0"),
                                    ["e1_output"]),
    "environment_sniffer": Submission(with_answer(
        "e1_output_answer", "import os\noutput = 2.3 if 'NBGRADER_EXECUTION' in os.environ else 0.0"), ["e1_output"]),
    "swapped_math_module": Submission(with_answer(
        "e1_output_answer", "import sys, types\nfake = types.SimpleNamespace(isclose=lambda *a, **k: True)\n"
                            "sys.modules['math'] = fake\noutput = 0.0"),
        # the fake module also breaks the student's own `import numpy` later on; `bias = 2` needs no NumPy
        ["e1_output", *(c for c in NUMPY_CHECKS if c != "e3_bias")]),
    # --- honest variants: each loses nothing -----------------------------------------------------
    "comprehension_layer": Submission(with_answer(
        "e2_outputs_answer", "outputs = [sum(x * w for x, w in zip(inputs, ws)) + b\n"
                             "           for ws, b in zip([weights1, weights2, weights3], [bias1, bias2, bias3])]")),
    "matmul_operator": Submission({**with_answer("e3_outputs_answer", "outputs = np.array(weights) @ np.array(inputs) + bias"),
                                   "e4_output_answer": "output = np.array(weights) @ inputs + np.array(biases)"}),
    "floats_and_ints": Submission({**CORRECT, "e1_inputs_answer": "inputs = [1.0, 2.0, 3.0]", "e1_bias_answer": "bias = 2.0",
                                   "e4_biases_answer": "biases = [2, 3, 0.5]"}),
    "prints_comments_helpers": Submission(with_answer(
        "e1_output_answer", "# the neuron's output\n\nweighted = [x * w for x, w in zip(inputs, weights)]\n"
                            "print(weighted)\n\noutput = sum(weighted) + bias\nprint('output is', output)"),
        change=add_cell("# my own notes\nprint('checking my layer:', outputs)\n")),
    "helper_function": Submission({**with_answer(
        "e1_output_answer", "def neuron(xs, ws, b):\n    return sum(x * w for x, w in zip(xs, ws)) + b\n\n"
                            "output = neuron(inputs, weights, bias)"),
        "e2_outputs_answer": "outputs = [neuron(inputs, weights1, bias1), neuron(inputs, weights2, bias2),\n"
                             "           neuron(inputs, weights3, bias3)]"}),
    "names_reused_afterwards": Submission(CORRECT, change=add_cell("inputs = None\noutput = 'finished'\nweights = []")),
    "arrays_everywhere": Submission({**CORRECT, "e4_inputs_answer": "inputs = np.array([1.0, 2.0, 3.0, 2.5])",
                                     "e4_biases_answer": "biases = np.array([2.0, 3.0, 0.5])",
                                     "e3_weights_answer": "weights = np.array([0.2, 0.8, -0.5, 1.0])"}),
    "variable_named_sum": Submission(with_answer(
        "e1_output_answer", "sum = 0\nfor x, w in zip(inputs, weights):\n    sum += x * w\noutput = sum + bias")),
    "tuple_inputs": Submission(with_answer("e1_inputs_answer", "inputs = (1, 2, 3)")),
    # --- tampering: repaired, graded, noted -------------------------------------------------------
    "deleted_check": Submission(CORRECT, [], "tampered and restored", delete_cell("e1_output")),
    "emptied_check_wrong_answer": Submission(with_answer("e1_output_answer", "output = 0"), ["e1_output"],
                                             "tampered and restored", set_source("e1_output", "pass")),
    "unflagged_check_new_checksum": Submission(with_answer("e1_output_answer", "output = 0"), ["e1_output"],
                                               "tampered and restored", unflag_check("e1_output")),
    "raised_points": Submission(CORRECT, [], "tampered and restored", set_points("e1_bias", 100)),
    "check_turned_markdown": Submission(with_answer("e1_output_answer", "output = 0"), ["e1_output"],
                                        "tampered and restored", to_markdown("e1_output")),
    "invented_check": Submission(CORRECT, [], "tampered and restored", invent_check),
    "answer_metadata_stripped": Submission(CORRECT, [], "tampered and restored", strip_metadata("e2_bias1_answer")),
    "fresh_start_removed": Submission(PLAIN_PYTHON, NUMPY_CHECKS, "tampered and restored",
                                      set_source("e3_fresh_start", "pass")),
    # --- failures: points before the failure are kept ---------------------------------------------
    "kernel_exits_in_e3": Submission(with_answer("e3_numpy_answer", "import os\nos._exit(1)", PLAIN_PYTHON),
                                     NUMPY_CHECKS, "kernel died"),
    "segfault_in_e4": Submission(with_answer("e4_output_answer", "import ctypes\nctypes.string_at(0)"),
                                 ["e4_output"], "kernel died"),
    "memory_error_in_e1": Submission(with_answer("e1_output_answer", "waste = [0] * (10 ** 11)\noutput = 2.3"),
                                     ["e1_output"]),
    "endless_loop_in_e2": Submission(with_answer("e2_outputs_answer", "while True:\n    pass"),
                                     ["e2_outputs", *NUMPY_CHECKS], "timed out"),
    "ignores_interrupt_in_e4": Submission(with_answer(
        "e4_output_answer", "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                            "while True:\n    time.sleep(0.1)"), ["e4_output"], "timed out"),
}


def build(release, submission: Submission):
    nb = demo_students.hand_in(release, submission.answers)
    if submission.change:
        submission.change(nb)
    return nb

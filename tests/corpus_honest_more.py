"""More honest styles, found by trying to break the recheck: every one must score 25, graded.

Each entry is the answer cells it changes and an optional further edit of
the hand-in. Several were once graded wrong, and are kept so that they stay
right: results rounded as the lesson's numbers allow, names set through
`global`, `globals().update` or `append`, namedtuples and classes of the
student's own, `np.matrix`, integers printed with `:d`, `Decimal`, modules
written with `%%writefile` and imported, kernel-only magics, asserts used as
guards, multiprocessing and `getpass`.
"""

from corpus_tools import CORRECT, Submission, add_cell, chain, notebooks, set_source

GEN = "sum(x * w for x, w in zip(inputs, weights)) + bias"
STYLES = {}

# --- Exercise 1 ---
for suffix in "ab":  # the same code, two students: two draws of secret inputs
    STYLES[f"e1_round_2_{suffix}"] = ({"e1_output_answer": f"output = round({GEN}, 2)"}, None)
STYLES["e1_round_1"] = ({"e1_output_answer": f"output = round({GEN}, 1)"}, None)
STYLES["e1_table_int_format"] = ({"e1_output_answer":
    "output = bias\nfor x, w in zip(inputs, weights):\n    print(f\"{x:>2d} x {w:>5.2f} = {x * w:>5.2f}\")\n    output += x * w"}, None)
STYLES["e1_fraction_exact"] = ({"e1_output_answer":
    "from fractions import Fraction\n\noutput = float(sum(Fraction(str(x)) * Fraction(str(w)) for x, w in zip(inputs, weights)) + bias)"}, None)
STYLES["e1_namedtuple_inputs"] = ({
    "e1_inputs_answer": "from collections import namedtuple\n\nInputs = namedtuple(\"Inputs\", [\"x1\", \"x2\", \"x3\"])\ninputs = Inputs(1, 2, 3)",
    "e1_output_answer": "output = inputs.x1 * weights[0] + inputs.x2 * weights[1] + inputs.x3 * weights[2] + bias"}, None)
STYLES["e1_main_function_globals"] = ({
    "e1_inputs_answer": "def main():\n    global inputs, weights, bias, output\n    inputs = [1, 2, 3]\n    weights = [0.2, 0.8, -0.5]\n"
                        "    bias = 2\n    output = sum(x * w for x, w in zip(inputs, weights)) + bias\n\n\nmain()",
    "e1_weights_answer": "pass  # set in main() above", "e1_bias_answer": "pass  # set in main() above",
    "e1_output_answer": "pass  # computed in main() above"}, None)
STYLES["e1_globals_update_one_cell"] = ({
    "e1_inputs_answer": "params = {\"inputs\": [1, 2, 3], \"weights\": [0.2, 0.8, -0.5], \"bias\": 2}\nglobals().update(params)\n"
                        "output = sum(x * w for x, w in zip(inputs, weights)) + bias",
    "e1_weights_answer": "pass  # set above", "e1_bias_answer": "pass  # set above",
    "e1_output_answer": "pass  # computed above"}, None)
STYLES["e1_local_module_import"] = ({"e1_output_answer": "from neuron_helpers import neuron\n\noutput = neuron(inputs, weights, bias)"},
    add_cell("%%writefile neuron_helpers.py\ndef neuron(inputs, weights, bias):\n    return sum(x * w for x, w in zip(inputs, weights)) + bias\n",
             before="e1_output_answer"))
STYLES["e1_run_script_computes"] = ({"e1_output_answer": "%run -i neuron_compute.py"},
    add_cell("%%writefile neuron_compute.py\noutput = sum(x * w for x, w in zip(inputs, weights)) + bias\n",
             before="e1_output_answer"))
STYLES["e1_underscore_last_result"] = ({"e1_output_answer": "output = _  # the value shown by the cell above"},
    add_cell(GEN, before="e1_output_answer"))
STYLES["e1_async_await"] = ({"e1_output_answer":
    "async def neuron(inputs, weights, bias):\n    return sum(x * w for x, w in zip(inputs, weights)) + bias\n\n\n"
    "output = await neuron(inputs, weights, bias)"}, None)
STYLES["e1_unpack_first_cell"] = ({"e1_inputs_answer": "inputs, weights, bias = [1, 2, 3], [0.2, 0.8, -0.5], 2",
                              "e1_weights_answer": "pass", "e1_bias_answer": "pass"}, None)
STYLES["e1_exec_string"] = ({"e1_output_answer": f"exec(\"output = {GEN}\")"}, None)
STYLES["e1_eval_json_values"] = ({"e1_inputs_answer": "inputs = eval(\"[1, 2, 3]\")",
                             "e1_weights_answer": "import json\nweights = json.loads(\"[0.2, 0.8, -0.5]\")",
                             "e1_bias_answer": "bias = int(\"2\")"}, None)
STYLES["e1_recursion"] = ({"e1_output_answer":
    "def weighted_sum(xs, ws):\n    if not xs:\n        return 0\n    return xs[0] * ws[0] + weighted_sum(xs[1:], ws[1:])\n\n\n"
    "output = weighted_sum(inputs, weights) + bias"}, None)
STYLES["e1_lru_cache"] = ({"e1_output_answer":
    "from functools import lru_cache\n\n\n@lru_cache(maxsize=None)\ndef neuron(xs, ws, b):\n    return sum(x * w for x, w in zip(xs, ws)) + b\n\n\n"
    "output = neuron(tuple(inputs), tuple(weights), bias)"}, None)
STYLES["e1_default_args"] = ({"e1_output_answer":
    "def neuron(xs=inputs, ws=weights, b=bias):\n    return sum(x * w for x, w in zip(xs, ws)) + b\n\n\noutput = neuron()"}, None)
STYLES["e1_class_attributes"] = ({"e1_output_answer":
    "class Neuron:\n    weights = weights\n    bias = bias\n\n    @classmethod\n    def forward(cls, inputs):\n"
    "        return sum(x * w for x, w in zip(inputs, cls.weights)) + cls.bias\n\n\noutput = Neuron.forward(inputs)"}, None)
STYLES["e1_np_vectorize"] = ({"e1_output_answer":
    "import numpy as np\n\nmultiply = np.vectorize(lambda x, w: x * w)\noutput = float(multiply(inputs, weights).sum() + bias)"}, None)
STYLES["e1_assert_type_guard"] = ({"e1_output_answer":
    "import numpy as np\n\ntry:\n    assert isinstance(inputs, np.ndarray), 'lists: convert first'\n    output = inputs @ weights + bias\n"
    "except AssertionError:\n    output = np.array(inputs) @ np.array(weights) + bias"}, None)
STYLES["e1_store_after"] = ({"e1_output_answer": f"output = {GEN}\n%store output"}, None)
STYLES["e1_numpy_top_cell"] = ({"e1_output_answer": "output = np.dot(inputs, weights) + bias",
                           "e3_numpy_answer": "pass  # NumPy is imported in the first cell"},
    lambda nb: nb.cells.insert(1, notebooks.nbformat.v4.new_code_cell("import numpy as np\nimport math")))
STYLES["e1_int_format_bias"] = ({"e1_output_answer": f"print(f\"bias: {{bias:d}}\")\noutput = {GEN}"}, None)
# Files and folders the kernel run made exist no more when the rerun runs the same cell again
STYLES["e1_writes_its_own_folder"] = ({"e1_output_answer":
    f"import os\n\nos.mkdir(\"results\")\noutput = {GEN}\nwith open(\"results/neuron.txt\", \"x\") as handle:\n"
    "    handle.write(str(output))"}, None)
STYLES["e1_counts_its_runs_in_a_file"] = ({"e1_output_answer":
    f"with open(\"runs.txt\", \"a\") as log:\n    log.write(\"run\\n\")\nwith open(\"runs.txt\") as log:\n"
    f"    assert len(log.readlines()) == 1, \"restart the kernel before running all cells\"\noutput = {GEN}"}, None)
WRITES_RESULTS = (f"import os\n\nos.mkdir(\"results\")\noutput = {GEN}\nwith open(\"results/e1.txt\", \"w\") as handle:\n"
                  "    handle.write(str(output))")
STYLES["e1_locks_its_results_with_chmod"] = ({"e1_output_answer": WRITES_RESULTS}, add_cell("!chmod -R a-w results"))
STYLES["e1_locks_its_results_folder"] = ({"e1_output_answer": WRITES_RESULTS},
                                         add_cell("import os\n\nos.chmod(\"results\", 0o444)"))

# --- Exercise 2 ---
HELPER = "def neuron(xs, ws, b):\n    return sum(x * w for x, w in zip(xs, ws)) + b\n\n\n"
# a built-in's name reused for the student's own data, as beginners do
STYLES["e2_list_named_list"] = ({"e2_inputs_answer": "list = [1, 2, 3, 2.5]\ninputs = list"}, None)
STYLES["e2_threadpool"] = ({"e2_outputs_answer": "from concurrent.futures import ThreadPoolExecutor\n\n" + HELPER +
    "with ThreadPoolExecutor(max_workers=3) as pool:\n    outputs = list(pool.map(neuron, [inputs] * 3, [weights1, weights2, weights3], [bias1, bias2, bias3]))"}, None)
STYLES["e2_multiprocessing_pool"] = ({"e2_outputs_answer": "from multiprocessing import Pool\n\n" + HELPER +
    "with Pool(3) as pool:\n    outputs = pool.starmap(neuron, [(inputs, weights1, bias1), (inputs, weights2, bias2), (inputs, weights3, bias3)])"}, None)
STYLES["e2_vector_class"] = ({
    "e2_inputs_answer": "class Vector:\n    def __init__(self, *values):\n        self.values = list(values)\n\n    def __len__(self):\n"
                        "        return len(self.values)\n\n    def __iter__(self):\n        return iter(self.values)\n\n"
                        "    def __getitem__(self, i):\n        return self.values[i]\n\n    def dot(self, other):\n"
                        "        return sum(a * b for a, b in zip(self, other))\n\n    def __repr__(self):\n        return f\"Vector{tuple(self.values)}\"\n\n\n"
                        "inputs = Vector(1, 2, 3, 2.5)",
    "e2_outputs_answer": "outputs = [inputs.dot(weights1) + bias1, inputs.dot(weights2) + bias2, inputs.dot(weights3) + bias3]"}, None)
STYLES["e2_globals_lookup"] = ({"e2_outputs_answer": HELPER +
    "outputs = [neuron(inputs, globals()[f\"weights{i}\"], globals()[f\"bias{i}\"]) for i in (1, 2, 3)]"}, None)
STYLES["e2_generator_built_earlier"] = ({
    "e2_bias3_answer": "bias3 = 0.5\nneurons = ((ws, b) for ws, b in zip([weights1, weights2, weights3], [bias1, bias2, bias3]))",
    "e2_outputs_answer": "outputs = [sum(x * w for x, w in zip(inputs, ws)) + b for ws, b in neurons]"}, None)

# --- Exercise 3 ---
for suffix in "ab":  # the same code, two students: two draws of secret inputs
    STYLES[f"e3_round_2_{suffix}"] = ({"e3_outputs_answer": "outputs = round(np.dot(weights, inputs) + bias, 2)"}, None)
STYLES["e3_pylab"] = ({"e3_numpy_answer": "%pylab inline"}, None)
STYLES["e3_reset"] = ({"e3_numpy_answer": "%reset -f\nimport numpy as np"}, None)
STYLES["e3_decimal"] = ({"e3_inputs_answer": "from decimal import Decimal\ninputs = [Decimal(\"1\"), Decimal(\"2\"), Decimal(\"3\"), Decimal(\"2.5\")]",
                    "e3_weights_answer": "from decimal import Decimal\nweights = [Decimal(\"0.2\"), Decimal(\"0.8\"), Decimal(\"-0.5\"), Decimal(\"1.0\")]",
                    "e3_outputs_answer": "outputs = float(np.dot(weights, inputs) + bias)"}, None)
STYLES["e3_float16_inputs"] = ({"e3_inputs_answer": "inputs = np.array([1, 2, 3, 2.5], dtype=np.float16)  # small numbers, exact in float16"}, None)
STYLES["e3_star_import"] = ({"e3_numpy_answer": "from numpy import *\nimport numpy as np"}, None)

# --- Exercise 4 ---
STYLES["e4_matrix_A1"] = ({"e4_weights_answer": "weights = np.matrix([[0.2, 0.8, -0.5, 1],\n                     [0.5, -0.91, 0.26, -0.5],\n                     [-0.26, -0.27, 0.17, 0.87]])",
                      "e4_output_answer": "output = (weights @ np.array(inputs)).A1 + biases"}, None)
STYLES["e4_append_rows_helper"] = ({"e4_weights_answer": "weights = []\nfor row in ([0.2, 0.8, -0.5, 1], [0.5, -0.91, 0.26, -0.5], [-0.26, -0.27, 0.17, 0.87]):\n"
                               "    weights.append(row)\nweights_array = np.array(weights)",
                               "e4_output_answer": "output = weights_array @ inputs + biases"}, None)
STYLES["e4_writefile_loadtxt"] = ({"e4_weights_answer": "weights = np.loadtxt('weights.csv', delimiter=',')"},
    add_cell("%%writefile weights.csv\n0.2,0.8,-0.5,1\n0.5,-0.91,0.26,-0.5\n-0.26,-0.27,0.17,0.87\n", before="e4_weights_answer"))
STYLES["e4_inplace_alias"] = ({"e4_biases_answer": "biases = np.array([2.0, 3.0, 0.5])",
                          "e4_output_answer": "output = biases\noutput += np.dot(weights, inputs)"}, None)
STYLES["e4_capture_cell_magic"] = ({}, chain(
    set_source("e4_output_answer", "%%capture printed\noutput = np.dot(weights, inputs) + biases\nprint(output)"),
    add_cell("printed.show()", after="e4_output_answer")))

STYLES["e1_decimal_exact"] = ({"e1_output_answer":
    "from decimal import Decimal\n\n# Decimal avoids the float rounding in 2.3000000000000003\n"
    "output = float(sum(Decimal(str(x)) * Decimal(str(w)) for x, w in zip(inputs, weights)) + bias)"}, None)
STYLES["e1_run_script_all_values"] = ({"e1_inputs_answer": "%run neuron_e1.py", "e1_weights_answer": "pass  # set by neuron_e1.py",
                                   "e1_bias_answer": "pass  # set by neuron_e1.py", "e1_output_answer": "pass  # computed by neuron_e1.py"},
    add_cell("%%writefile neuron_e1.py\ninputs = [1, 2, 3]\nweights = [0.2, 0.8, -0.5]\nbias = 2\n"
             "output = sum(x * w for x, w in zip(inputs, weights)) + bias\n", before="e1_inputs_answer"))
STYLES["e1_array_module"] = ({"e1_inputs_answer": "from array import array\ninputs = array('i', [1, 2, 3])"}, None)
STYLES["e1_range_inputs"] = ({"e1_inputs_answer": "inputs = range(1, 4)"}, None)
STYLES["e1_getpass_signature"] = ({"e1_output_answer": f"import getpass\nprint('computed by', getpass.getuser())\noutput = {GEN}"}, None)
STYLES["top_cell_autosave_numpy"] = ({"e3_numpy_answer": "pass  # NumPy is imported in the first cell"},
    lambda nb: nb.cells.insert(1, notebooks.nbformat.v4.new_code_cell("%autosave 60\nimport numpy as np")))
STYLES["e1_autosave_in_output_cell"] = ({"e1_output_answer": f"%autosave 120\noutput = {GEN}"}, None)
STYLES["e2_process_pool_executor"] = ({"e2_outputs_answer": "from concurrent.futures import ProcessPoolExecutor\n\n" + HELPER +
    "with ProcessPoolExecutor(max_workers=3) as pool:\n    outputs = list(pool.map(neuron, [inputs] * 3, [weights1, weights2, weights3], [bias1, bias2, bias3]))"}, None)
STYLES["e2_weights_via_globals_loop"] = ({
    "e2_weights1_answer": "rows = [[0.2, 0.8, -0.5, 1], [0.5, -0.91, 0.26, -0.5], [-0.26, -0.27, 0.17, 0.87]]\n"
                          "for i, row in enumerate(rows, start=1):\n    globals()[f\"weights{i}\"] = row",
    "e2_weights2_answer": "pass  # set above", "e2_weights3_answer": "pass  # set above"}, None)
STYLES["e3_masked_array"] = ({"e3_inputs_answer": "inputs = np.ma.masked_array([1, 2, 3, 2.5])"}, None)
STYLES["e4_fill_rows_helper"] = ({"e4_weights_answer": "weights = np.zeros((3, 4))\nweights[0] = [0.2, 0.8, -0.5, 1]\nweights[1] = [0.5, -0.91, 0.26, -0.5]\n"
                                                   "weights[2] = [-0.26, -0.27, 0.17, 0.87]\nweights_t = weights.T  # one column per neuron",
                              "e4_output_answer": "output = np.dot(inputs, weights_t) + biases"}, None)
STYLES["e4_namedtuple_biases_attrs"] = ({"e4_biases_answer": "from collections import namedtuple\nBiases = namedtuple('Biases', ['b1', 'b2', 'b3'])\nbiases = Biases(2.0, 3.0, 0.5)",
    "e4_output_answer": "dots = np.dot(weights, inputs)\noutput = np.array([dots[0] + biases.b1, dots[1] + biases.b2, dots[2] + biases.b3])"}, None)
STYLES["e4_store_restore_e2"] = ({"e2_weights3_answer": "weights3 = [-0.26, -0.27, 0.17, 0.87]\n%store weights1 weights2 weights3",
                              "e4_weights_answer": "%store -r weights1 weights2 weights3\nweights = [weights1, weights2, weights3]"}, None)

STYLES["e4_reshape_pinned_inputs"] = ({"e4_output_answer": "inputs = np.array(inputs).reshape(4, 1)  # a column\n"
    "output = (np.dot(weights, inputs) + np.array(biases).reshape(3, 1)).ravel()"}, None)
STYLES["e3_round_1_np"] = ({"e3_outputs_answer": "outputs = np.round(np.dot(weights, inputs) + bias, 1)"}, None)


# --- Pinned names reused for intermediate values: the student's own values stay theirs ---
STYLES["e1_bias_as_accumulator"] = ({"e1_output_answer": "for x, w in zip(inputs, weights):\n    bias = bias + x * w\noutput = bias"}, None)
STYLES["e1_products_written_over_weights"] = ({"e1_output_answer": "for i in range(len(weights)):\n"
                                                                    "    weights[i] = weights[i] * inputs[i]\noutput = sum(weights) + bias"}, None)
STYLES["e1_inputs_name_reused"] = ({"e1_output_answer": "inputs = [x * w for x, w in zip(inputs, weights)]\noutput = sum(inputs) + bias"}, None)
STYLES["e2_loop_variables_named_like_inputs"] = ({"e2_outputs_answer": "outputs = []\nfor weights1, bias1 in [(weights1, bias1), (weights2, bias2), (weights3, bias3)]:\n"
                                                                       "    outputs.append(sum(x * w for x, w in zip(inputs, weights1)) + bias1)"}, None)
STYLES["e3_numpy_in_place_product"] = ({"e3_outputs_answer": "weights = np.array(weights, dtype=float)\nweights *= inputs\noutputs = weights.sum() + bias"}, None)
STYLES["e3_bias_accumulates"] = ({"e3_outputs_answer": "bias += np.dot(weights, inputs)\noutputs = bias"}, None)
STYLES["e4_biases_accumulate"] = ({"e4_output_answer": "biases = np.array(biases)\nbiases += np.dot(weights, inputs)\noutput = biases"}, None)
# --- Containers NumPy does not take as they are, and a class of the student's own ---
ZIPPED = "output = sum(x * w for x, w in zip(inputs, weights)) + bias"  # for inputs that cannot be indexed
STYLES["e1_inputs_dict_values"] = ({"e1_inputs_answer": "params = {'x1': 1, 'x2': 2, 'x3': 3}\ninputs = params.values()",
                                    "e1_output_answer": ZIPPED}, None)
STYLES["e1_inputs_iterable_dataclass"] = ({"e1_inputs_answer": "from dataclasses import dataclass\n\n\n@dataclass\nclass Inputs:\n"
                                                                "    x1: float\n    x2: float\n    x3: float\n\n    def __iter__(self):\n"
                                                                "        return iter((self.x1, self.x2, self.x3))\n\n    def __len__(self):\n"
                                                                "        return 3\n\n\ninputs = Inputs(1, 2, 3)",
                                          "e1_output_answer": ZIPPED}, None)
STYLES["e4_weights_in_a_named_layer"] = ({
    "e4_weights_answer": "class Layer:\n    def __init__(self, rows, name):\n        self.rows = rows\n        self.name = name\n\n"
                         "    def __len__(self):\n        return len(self.rows)\n\n    def __getitem__(self, i):\n"
                         "        return self.rows[i]\n\n    def __array__(self, dtype=None, copy=None):\n"
                         "        return np.array(self.rows, dtype=dtype)\n\n\n"
                         "weights = Layer([[0.2, 0.8, -0.5, 1], [0.5, -0.91, 0.26, -0.5], [-0.26, -0.27, 0.17, 0.87]], name='hidden')",
    "e4_output_answer": "print('layer', weights.name)\noutput = np.dot(np.array(weights.rows), inputs) + biases"}, None)

# Honest, but out of the recheck's reach: the script computes the result in a namespace of its own,
# from its own literal values, and `%run` copies the finished names in. See docs/defences.md.
OUT_OF_REACH = {"e1_run_script_all_values"}

MORE_HONEST = {name: Submission({**CORRECT, **answers}, change=change)
               for name, (answers, change) in STYLES.items() if name not in OUT_OF_REACH}
LIMITS = {name: Submission({**CORRECT, **STYLES[name][0]}, ["e1_output"], change=STYLES[name][1], flagged=["e1_output"])
          for name in OUT_OF_REACH}

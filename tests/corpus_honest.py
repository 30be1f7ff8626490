"""Honest, correct hand-ins in many styles: every one must score 25, graded, with no review flag.

Each style is how a real beginner or a strong student might write one part
of the assignment; the rest of the hand-in is the plain correct answer.
Every style passes the visible checks, prints the expected output and
computes each result from its named variables.
"""

from corpus_tools import CORRECT, Submission, add_cell, set_source, with_answer

NEURON_LOOP = """output = bias
for x, w in zip(inputs, weights):
    output += x * w"""

E1 = {
    "e1_for_range": "output = bias\nfor i in range(len(inputs)):\n    output += inputs[i] * weights[i]",
    "e1_while": "output = bias\ni = 0\nwhile i < len(inputs):\n    output += inputs[i] * weights[i]\n    i += 1",
    "e1_enumerate": "output = bias\nfor i, x in enumerate(inputs):\n    output = output + x * weights[i]",
    "e1_for_zip": NEURON_LOOP,
    "e1_list_comprehension": "output = sum([x * w for x, w in zip(inputs, weights)]) + bias",
    "e1_lambda": "neuron = lambda xs, ws, b: sum(x * w for x, w in zip(xs, ws)) + b\noutput = neuron(inputs, weights, bias)",
    "e1_math_fsum": "import math\noutput = math.fsum(x * w for x, w in zip(inputs, weights)) + bias",
    "e1_functools_reduce": "from functools import reduce\n"
                           "output = reduce(lambda total, pair: total + pair[0] * pair[1], zip(inputs, weights), bias)",
    "e1_operator_map": "import operator\noutput = sum(map(operator.mul, inputs, weights)) + bias",
    "e1_itertools_starmap": "import itertools\nimport operator\n"
                            "output = sum(itertools.starmap(operator.mul, zip(inputs, weights))) + bias",
    "e1_class": "class Neuron:\n    def __init__(self, weights, bias):\n        self.weights = weights\n        self.bias = bias\n\n"
                "    def forward(self, inputs):\n        return sum(x * w for x, w in zip(inputs, self.weights)) + self.bias\n\n\n"
                "output = Neuron(weights, bias).forward(inputs)",
    "e1_dataclass": "from dataclasses import dataclass\n\n\n@dataclass\nclass Neuron:\n    weights: list\n    bias: float\n\n"
                    "    def __call__(self, inputs):\n        return sum(x * w for x, w in zip(inputs, self.weights)) + self.bias\n\n\n"
                    "output = Neuron(weights, bias)(inputs)",
    "e1_generator": "def products(xs, ws):\n    for x, w in zip(xs, ws):\n        yield x * w\n\n\noutput = sum(products(inputs, weights)) + bias",
    "e1_underscore_helper": "def _weighted_sum(xs, ws):\n    _total = 0\n    for _x, _w in zip(xs, ws):\n        _total += _x * _w\n"
                            "    return _total\n\n\noutput = _weighted_sum(inputs, weights) + bias",
    "e1_numpy_type_hints": "import numpy as np\n\n\ndef neuron(x: np.ndarray, w: np.ndarray, b: float) -> float:\n"
                           "    return float(np.dot(x, w) + b)\n\n\noutput = neuron(np.array(inputs), np.array(weights), bias)",
    "e1_rounded_to_lesson_precision": "output = round(sum(x * w for x, w in zip(inputs, weights)) + bias, 3)",
    "e1_try_except": "try:\n    output = sum(x * w for x, w in zip(inputs, weights)) + bias\n"
                     "except TypeError as error:\n    print('check that inputs and weights hold numbers:', error)",
    "e1_prints_intermediates": "products = [x * w for x, w in zip(inputs, weights)]\nprint('products:', products)\n"
                               "print('their sum:', sum(products))\noutput = sum(products) + bias",
    "e1_separator_and_type": "print('______')\n" + NEURON_LOOP + "\nprint(type(output))\nprint('______')",
    "e1_display": "output = sum(x * w for x, w in zip(inputs, weights)) + bias\ndisplay(output)",
    # the lesson's own style: the output cell states every value again before computing
    "e1_restates_values": "inputs = [1, 2, 3]\nweights = [0.2, 0.8, -0.5]\nbias = 2\n\n"
                          "output = (inputs[0]*weights[0] + inputs[1]*weights[1] + inputs[2]*weights[2] + bias)",
    # a careful student's sanity checks on the values, before computing
    "e1_own_asserts": "assert len(inputs) == len(weights), 'one weight per input'\nassert inputs == [1, 2, 3]\n" + NEURON_LOOP
                      + "\nassert abs(output - 2.3) < 1e-9, output",
}

E1_WHOLE = {
    # everything of the exercise in its first cell; the later answer cells only say so
    "e1_all_in_the_first_cell": {
        "e1_inputs_answer": "inputs = [1, 2, 3]\nweights = [0.2, 0.8, -0.5]\nbias = 2\n"
                            "output = sum(x * w for x, w in zip(inputs, weights)) + bias",
        "e1_weights_answer": "pass  # set above", "e1_bias_answer": "pass  # set above",
        "e1_output_answer": "pass  # computed above"},
    "e1_inputs_built_with_append": {"e1_inputs_answer": "inputs = []\nfor value in (1, 2, 3):\n    inputs.append(value)"},
    "e1_values_set_one_by_one": {"e1_weights_answer": "weights = [0, 0, 0]\nweights[0] = 0.2\nweights[1] = 0.8\nweights[2] = -0.5"},
    "e1_set_in_a_function": {"e1_bias_answer": "def choose_bias():\n    global bias\n    bias = 2\n\n\nchoose_bias()"},
    "e1_tuples": {"e1_inputs_answer": "inputs = (1, 2, 3)", "e1_weights_answer": "weights = (0.2, 0.8, -0.5)"},
    "e1_floats_for_ints": {"e1_inputs_answer": "inputs = [1.0, 2.0, 3.0]", "e1_bias_answer": "bias = 2.0"},
    "e1_pprint": {"e1_weights_answer": "from pprint import pprint\nweights = [0.2, 0.8, -0.5]\npprint(weights)"},
}

E2 = {
    "e2_nested_loops": "outputs = []\nfor neuron_weights, neuron_bias in zip([weights1, weights2, weights3], [bias1, bias2, bias3]):\n"
                       "    total = neuron_bias\n    for x, w in zip(inputs, neuron_weights):\n        total += x * w\n"
                       "    outputs.append(total)",
    "e2_while_loops": "layer = [(weights1, bias1), (weights2, bias2), (weights3, bias3)]\noutputs = []\nn = 0\n"
                      "while n < len(layer):\n    ws, b = layer[n]\n    total, i = b, 0\n    while i < len(inputs):\n"
                      "        total += inputs[i] * ws[i]\n        i += 1\n    outputs.append(total)\n    n += 1",
    "e2_comprehension": "outputs = [sum(x * w for x, w in zip(inputs, ws)) + b\n"
                        "           for ws, b in zip([weights1, weights2, weights3], [bias1, bias2, bias3])]",
    "e2_map_lambda": "outputs = list(map(lambda wb: sum(x * w for x, w in zip(inputs, wb[0])) + wb[1],\n"
                     "                   zip([weights1, weights2, weights3], [bias1, bias2, bias3])))",
    "e2_helper_function": "def neuron(xs, ws, b):\n    return sum(x * w for x, w in zip(xs, ws)) + b\n\n\n"
                          "outputs = [neuron(inputs, weights1, bias1), neuron(inputs, weights2, bias2),\n"
                          "           neuron(inputs, weights3, bias3)]",
    "e2_class_layer": "class Layer:\n    def __init__(self, weights, biases):\n        self.weights = weights\n"
                      "        self.biases = biases\n\n    def forward(self, inputs):\n"
                      "        return [sum(x * w for x, w in zip(inputs, ws)) + b for ws, b in zip(self.weights, self.biases)]\n\n\n"
                      "outputs = Layer([weights1, weights2, weights3], [bias1, bias2, bias3]).forward(inputs)",
    "e2_generator": "def layer(xs, rows, biases):\n    for ws, b in zip(rows, biases):\n"
                    "        yield sum(x * w for x, w in zip(xs, ws)) + b\n\n\n"
                    "outputs = list(layer(inputs, [weights1, weights2, weights3], [bias1, bias2, bias3]))",
    "e2_dict_of_neurons": "neurons = {'first': (weights1, bias1), 'second': (weights2, bias2), 'third': (weights3, bias3)}\n"
                          "outputs = [sum(x * w for x, w in zip(inputs, ws)) + b for ws, b in neurons.values()]",
    "e2_fsum_rounded": "import math\noutputs = [round(math.fsum(x * w for x, w in zip(inputs, ws)) + b, 3)\n"
                       "           for ws, b in ((weights1, bias1), (weights2, bias2), (weights3, bias3))]",
    "e2_numpy_early": "import numpy as np\noutputs = list(np.dot([weights1, weights2, weights3], inputs) + [bias1, bias2, bias3])",
    "e2_functools_partial": "from functools import partial\n\n\ndef neuron(xs, ws, b):\n"
                            "    return sum(x * w for x, w in zip(xs, ws)) + b\n\n\non_inputs = partial(neuron, inputs)\n"
                            "outputs = [on_inputs(weights1, bias1), on_inputs(weights2, bias2), on_inputs(weights3, bias3)]",
    "e2_restates_values": "inputs = [1, 2, 3, 2.5]\nweights1 = [0.2, 0.8, -0.5, 1]\nweights2 = [0.5, -0.91, 0.26, -0.5]\n"
                          "weights3 = [-0.26, -0.27, 0.17, 0.87]\nbias1, bias2, bias3 = 2, 3, 0.5\n\n"
                          "outputs = [\n    # Neuron 1:\n    inputs[0]*weights1[0] + inputs[1]*weights1[1] + inputs[2]*weights1[2] + inputs[3]*weights1[3] + bias1,\n"
                          "    # Neuron 2:\n    inputs[0]*weights2[0] + inputs[1]*weights2[1] + inputs[2]*weights2[2] + inputs[3]*weights2[3] + bias2,\n"
                          "    # Neuron 3:\n    inputs[0]*weights3[0] + inputs[1]*weights3[1] + inputs[2]*weights3[2] + inputs[3]*weights3[3] + bias3]",
}

E2_WHOLE = {
    # helper lists built from the names in earlier cells, used for the result later
    "e2_helper_lists_in_earlier_cells": {
        "e2_weights3_answer": "weights3 = [-0.26, -0.27, 0.17, 0.87]\nall_weights = [weights1, weights2, weights3]",
        "e2_bias3_answer": "bias3 = 0.5\nall_biases = [bias1, bias2, bias3]",
        "e2_outputs_answer": "outputs = [sum(x * w for x, w in zip(inputs, ws)) + b for ws, b in zip(all_weights, all_biases)]"},
    # the result computed in the same cell as the last of its inputs
    "e2_outputs_computed_with_the_biases": {
        "e2_bias3_answer": "bias3 = 0.5\noutputs = [sum(x * w for x, w in zip(inputs, ws)) + b\n"
                           "           for ws, b in zip([weights1, weights2, weights3], [bias1, bias2, bias3])]",
        "e2_outputs_answer": "pass  # computed with the biases above"},
    "e2_tuples_and_floats": {"e2_weights1_answer": "weights1 = (0.2, 0.8, -0.5, 1.0)", "e2_bias2_answer": "bias2 = 3.0"},
}

E3 = {
    "e3_matmul_operator": "outputs = np.array(weights) @ np.array(inputs) + bias",
    "e3_matmul_function": "outputs = np.matmul(weights, inputs) + bias",
    "e3_inner": "outputs = np.inner(weights, inputs) + bias",
    "e3_dot_method": "outputs = np.array(weights).dot(inputs) + bias",
    "e3_tensordot": "outputs = np.tensordot(weights, inputs, axes=1) + bias",
    "e3_einsum": "outputs = np.einsum('i,i->', weights, inputs) + bias",
    "e3_product_sum_method": "outputs = (np.array(weights) * np.array(inputs)).sum() + bias",
    "e3_mean_times_length": "outputs = (np.array(weights) * inputs).mean() * len(inputs) + bias",
    "e3_prod_of_pairs": "outputs = sum(np.prod(pair) for pair in zip(weights, inputs)) + bias",
    "e3_python_float": "outputs = float(np.dot(weights, inputs) + bias)",
    "e3_item": "outputs = (np.dot(weights, inputs) + bias).item()",
    "e3_timeit": "%timeit -n 100 -r 3 np.dot(weights, inputs)\noutputs = np.dot(weights, inputs) + bias",
    "e3_restates_values": "inputs = [1, 2, 3, 2.5]\nweights = [0.2, 0.8, -0.5, 1.0]\nbias = 2\n\n"
                          "outputs = np.dot(weights, inputs) + bias",
}

E3_WHOLE = {
    "e3_numpy_cell_with_more_lines": {"e3_numpy_answer": "import numpy as np\nimport math\nnp.set_printoptions(precision=3)\n"
                                                         "print('NumPy', np.__version__)"},
    "e3_from_import": {"e3_numpy_answer": "import numpy as np\nfrom numpy import dot",
                       "e3_outputs_answer": "outputs = dot(weights, inputs) + bias"},
    "e3_arrays_printed_early": {"e3_inputs_answer": "inputs = np.array([1, 2, 3, 2.5])\nprint(inputs)",
                                "e3_weights_answer": "weights = np.array([0.2, 0.8, -0.5, 1.0])\nprint(weights, weights.dtype)"},
    "e3_float32": {"e3_weights_answer": "weights = np.array([0.2, 0.8, -0.5, 1.0], dtype=np.float32)"},
    "e3_weights_from_exercise_2": {"e3_weights_answer": "weights = list(weights1)  # the same four weights as the first neuron"},
}

E4 = {
    "e4_einsum": "output = np.einsum('ij,j->i', weights, inputs) + biases",
    "e4_matmul_function": "output = np.matmul(weights, inputs) + biases",
    "e4_matmul_operator": "output = np.array(weights) @ inputs + np.array(biases)",
    "e4_dot_method": "output = np.array(weights).dot(inputs) + np.array(biases)",
    "e4_tensordot": "output = np.tensordot(weights, inputs, axes=([1], [0])) + biases",
    "e4_transposed": "output = np.dot(inputs, np.array(weights).T) + biases",
    "e4_rows_in_a_loop": "output = np.array([np.dot(row, inputs) + b for row, b in zip(weights, biases)])",
    "e4_sum_over_axis": "output = (np.array(weights) * inputs).sum(axis=1) + biases",
    "e4_list_result": "output = list(np.dot(weights, inputs) + biases)",
    "e4_tolist": "output = (np.dot(weights, inputs) + biases).tolist()",
    "e4_printoptions": "with np.printoptions(precision=3, suppress=True):\n    print(np.dot(weights, inputs) + biases)\n"
                       "output = np.dot(weights, inputs) + biases",
    "e4_display_and_type": "output = np.dot(weights, inputs) + biases\ndisplay(output)\nprint(type(output), output.dtype)",
    "e4_restates_values": "inputs = [1.0, 2.0, 3.0, 2.5]\nweights = [[0.2, 0.8, -0.5, 1],\n           [0.5, -0.91, 0.26, -0.5],\n"
                          "           [-0.26, -0.27, 0.17, 0.87]]\nbiases = [2.0, 3.0, 0.5]\n\n"
                          "output = np.dot(weights, inputs) + biases",
    "e4_matplotlib": "import matplotlib.pyplot as plt\n\noutput = np.dot(weights, inputs) + biases\n"
                     "plt.bar(['neuron 1', 'neuron 2', 'neuron 3'], output)\nplt.title('Outputs of the layer')\nplt.show()",
}

E4_WHOLE = {
    "e4_float32_weights": {"e4_weights_answer": "weights = np.array([[0.2, 0.8, -0.5, 1],\n"
                                                "                    [0.5, -0.91, 0.26, -0.5],\n"
                                                "                    [-0.26, -0.27, 0.17, 0.87]], dtype=np.float32)"},
    "e4_names_from_exercise_2": {"e4_weights_answer": "weights = [weights1, weights2, weights3]",
                                 "e4_biases_answer": "biases = [float(bias1), float(bias2), float(bias3)]"},
}

CELLS = {
    # whole cells: a cell magic must be the cell's first line
    "e4_cell_magic_time": set_source("e4_output_answer", "%%time\noutput = np.dot(weights, inputs) + biases\nprint(output)"),
    "e4_matplotlib_inline": set_source("e4_output_answer", "%matplotlib inline\nimport matplotlib.pyplot as plt\n\n"
                                                           "output = np.dot(weights, inputs) + biases\nprint(output)\n"
                                                           "plt.plot(output, 'o')\nplt.show()"),
    "extra_cells_everywhere": add_cell("# my own notes\nprint('checking my layer:', output)\nprint(type(output))", after=None),
    "names_reused_afterwards": add_cell("inputs = None\noutput = 'finished'\nweights = []", after=None),
    "extra_cell_between_exercises": add_cell("print('Exercise 1 done:', output)\nchecked = round(output, 1)", after="e1_output"),
    "extra_cell_inside_an_exercise": add_cell("helper = [x * 2 for x in inputs]\nprint(helper)", after="e2_inputs"),
}

HONEST = {
    **{name: Submission(with_answer("e1_output_answer", code)) for name, code in E1.items()},
    **{name: Submission(with_answer("e2_outputs_answer", code)) for name, code in E2.items()},
    **{name: Submission(with_answer("e3_outputs_answer", code)) for name, code in E3.items()},
    **{name: Submission(with_answer("e4_output_answer", code)) for name, code in E4.items()},
    **{name: Submission({**CORRECT, **answers}) for whole in (E1_WHOLE, E2_WHOLE, E3_WHOLE, E4_WHOLE)
       for name, answers in whole.items()},
    **{name: Submission(CORRECT, change=change) for name, change in CELLS.items()},
}

"""What each check expects, kept outside the notebook and outside the student's reach.

The hidden tests in the notebook run in the student's kernel, where student
code could tamper with them. The recheck (`coursetools.recheck`) compares
every value again, in its own process, against this key. A computed result
is also recomputed from other inputs, so typing the expected output in as a
literal earns nothing.
"""

from dataclasses import dataclass, field

from coursetools import lesson

# Absolute tolerance for every comparison, as in the notebook's hidden tests
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Check:
    name: str  # the variable the check reads
    expected: object  # a number, a list of numbers or a list of lists
    # For a computed result: the values it is computed from, replaced for a second run
    perturbed: dict = field(default_factory=dict)
    formula: object = None  # plain-Python function of the perturbed values giving the expected result


def neuron(inputs, weights, bias):
    return sum(x * w for x, w in zip(inputs, weights)) + bias


def layer(inputs, weights, biases):
    return [neuron(inputs, row, b) for row, b in zip(weights, biases)]


# Other inputs for the second run of a computation: the same shapes, no value in common
E1_OTHER = {"inputs": [0.5, -1.5, 4.0], "weights": [1.1, -0.3, 0.7], "bias": -1.25}
E2_OTHER = {"inputs": [2.0, -1.0, 0.5, 3.0], "weights1": [0.3, -0.6, 1.2, 0.1],
            "weights2": [-0.4, 0.9, 0.05, 0.6], "weights3": [1.5, 0.2, -0.8, -0.3],
            "bias1": -0.5, "bias2": 1.75, "bias3": 4.0}
E3_OTHER = {"inputs": [2.0, -1.0, 0.5, 3.0], "weights": [0.3, -0.6, 1.2, 0.1], "bias": -0.5}
E4_OTHER = {"inputs": [2.0, -1.0, 0.5, 3.0], "weights": [E2_OTHER["weights1"], E2_OTHER["weights2"], E2_OTHER["weights3"]],
            "biases": [-0.5, 1.75, 4.0]}

CHECKS = {
    "e1_inputs": Check("inputs", lesson.E1_INPUTS),
    "e1_weights": Check("weights", lesson.E1_WEIGHTS),
    "e1_bias": Check("bias", lesson.E1_BIAS),
    "e1_output": Check("output", lesson.E1_OUTPUT, E1_OTHER, lambda v: neuron(v["inputs"], v["weights"], v["bias"])),
    "e2_inputs": Check("inputs", lesson.E2_INPUTS),
    "e2_weights1": Check("weights1", lesson.E2_WEIGHTS1),
    "e2_weights2": Check("weights2", lesson.E2_WEIGHTS2),
    "e2_weights3": Check("weights3", lesson.E2_WEIGHTS3),
    "e2_bias1": Check("bias1", lesson.E2_BIAS1),
    "e2_bias2": Check("bias2", lesson.E2_BIAS2),
    "e2_bias3": Check("bias3", lesson.E2_BIAS3),
    "e2_outputs": Check("outputs", lesson.E2_OUTPUTS, E2_OTHER, lambda v: layer(
        v["inputs"], [v["weights1"], v["weights2"], v["weights3"]], [v["bias1"], v["bias2"], v["bias3"]])),
    "e3_numpy": Check("np", "numpy"),
    "e3_inputs": Check("inputs", lesson.E3_INPUTS),
    "e3_weights": Check("weights", lesson.E3_WEIGHTS),
    "e3_bias": Check("bias", lesson.E3_BIAS),
    "e3_outputs": Check("outputs", lesson.E3_OUTPUTS, E3_OTHER, lambda v: neuron(v["inputs"], v["weights"], v["bias"])),
    "e4_inputs": Check("inputs", lesson.E4_INPUTS),
    "e4_weights": Check("weights", lesson.E4_WEIGHTS),
    "e4_biases": Check("biases", lesson.E4_BIASES),
    "e4_output": Check("output", lesson.E4_OUTPUT, E4_OTHER, lambda v: layer(v["inputs"], v["weights"], v["biases"])),
}


def matches(actual, expected) -> bool:
    """Plain values only (numbers and nested lists, as the recheck reports them), within TOLERANCE."""
    if isinstance(expected, str):  # a module, reported by name
        return actual == expected
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            matches(a, e) for a, e in zip(actual, expected))
    return type(actual) is float and abs(actual - expected) <= TOLERANCE

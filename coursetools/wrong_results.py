"""The mistakes beginners make in the lesson's computations, and the wrong results each gives.

A mistake changes the lesson's values the way the mistaken code treats them
(a bias of 0 for a bias left out, every neuron handed the first neuron's
weights), and the computation's own formula (`answer_key.Computation`) turns
them into the wrong result. So the wrong results are derived from
`coursetools.lesson`, never typed in, and stay right when the lesson's
numbers change. The instructor's report (`coursetools.class_report`) names
the likely cause of each common wrong result from here.

Causes are written for the instructor and say what the code did, not who
did it.
"""

from dataclasses import dataclass
from typing import Callable

from coursetools.engine import answer_key


@dataclass(frozen=True)
class Neurons:
    """A computation's values as the neurons see them, whatever the exercise calls them."""
    inputs: list
    weights: list  # one row of weights per neuron
    biases: list  # one bias per neuron


@dataclass(frozen=True)
class Mistake:
    cause: str  # what the code did, for the instructor
    change: Callable[[Neurons], Neurons]  # the lesson's values as the mistaken code uses them


def scaled_biases(neurons: Neurons, factor: float) -> Neurons:
    return Neurons(neurons.inputs, neurons.weights, [factor * b for b in neurons.biases])


def bias_multiplied(neurons: Neurons) -> Neurons:
    # (x1*w1 + ... + xn*wn) * b is the formula with every weight times b and no bias
    return Neurons(neurons.inputs, [[w * b for w in row] for row, b in zip(neurons.weights, neurons.biases)],
                   [0] * len(neurons.biases))


def inputs_added_to_weights(neurons: Neurons) -> Neurons:
    # (x1 + w1) + ... + (xn + wn) + b is the formula with inputs of 1 and weights x + w
    return Neurons([1] * len(neurons.inputs), [[x + w for x, w in zip(neurons.inputs, row)] for row in neurons.weights],
                   neurons.biases)


def sums_multiplied(neurons: Neurons) -> Neurons:
    # (x1 + ... + xn) * (w1 + ... + wn) + b is the formula with one input, the sum, and one weight, the sum
    rest = [0] * (len(neurons.inputs) - 1)
    return Neurons([sum(neurons.inputs)] + rest, [[sum(row)] + rest for row in neurons.weights], neurons.biases)


def last_input_left_out(neurons: Neurons) -> Neurons:
    return Neurons(neurons.inputs[:-1] + [0], neurons.weights, neurons.biases)


def first_weights_for_all(neurons: Neurons) -> Neurons:
    return Neurons(neurons.inputs, [neurons.weights[0]] * len(neurons.weights), neurons.biases)


def first_bias_for_all(neurons: Neurons) -> Neurons:
    return Neurons(neurons.inputs, neurons.weights, [neurons.biases[0]] * len(neurons.biases))


MISTAKES = [
    Mistake("bias left out", lambda n: scaled_biases(n, 0)),
    Mistake("bias subtracted instead of added", lambda n: scaled_biases(n, -1)),
    Mistake("bias added once per input (inside the sum) instead of once",
            lambda n: scaled_biases(n, len(n.inputs))),
    Mistake("sum of the products multiplied by the bias instead of the bias added", bias_multiplied),
    Mistake("inputs and weights added instead of multiplied", inputs_added_to_weights),
    Mistake("sum of the inputs times the sum of the weights, instead of each input times its own weight",
            sums_multiplied),
    Mistake("last input and its weight left out (one pair fewer than the inputs)", last_input_left_out),
    Mistake("every neuron given the first neuron's weights", first_weights_for_all),
    Mistake("first neuron's bias used for every neuron", first_bias_for_all),
]


def lesson_values(computation: answer_key.Computation) -> dict:
    return {name: value for name, (value, _grid) in computation.inputs.items()}


def weight_names(computation: answer_key.Computation) -> list[str]:
    return [name for name in computation.inputs if name.startswith("weights")]


def bias_names(computation: answer_key.Computation) -> list[str]:
    return [name for name in computation.inputs if name.startswith("bias")]


def is_layer_matrix(computation: answer_key.Computation) -> bool:
    """Whether the layer's weights are one list of rows (NumPy's) rather than one name per neuron."""
    values = lesson_values(computation)
    return all(isinstance(row, list) for name in weight_names(computation) for row in values[name])


def as_neurons(computation: answer_key.Computation, values: dict) -> Neurons:
    weights, biases = weight_names(computation), bias_names(computation)
    if is_layer_matrix(computation):
        rows, neuron_biases = [list(row) for row in values[weights[0]]], list(values[biases[0]])
    else:
        rows, neuron_biases = [list(values[name]) for name in weights], [values[name] for name in biases]
    return Neurons(list(values["inputs"]), rows, neuron_biases)


def as_values(computation: answer_key.Computation, neurons: Neurons) -> dict:
    weights, biases = weight_names(computation), bias_names(computation)
    if is_layer_matrix(computation):
        return {"inputs": neurons.inputs, weights[0]: neurons.weights, biases[0]: neurons.biases}
    return {"inputs": neurons.inputs, **dict(zip(weights, neurons.weights)), **dict(zip(biases, neurons.biases))}


def wrong_result(computation: answer_key.Computation, mistake: Mistake):
    """What the computation gives on the lesson's values when the code makes `mistake`."""
    changed = mistake.change(as_neurons(computation, lesson_values(computation)))
    return computation.formula(as_values(computation, changed))


def is_expected(computation: answer_key.Computation, value) -> bool:
    check = answer_key.CHECKS[computation.check]
    return answer_key.matches(value, check.expected, check.tolerance)


def known_wrong_results(computation: answer_key.Computation) -> list[tuple[object, list[str]]]:
    """Each wrong result a known mistake gives, with the causes that give it, in the order of
    `MISTAKES`. A mistake that changes nothing here (one neuron has no other neuron's weights)
    is left out; mistakes that give the same result share one entry."""
    known = []
    for mistake in MISTAKES:
        value = wrong_result(computation, mistake)
        if is_expected(computation, value):
            continue
        same = next((entry for entry in known
                     if answer_key.matches(value, entry[0], answer_key.COMPUTED_TOLERANCE)), None)
        if same is None:
            known.append((value, [mistake.cause]))
        else:
            same[1].append(mistake.cause)
    return known


def likely_causes(check: str, value) -> list[str]:
    """The known causes of a student's wrong `value` for the result checked by `check`; empty when none
    gives it. Two causes that give the same result are both named: nothing tells them apart."""
    computation = answer_key.COMPUTATIONS[check]
    return [cause for known, causes in known_wrong_results(computation)
            if answer_key.matches(value, known, answer_key.COMPUTED_TOLERANCE) for cause in causes]

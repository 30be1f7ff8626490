"""The known mistakes in the lesson's computations: the wrong result each gives, derived from the
lesson's values, and the cause the report names for a student's wrong value."""

import numpy
import pytest

from coursetools import lesson, wrong_results
from coursetools.engine import answer_key

BIAS_LEFT_OUT = "bias left out"
LAST_INPUT_LEFT_OUT = "last input and its weight left out (one pair fewer than the inputs)"
FIRST_WEIGHTS = "every neuron given the first neuron's weights"
FIRST_BIAS = "first neuron's bias used for every neuron"


def neuron_by_hand(inputs, weights, bias):
    return float(numpy.dot(weights, inputs) + bias)


def layer_by_hand(inputs, weights, biases):
    return (numpy.dot(weights, inputs) + biases).tolist()


E2_WEIGHTS = [lesson.E2_WEIGHTS1, lesson.E2_WEIGHTS2, lesson.E2_WEIGHTS3]
E2_BIASES = [lesson.E2_BIAS1, lesson.E2_BIAS2, lesson.E2_BIAS3]

# Mistaken code written out with NumPy, apart from the module's own derivation
BY_HAND = [
    ("e1_output", neuron_by_hand(lesson.E1_INPUTS, lesson.E1_WEIGHTS, 0), BIAS_LEFT_OUT),
    ("e1_output", neuron_by_hand(lesson.E1_INPUTS, lesson.E1_WEIGHTS, -lesson.E1_BIAS),
     "bias subtracted instead of added"),
    ("e1_output", sum(lesson.E1_INPUTS) + sum(lesson.E1_WEIGHTS) + lesson.E1_BIAS,
     "inputs and weights added instead of multiplied"),
    ("e1_output", neuron_by_hand(lesson.E1_INPUTS[:-1], lesson.E1_WEIGHTS[:-1], lesson.E1_BIAS), LAST_INPUT_LEFT_OUT),
    ("e1_output", sum(x * w + lesson.E1_BIAS for x, w in zip(lesson.E1_INPUTS, lesson.E1_WEIGHTS)),
     "bias added once per input (inside the sum) instead of once"),
    ("e1_output", neuron_by_hand(lesson.E1_INPUTS, lesson.E1_WEIGHTS, 0) * lesson.E1_BIAS,
     "sum of the products multiplied by the bias instead of the bias added"),
    ("e1_output", sum(lesson.E1_INPUTS) * sum(lesson.E1_WEIGHTS) + lesson.E1_BIAS,
     "sum of the inputs times the sum of the weights, instead of each input times its own weight"),
    ("e2_outputs", layer_by_hand(lesson.E2_INPUTS, E2_WEIGHTS, [0, 0, 0]), BIAS_LEFT_OUT),
    ("e2_outputs", layer_by_hand(lesson.E2_INPUTS[:3], [row[:3] for row in E2_WEIGHTS], E2_BIASES),
     LAST_INPUT_LEFT_OUT),
    ("e2_outputs", layer_by_hand(lesson.E2_INPUTS, [lesson.E2_WEIGHTS1] * 3, E2_BIASES), FIRST_WEIGHTS),
    ("e2_outputs", layer_by_hand(lesson.E2_INPUTS, E2_WEIGHTS, [lesson.E2_BIAS1] * 3), FIRST_BIAS),
    ("e3_outputs", neuron_by_hand(lesson.E3_INPUTS, lesson.E3_WEIGHTS, 0), BIAS_LEFT_OUT),
    ("e4_output", layer_by_hand(lesson.E4_INPUTS, lesson.E4_WEIGHTS, [0, 0, 0]), BIAS_LEFT_OUT),
    ("e4_output", layer_by_hand(lesson.E4_INPUTS, [lesson.E4_WEIGHTS[0]] * 3, lesson.E4_BIASES), FIRST_WEIGHTS),
    ("e4_output", layer_by_hand(lesson.E4_INPUTS, lesson.E4_WEIGHTS, [lesson.E4_BIASES[0]] * 3), FIRST_BIAS),
]


def test_is_exercise_ones_result_without_the_bias_put_down_to_the_bias():
    assert wrong_results.likely_causes("e1_output", 0.3) == [BIAS_LEFT_OUT]
    assert wrong_results.likely_causes("e1_output", 0.30000000000000004) == [BIAS_LEFT_OUT]


@pytest.mark.parametrize("check, value, cause", BY_HAND)
def test_does_each_mistake_written_out_get_its_cause(check, value, cause):
    assert wrong_results.likely_causes(check, value) == [cause]


@pytest.mark.parametrize("check", list(answer_key.COMPUTATIONS))
def test_is_every_known_wrong_result_wrong_and_distinct(check):
    """A cause is named only for a result that differs from the expected one, and two known results
    closer than the tolerance would be one entry naming both causes."""
    known = wrong_results.known_wrong_results(answer_key.COMPUTATIONS[check])
    expected = answer_key.CHECKS[check]
    assert known and all(not answer_key.matches(value, expected.expected, expected.tolerance) for value, _ in known)
    for index, (value, _) in enumerate(known):
        later = [other for other, _ in known[index + 1:]]
        assert not any(answer_key.matches(value, other, answer_key.COMPUTED_TOLERANCE) for other in later)


def test_do_the_layer_mistakes_apply_to_the_layers_only():
    for check in ("e1_output", "e3_outputs"):
        causes = [cause for _, found in wrong_results.known_wrong_results(answer_key.COMPUTATIONS[check])
                  for cause in found]
        assert FIRST_WEIGHTS not in causes and FIRST_BIAS not in causes
    for check in ("e2_outputs", "e4_output"):
        causes = [cause for _, found in wrong_results.known_wrong_results(answer_key.COMPUTATIONS[check])
                  for cause in found]
        assert FIRST_WEIGHTS in causes and FIRST_BIAS in causes


def test_are_two_mistakes_with_one_result_both_named(monkeypatch):
    twin = wrong_results.Mistake("bias set to zero", lambda n: wrong_results.scaled_biases(n, 0))
    monkeypatch.setattr(wrong_results, "MISTAKES", [*wrong_results.MISTAKES, twin])
    assert wrong_results.likely_causes("e1_output", 0.3) == [BIAS_LEFT_OUT, "bias set to zero"]


@pytest.mark.parametrize("check, value", [
    ("e1_output", 1.234), ("e1_output", [0.3]), ("e2_outputs", [2.8, -1.79]), ("e2_outputs", 0.3),
    ("e3_outputs", 2.8 + 2 * answer_key.COMPUTED_TOLERANCE),
])
def test_is_a_value_no_known_mistake_gives_left_unexplained(check, value):
    assert wrong_results.likely_causes(check, value) == []

"""What each check expects and what each exercise computes, kept outside the notebook.

The checks in the notebook run in the student's kernel, where student code
can change how they behave. The engine therefore reads every checked value
back as plain numbers and compares it here (`Check`), and reruns each
exercise on secret inputs to see that its result follows them
(`Computation`). Everything in this module is public: the lesson's values
are printed in the notebook, and the secret inputs are drawn per course and
per student (`secret_inputs`).
"""

import ast
import json
import math
from dataclasses import dataclass
from typing import Callable

from coursetools import lesson

# A value typed in: only float rounding may differ
TYPED_TOLERANCE = 1e-6
# A computed result: float32 arithmetic stays far inside it, while results on
# the grids of values below are at least 0.005 apart
COMPUTED_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Check:
    grade_id: str
    name: str  # the variable it checks
    expected: object  # a number, a (nested) list of numbers, or True for "np is NumPy"
    tolerance: float = TYPED_TOLERANCE


@dataclass(frozen=True)
class Grid:
    """Secret values are drawn on the lesson's own grid: multiples of `step` in [low, high], never 0."""
    step: float
    low: float
    high: float


# The grids keep every secret result to as many decimals as the lesson's result shows, so a
# student who rounds as the lesson's numbers allow stays right on the secret inputs too.
# One neuron (2.3, 4.8: one decimal): whole inputs and biases, weights in tenths.
NEURON_GRIDS = {"inputs": Grid(1, -5, 5), "weights": Grid(0.1, -1.0, 1.0), "bias": Grid(1, -4, 4)}
# A layer (4.8, 1.21, 2.385: three decimals): inputs and biases in halves, weights in hundredths.
LAYER_GRIDS = {"inputs": Grid(0.5, -4.0, 4.0), "weights": Grid(0.01, -1.0, 1.0), "bias": Grid(0.5, -3.0, 3.0)}


@dataclass(frozen=True)
class Computation:
    """An exercise's computed result and the names it must follow."""
    exercise: str  # grade-id prefix, "e1"
    title: str  # as the notebook says it, "Exercise 1"
    check: str  # grade id of the result's check
    result: str  # the result's variable
    inputs: dict  # pinned name -> (the lesson's value, which gives the shape; the grid to draw on)
    formula: Callable[[dict], object]  # the expected result for any values of the pinned names

    @property
    def names(self) -> str:
        """The pinned names as a student reads them: "`inputs`, `weights` and `bias`"."""
        quoted = [f"`{name}`" for name in self.inputs]
        return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def neuron(inputs, weights, bias) -> float:
    return sum(x * w for x, w in zip(inputs, weights)) + bias


def layer(inputs, weights, biases) -> list[float]:
    return [neuron(inputs, row, b) for row, b in zip(weights, biases)]


CHECKS = {check.grade_id: check for check in [
    Check("e1_inputs", "inputs", lesson.E1_INPUTS),
    Check("e1_weights", "weights", lesson.E1_WEIGHTS),
    Check("e1_bias", "bias", lesson.E1_BIAS),
    Check("e1_output", "output", lesson.E1_OUTPUT, COMPUTED_TOLERANCE),
    Check("e2_inputs", "inputs", lesson.E2_INPUTS),
    Check("e2_weights1", "weights1", lesson.E2_WEIGHTS1),
    Check("e2_weights2", "weights2", lesson.E2_WEIGHTS2),
    Check("e2_weights3", "weights3", lesson.E2_WEIGHTS3),
    Check("e2_bias1", "bias1", lesson.E2_BIAS1),
    Check("e2_bias2", "bias2", lesson.E2_BIAS2),
    Check("e2_bias3", "bias3", lesson.E2_BIAS3),
    Check("e2_outputs", "outputs", lesson.E2_OUTPUTS, COMPUTED_TOLERANCE),
    Check("e3_numpy", "np", True),
    Check("e3_inputs", "inputs", lesson.E3_INPUTS),
    Check("e3_weights", "weights", lesson.E3_WEIGHTS),
    Check("e3_bias", "bias", lesson.E3_BIAS),
    Check("e3_outputs", "outputs", lesson.E3_OUTPUTS, COMPUTED_TOLERANCE),
    Check("e4_inputs", "inputs", lesson.E4_INPUTS),
    Check("e4_weights", "weights", lesson.E4_WEIGHTS),
    Check("e4_biases", "biases", lesson.E4_BIASES),
    Check("e4_output", "output", lesson.E4_OUTPUT, COMPUTED_TOLERANCE),
]}

COMPUTATIONS = {computation.check: computation for computation in [
    Computation("e1", "Exercise 1", "e1_output", "output",
                {"inputs": (lesson.E1_INPUTS, NEURON_GRIDS["inputs"]), "weights": (lesson.E1_WEIGHTS, NEURON_GRIDS["weights"]),
                 "bias": (lesson.E1_BIAS, NEURON_GRIDS["bias"])},
                lambda v: neuron(v["inputs"], v["weights"], v["bias"])),
    Computation("e2", "Exercise 2", "e2_outputs", "outputs",
                {"inputs": (lesson.E2_INPUTS, LAYER_GRIDS["inputs"]),
                 **{f"weights{k}": (getattr(lesson, f"E2_WEIGHTS{k}"), LAYER_GRIDS["weights"]) for k in (1, 2, 3)},
                 **{f"bias{k}": (getattr(lesson, f"E2_BIAS{k}"), LAYER_GRIDS["bias"]) for k in (1, 2, 3)}},
                lambda v: layer(v["inputs"], [v["weights1"], v["weights2"], v["weights3"]],
                                [v["bias1"], v["bias2"], v["bias3"]])),
    Computation("e3", "Exercise 3", "e3_outputs", "outputs",
                {"inputs": (lesson.E3_INPUTS, NEURON_GRIDS["inputs"]), "weights": (lesson.E3_WEIGHTS, NEURON_GRIDS["weights"]),
                 "bias": (lesson.E3_BIAS, NEURON_GRIDS["bias"])},
                lambda v: neuron(v["inputs"], v["weights"], v["bias"])),
    Computation("e4", "Exercise 4", "e4_output", "output",
                {"inputs": (lesson.E4_INPUTS, LAYER_GRIDS["inputs"]), "weights": (lesson.E4_WEIGHTS, LAYER_GRIDS["weights"]),
                 "biases": (lesson.E4_BIASES, LAYER_GRIDS["bias"])},
                lambda v: layer(v["inputs"], v["weights"], v["biases"])),
]}


def read_back_expression(check: Check) -> str:
    """An expression the kernel evaluates right after the check (a `user_expressions` entry of the
    check's own execute request): the checked value as a JSON string.

    It binds no name, so it cannot disturb the student's own variables.
    """
    if check.expected is True:  # "np is NumPy"
        value = f'{check.name} is __import__("sys").modules.get("numpy")'
    else:  # numbers and nested lists; iterables NumPy does not take (dict views, classes) item by item
        # built-ins come from `builtins`, never the notebook's names: a student may well call a list `list`
        value = ('(lambda np, b: (lambda plain: plain(plain, ' + check.name + '))(lambda plain, v: '
                 'np.asarray(v, dtype=b.float).tolist() if b.isinstance(v, (b.int, b.float, b.list, b.tuple)) '
                 'or b.hasattr(v, "__array__") or np.isscalar(v) else [plain(plain, x) for x in v]))'
                 '(__import__("numpy"), __import__("builtins"))')
    return f'__import__("json").dumps({value})'


# NumPy's own scalar types, which `.item()` turns into a plain number
NUMPY_SCALARS = ("float64", "float32", "float16", "int64", "int32", "int16", "int8",
                 "uint64", "uint32", "uint16", "uint8")


def look_expression(name: str, limit: int = 100) -> str:
    """An expression that gives `name`'s value as JSON when it is plain numbers, without running student code.

    The answer cells of computed results carry it (`execute.GradingExecute`),
    for the report's count of wrong values. Unlike the check's read-back,
    which runs only once the check passed, it meets whatever the student's
    cell left: a generator, an endless iterator, an object with a slow
    `__array__` or a class with a metaclass of its own. So it compares types
    by identity only (`is`, never `==` or `isinstance`, which a metaclass can
    answer), iterates nothing but exact lists and tuples (at most `limit`
    items, two levels), converts only exact NumPy arrays and scalars, and
    gives null for anything else: it cannot change the student's state or
    take longer than a glance.
    """
    scalars = ", ".join(f"np.{scalar}" for scalar in NUMPY_SCALARS)
    return ('__import__("json").dumps((lambda np, b: (lambda exact: (lambda look: look(look, ' + name + ', 0))('
            'lambda look, v, depth: v if exact(v, (b.int, b.float)) '
            f'else v.item() if exact(v, ({scalars})) '
            f'else v.tolist() if exact(v, (np.ndarray,)) and v.size <= {limit} and v.dtype.kind in "iuf" '
            f'else [look(look, x, depth + 1) for x in v] if exact(v, (b.list, b.tuple)) and b.len(v) <= {limit} '
            'and depth < 2 else None))(lambda v, types: b.any(b.type(v) is t for t in types)))'
            '(__import__("numpy"), __import__("builtins")))')


def parse_read_back(result):
    """The value from a `user_expressions` result (the kernel's repr of the JSON text), or None.

    The repr comes from the student's kernel, so anything but a plain string
    literal holding valid JSON is no value at all.
    """
    if not isinstance(result, dict) or result.get("status") != "ok":
        return None
    text = (result.get("data") or {}).get("text/plain")
    if not isinstance(text, str) or len(text) > READ_BACK_LIMIT:
        return None
    try:
        literal = ast.literal_eval(text)
        return json.loads(literal) if isinstance(literal, str) else None
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


READ_BACK_LIMIT = 1_000_000  # characters: far more than any checked value of this lesson


def matches(actual, expected, tolerance: float) -> bool:
    """Plain values only: the same nesting and length, every number finite and within `tolerance`.

    `actual` comes from student code (read back or reported), so it may be
    anything JSON can hold: huge integers, NaN, booleans, strings.
    """
    if isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            matches(a, e, tolerance) for a, e in zip(actual, expected))
    if type(actual) not in (int, float):
        return False
    try:
        return math.isfinite(actual) and abs(float(actual) - expected) <= tolerance
    except OverflowError:  # an integer too large for a float
        return False

"""The grading engine's pieces on their own: secret inputs, pinning, and comparisons of untrusted values."""

import collections
import decimal
import fractions
import os

import numpy
import pytest

from coursetools import lesson
from coursetools.engine import answer_key, recheck, recheck_runner, secret_inputs

KEY = bytes(range(32))
STUDENTS = [f"student{i}" for i in range(200)]


def decimals_shown(value) -> int:
    """How many decimals the lesson prints for a result: 2.3 -> 1, [4.8, 1.21, 2.385] -> 3."""
    return max(len(repr(float(x)).split(".")[1].rstrip("0")) for x in secret_inputs.flat(value))


@pytest.mark.parametrize("check", sorted(answer_key.COMPUTATIONS))
def test_are_the_secret_inputs_the_same_on_regrading_and_different_between_students(check):
    computation = answer_key.COMPUTATIONS[check]
    draws = [secret_inputs.draw(KEY, "building_blocks", student, computation) for student in STUDENTS]
    assert draws[0] == secret_inputs.draw(KEY, "building_blocks", STUDENTS[0], computation)
    assert len({repr(draw) for draw in draws}) > 190
    assert draws[0] != secret_inputs.draw(bytes(32), "building_blocks", STUDENTS[0], computation), "a course key of its own"


@pytest.mark.parametrize("check", sorted(answer_key.COMPUTATIONS))
def test_does_a_result_rounded_as_the_lesson_allows_stay_right(check):
    """The promise to students: rounding to the decimals the lesson shows never costs a point."""
    computation = answer_key.COMPUTATIONS[check]
    places = decimals_shown(answer_key.CHECKS[check].expected)
    for student in STUDENTS:
        values = secret_inputs.draw(KEY, "building_blocks", student, computation)
        exact = secret_inputs.flat(computation.formula(values))
        rounded = [round(x, places) for x in exact]
        assert answer_key.matches(rounded, exact, answer_key.COMPUTED_TOLERANCE), (student, exact)


@pytest.mark.parametrize("check", sorted(answer_key.COMPUTATIONS))
def test_is_every_secret_result_far_from_the_lessons(check):
    """A typed-in lesson result can never pass by luck."""
    computation = answer_key.COMPUTATIONS[check]
    lesson_result = secret_inputs.flat(answer_key.CHECKS[check].expected)
    for student in STUDENTS:
        result = secret_inputs.flat(computation.formula(secret_inputs.draw(KEY, "building_blocks", student, computation)))
        assert all(abs(a - b) >= secret_inputs.MIN_DISTANCE_FROM_LESSON for a, b in zip(result, lesson_result))


@pytest.mark.parametrize("check", sorted(answer_key.COMPUTATIONS))
def test_is_no_secret_value_any_lesson_value_of_its_exercise(check):
    """A loop that rebinds `bias1` to the secret `bias2` must not hold the lesson's `bias1` and be pinned again."""
    computation = answer_key.COMPUTATIONS[check]
    lesson_values = [value for value, _ in computation.inputs.values()]
    for student in STUDENTS:
        for secret in secret_inputs.draw(KEY, "building_blocks", student, computation).values():
            assert not any(answer_key.matches(secret, value, 0) for value in lesson_values), (student, secret)


def test_is_the_course_key_made_once_and_private(tmp_path):
    path = tmp_path / secret_inputs.SECRET_FILE
    key = secret_inputs.course_secret(path)
    assert len(key) == 32 and path.stat().st_mode & 0o777 == 0o600
    assert secret_inputs.course_secret(path) == key
    assert os.listdir(tmp_path) == [secret_inputs.SECRET_FILE], "no candidate file left behind"


SECRET = [1.5, -2.0, 0.5]
Point = collections.namedtuple("Point", "x y z")


@pytest.mark.parametrize("value, kind", [
    ([1, 2, 3], list), ((1, 2, 3), tuple), (Point(1, 2, 3), Point), (collections.deque([1, 2, 3]), collections.deque),
    (numpy.array([1.0, 2.0, 3.0], dtype=numpy.float32), numpy.ndarray), (range(1, 4), list),
])
def test_does_pinning_keep_the_students_own_container(value, kind):
    pinned = recheck_runner.like(value, SECRET)
    assert type(pinned) is kind and recheck_runner.plain(pinned) == SECRET
    if isinstance(value, numpy.ndarray):
        assert pinned.dtype == value.dtype


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix, which some students still use
def test_does_pinning_keep_whole_numbers_whole_where_it_can():
    assert recheck_runner.like(2, 3) == 3 and type(recheck_runner.like(2, 3)) is int
    assert recheck_runner.like(2, 1.5) == 1.5
    assert recheck_runner.like(numpy.array([1, 2]), [3, -4]).dtype.kind == "i"
    assert recheck_runner.like(numpy.array([1, 2]), [3, 0.5]).dtype.kind == "f"
    assert recheck_runner.like(decimal.Decimal("0.2"), 0.3) == decimal.Decimal("0.3")
    assert recheck_runner.like(fractions.Fraction(1, 5), 0.3) == fractions.Fraction(3, 10)
    matrix = recheck_runner.like(numpy.matrix([[1.0, 2.0]]), [[3.0, 4.0]])
    assert type(matrix) is numpy.matrix and matrix.A1.tolist() == [3.0, 4.0]


def test_does_a_wrong_shape_stay_the_students_own():
    assert recheck_runner.like([1, 2], SECRET) is None
    assert recheck_runner.like("abc", SECRET) is None
    assert recheck_runner.like(True, 1.5) is None


LESSON = [1, 2, 3]


def pinned_namespace():
    ns = recheck_runner.PinnedNamespace()
    ns.pin({"inputs": {"secret": SECRET, "lesson": LESSON}})
    return ns


def test_does_every_way_of_defining_a_pinned_name_take_the_secret_value():
    ns = pinned_namespace()
    exec("inputs = [1, 2, 3]", ns)
    assert ns["inputs"] == SECRET
    for definition in ["def set_it():\n    global inputs\n    inputs = [1, 2, 3]\nset_it()",
                       "globals().update(inputs=[1, 2, 3])",
                       "inputs = []\nfor v in (1, 2, 3):\n    inputs.append(v)",
                       "inputs = [0, 0, 0]\ninputs[0], inputs[1], inputs[2] = 1, 2, 3"]:
        exec(definition + "\nseen = [x * 1 for x in inputs]", ns)
        assert ns["seen"] == SECRET, definition


def test_does_a_value_the_student_derives_stay_theirs():
    """Only the lesson's values typed in are replaced: accumulators and rewritten lists are the student's own."""
    ns = pinned_namespace()
    exec("inputs = [1, 2, 3]\ninputs = [x * 2 for x in inputs]", ns)
    assert ns["inputs"] == [x * 2 for x in SECRET]


def test_do_the_students_own_values_come_back_when_the_exercise_ends():
    ns = pinned_namespace()
    exec("inputs = [1, 2, 3]", ns)
    ns.pin({})
    assert ns["inputs"] == LESSON
    exec("inputs = [1, 2, 3]", ns)
    assert ns["inputs"] == LESSON, "outside its exercise a name is not pinned"


def test_does_a_list_carrying_an_earlier_exercises_secret_count_as_its_lesson_values():
    """Exercise 4's weights built from Exercise 2's rows, kept in a helper list: the rerun still follows them."""
    ns = recheck_runner.PinnedNamespace()
    ns.pin({"weights1": {"secret": SECRET, "lesson": LESSON}})
    exec("weights1 = [1, 2, 3]\nrows = [weights1, weights1]", ns)
    ns.pin({"weights": {"secret": [[5, 6, 7], [8, 9, 10]], "lesson": [LESSON, LESSON]}})
    exec("weights = rows", ns)
    assert ns["weights"] == [[5, 6, 7], [8, 9, 10]]


def test_does_an_object_of_the_students_own_class_keep_its_attributes():
    class Layer:
        def __init__(self, rows, name):
            self.rows, self.name = rows, name

        def __len__(self):
            return len(self.rows)

        def __getitem__(self, i):
            return self.rows[i]

    pinned = recheck_runner.like(Layer([1, 2, 3], "hidden"), SECRET)
    assert type(pinned) is Layer and pinned.rows == SECRET and pinned.name == "hidden"


def test_does_a_malformed_report_from_the_rerun_count_for_nothing():
    lines = ['{"check": ["x"]}\n', '{"check": "e9_output", "value": 1}\n', '{"cell": true, "error": 1}\n',
             '{"done": "yes"}\n', '[1, 2]\n', '{"check": "e1_output", "value": 2.5}\n']
    report = recheck.parse_reports(lines)
    assert report.values == {"e1_output": 2.5} and report.errors == {} and not report.finished


@pytest.mark.parametrize("untrusted", [10**400, float("nan"), float("inf"), True, "2.3", None, [2.3], {"a": 1}])
def test_does_an_untrusted_value_never_match_or_crash(untrusted):
    assert not answer_key.matches(untrusted, 2.3, answer_key.COMPUTED_TOLERANCE)
    assert not answer_key.matches([untrusted] * 3, lesson.E2_OUTPUTS, answer_key.COMPUTED_TOLERANCE)


def ok(text):
    return {"status": "ok", "data": {"text/plain": text}, "metadata": {}}


@pytest.mark.parametrize("result, value", [
    (ok("'[1.0, 2.0]'"), [1.0, 2.0]), (ok('"2.3"'), 2.3), (ok("'true'"), True),
    (ok("'{not json'"), None), (ok("2.3"), None), (ok("'NaN'"), None), (ok("__import__('os')"), None),
    (ok("'" + "[" * 100_000 + "'"), None), (ok("'" + "1" * 2_000_000 + "'"), None),
    ({"status": "error", "ename": "NameError"}, None), ({"status": "ok"}, None), ("'2.3'", None), (None, None),
])
def test_is_a_read_back_parsed_or_refused(result, value):
    parsed = answer_key.parse_read_back(result)
    assert parsed == value or (value is None and not answer_key.matches(parsed, 2.3, 1))


def test_does_a_flood_from_the_rerun_stop_being_read(tmp_path):
    source = tmp_path / "flood"
    source.write_bytes(b"x" * (recheck.REPORT_LIMIT + 10))
    with open(source, "rb") as stream:
        progress = recheck.Progress(stream)
        progress.thread.join(timeout=10)
    assert sum(map(len, progress.lines)) <= recheck.REPORT_LIMIT

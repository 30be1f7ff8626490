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


def test_does_every_way_of_setting_a_pinned_name_take_the_secret_value():
    ns = recheck_runner.PinnedNamespace()
    ns.pin({"inputs": SECRET})
    exec("inputs = [1, 2, 3]", ns)
    assert ns["inputs"] == SECRET
    exec("def set_it():\n    global inputs\n    inputs = [1, 2, 3]\nset_it()\nseen = list(inputs)", ns)
    assert ns["seen"] == SECRET
    exec("globals().update(inputs=[1, 2, 3])\nseen = sum(inputs)", ns)
    assert ns["seen"] == sum(SECRET)
    exec("inputs = []\nfor v in (1, 2, 3):\n    inputs.append(v)\nseen = list(inputs)", ns)
    assert ns["seen"] == SECRET
    exec("del inputs\nseen = inputs", ns)
    assert ns["seen"] == SECRET
    ns.pin({})
    exec("inputs = [1, 2, 3]", ns)
    assert ns["inputs"] == [1, 2, 3], "outside its exercise a name is the student's again"


@pytest.mark.parametrize("untrusted", [10**400, float("nan"), float("inf"), True, "2.3", None, [2.3], {"a": 1}])
def test_does_an_untrusted_value_never_match_or_crash(untrusted):
    assert not answer_key.matches(untrusted, 2.3, answer_key.COMPUTED_TOLERANCE)
    assert not answer_key.matches([untrusted] * 3, lesson.E2_OUTPUTS, answer_key.COMPUTED_TOLERANCE)


@pytest.mark.parametrize("text, value", [
    ("course-read-back [1.0, 2.0]\n", [1.0, 2.0]), ("noise\ncourse-read-back 2.3\n", 2.3),
    ("course-read-back {not json\n", None), ("nothing here", None), ("course-read-back NaN", None),
])
def test_is_a_read_back_parsed_or_refused(text, value):
    parsed = answer_key.parse_read_back(text)
    assert parsed == value or (value is None and not answer_key.matches(parsed, 2.3, 1))


def test_does_a_flood_from_the_rerun_stop_being_read(tmp_path):
    source = tmp_path / "flood"
    source.write_bytes(b"x" * (recheck.REPORT_LIMIT + 10))
    with open(source, "rb") as stream:
        progress = recheck.Progress(stream)
        progress.thread.join(timeout=10)
    assert sum(map(len, progress.lines)) <= recheck.REPORT_LIMIT

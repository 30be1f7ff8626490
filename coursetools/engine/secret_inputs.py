"""Secret inputs for the recheck: other values for each exercise's names, per course and per student.

The values come from a per-course secret (a random key written on first
grading, next to the gradebook and git-ignored like it) and the student's id,
so regrading gives the same values and nothing in the repository or the
notebook reveals them. They are drawn on each exercise's own grid, chosen so
that the secret results have no more decimals than the lesson's results
show (`answer_key`): an answer that is right when rounded as the lesson's
numbers allow stays right.
"""

import hashlib
import hmac
import os
import random
import secrets
from pathlib import Path

from coursetools.engine.answer_key import Computation, Grid, matches

SECRET_FILE = "course_secret.key"
# A typed-in lesson result must miss every secret result by far more than any tolerance
MIN_DISTANCE_FROM_LESSON = 0.05


def course_secret(path: Path) -> bytes:
    """The course's key, created (readable by its owner only) if it does not exist yet.

    Two graders starting at once agree on one key: each writes its own
    candidate and links it into place, and the loser reads the winner's.
    """
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    candidate = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    try:
        os.link(candidate, path)
    except FileExistsError:
        pass
    finally:
        candidate.unlink()
    return bytes.fromhex(path.read_text().strip())


def draw_value(rng: random.Random, shape_of, grid: Grid):
    """A value of the same nesting and length as `shape_of`, each number on the grid and not 0."""
    if isinstance(shape_of, list):
        return [draw_value(rng, item, grid) for item in shape_of]
    steps = round(grid.high / grid.step)
    k = rng.choice([k for k in range(round(grid.low / grid.step), steps + 1) if k != 0])
    return k * round(grid.step) if float(grid.step).is_integer() else round(k * grid.step, 2)


def far_from_lesson(computation: Computation, values: dict) -> bool:
    """Secret values that no pinning can mistake for the lesson's, with a result far from the lesson's.

    No secret value equals the lesson's value of any name of the exercise:
    a loop that rebinds `bias1` to the secret `bias2` must not find the
    lesson's `bias1` there and have it pinned again.
    """
    lesson_values = {name: value for name, (value, _) in computation.inputs.items()}
    lesson_result, result = computation.formula(lesson_values), computation.formula(values)
    close = [abs(a - b) < MIN_DISTANCE_FROM_LESSON for a, b in zip(flat(result), flat(lesson_result))]
    return not any(close) and not any(matches(secret, lesson, 0)
                                      for secret in values.values() for lesson in lesson_values.values())


def flat(value) -> list:
    return [x for item in value for x in flat(item)] if isinstance(value, list) else [value]


def draw(secret: bytes, assignment: str, student: str, computation: Computation) -> dict:
    """The secret values of one exercise's pinned names for one student."""
    label = f"{assignment}\0{student}\0{computation.exercise}".encode()
    rng = random.Random(hmac.new(secret, label, hashlib.sha256).digest())
    while True:
        values = {name: draw_value(rng, shape_of, grid) for name, (shape_of, grid) in computation.inputs.items()}
        if far_from_lesson(computation, values):
            return values

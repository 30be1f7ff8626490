"""What each computed result held right after its answer cell ran, kept in the autograded notebook.

A failed check says that a result is wrong, not what it was. To show the
instructor which wrong values the class computed (`coursetools.class_report`),
`execute.GradingExecute` reads each computation's result back right after
the answer cell that writes it (grade id `<check>_answer`) ran without
error, with the same read-back as its check's. `RecordComputedValues`, in
nbgrader's autograde step, writes them into the notebook's metadata as
`metadata.course.computed`: {check id: value}.

The values come from student code, so only plain values are kept: a finite
number, or a short list (or list of lists) of them; anything else is no
value. The key is always written, empty when nothing was read, so nothing a
student planted there survives: nbgrader lists nbconvert's
`ClearMetadataPreprocessor` among its steps but leaves it disabled, so the
hand-in's own notebook metadata reaches the autograded notebook. These
values never decide a score: the recheck trusts only the check cells' own
read-back (`kernel_values`).
"""

import math

from nbgrader.preprocessors import NbGraderPreprocessor

from coursetools.engine import answer_key

METADATA_SECTION = "course"  # the course's own section of the notebook's metadata
COMPUTED = "computed"  # its key for the computed results
RESOURCE = "computed_values"  # GradingExecute's key for them in resources["course"]
# A result of this lesson is one number or three; the rest leaves room for a wrong shape (a 3x4 matrix)
MAX_NUMBERS = 100
MAX_DEPTH = 2  # lists of lists at most, as a weights matrix


def answer_cell_id(check: str) -> str:
    return f"{check}_answer"


# The answer cell that writes each computed result -> that result's check
ANSWER_CELLS = {answer_cell_id(check): check for check in answer_key.COMPUTATIONS}


def plain_result(value):
    """`value` as plain floats if it is a finite number or a small list (of lists) of them, else None."""
    kept = _plain(value, MAX_DEPTH)
    return kept if kept is not None and count_numbers(kept) <= MAX_NUMBERS else None


def _plain(value, depth: int):
    if type(value) in (int, float):  # never bool, never a subclass with surprises
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float
            return None
        return number if math.isfinite(number) else None
    if type(value) is list and depth > 0 and len(value) <= MAX_NUMBERS:
        items = [_plain(item, depth - 1) for item in value]
        return None if any(item is None for item in items) else items
    return None


def count_numbers(value) -> int:
    return sum(count_numbers(item) for item in value) if isinstance(value, list) else 1


def plain_results(values) -> dict:
    """The known checks' plain values from a {check id: value} mapping, in the notebook's order."""
    if not isinstance(values, dict):
        return {}
    kept = {check: plain_result(values.get(check)) for check in answer_key.COMPUTATIONS}
    return {check: value for check, value in kept.items() if value is not None}


def recorded(nb) -> dict:
    """The computed results an autograded notebook records, checked again: the file is read as data."""
    metadata = nb.get("metadata") if isinstance(nb, dict) else None
    section = metadata.get(METADATA_SECTION) if isinstance(metadata, dict) else None
    return plain_results(section.get(COMPUTED) if isinstance(section, dict) else None)


class RecordComputedValues(NbGraderPreprocessor):
    """Write the results read back after each answer cell into the notebook's metadata, replacing
    whatever was there."""

    def preprocess(self, nb, resources):
        values = (resources or {}).get("course", {}).get(RESOURCE, {})
        section = nb.metadata.get(METADATA_SECTION)
        section = dict(section) if isinstance(section, dict) else {}
        section[COMPUTED] = plain_results(values)
        # stored whole: a notebook node keeps a copy of a dict put in it, not the dict itself
        nb.metadata[METADATA_SECTION] = section
        return nb, resources

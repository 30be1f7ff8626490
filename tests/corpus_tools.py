"""How a corpus entry is written: a hand-in built from the release, and what it must score."""

import itertools
from dataclasses import dataclass, field

from nbformat.v4 import nbbase

from coursetools import demo_students, notebooks

CORRECT = demo_students.CORRECT
PLAIN_PYTHON = demo_students.PLAIN_PYTHON
NUMPY_CHECKS = ["e3_numpy", "e3_inputs", "e3_weights", "e3_bias", "e3_outputs",
                "e4_inputs", "e4_weights", "e4_biases", "e4_output"]


@dataclass(frozen=True)
class Submission:
    answers: dict  # answer cell id -> code, as in demo_students
    failing: list = field(default_factory=list)  # checks that must score 0
    status: str = "graded"
    change: object = None  # optional function(notebook) that edits the hand-in further
    flagged: list = field(default_factory=list)  # checks that passed in the kernel, failed the recheck


def with_answer(cell_id, code, base=CORRECT):
    return {**base, cell_id: code}


def cell(nb, grade_id):
    return next(c for c in nb.cells if notebooks.nbgrader_meta(c).get("grade_id") == grade_id)


def add_cell(source, after=None, before=None):
    """A cell the student added: after or before the cell with that grade id, or at the end."""
    def change(nb):
        new = notebooks.nbformat.v4.new_code_cell(source)
        if before is not None:
            position = nb.cells.index(cell(nb, before))
        else:
            position = len(nb.cells) if after is None else nb.cells.index(cell(nb, after)) + 1
        nb.cells.insert(position, new)
    return change


def chain(*changes):
    def change(nb):
        for one in changes:
            one(nb)
    return change


def set_source(grade_id, source):
    def change(nb):
        cell(nb, grade_id).source = source
    return change


def build(release, submission: Submission):
    """The hand-in: the release with the answers, then the submission's own edits. Cells those edits
    add get ids numbered in order, not nbformat's random ones, so that the same case laid down twice
    (for a serial and a parallel run, say) is the same file."""
    nb = demo_students.hand_in(release, submission.answers)
    if submission.change:
        numbers = itertools.count(1)
        random_ids, nbbase.random_cell_id = nbbase.random_cell_id, lambda: f"added-{next(numbers)}"
        try:
            submission.change(nb)
        finally:
            nbbase.random_cell_id = random_ids
    return nb

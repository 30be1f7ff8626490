"""The corpus: cheats gain nothing, honest styles lose nothing, tampering is repaired, failures stay local.

The corpus is graded in two course copies at once, one per core, with the
real command; every number is then read back through nbgrader's gradebook.
Honest styles are in corpus_honest.py and corpus_honest_more.py, cheats,
tampering and failures in corpus.py.
"""

import pytest
from nbgrader.api import Gradebook

from coursetools import course, notebooks, reflection
from coursetools.engine import recheck

from conftest import feedback_lines, grade_in_parts, marked_lines
from corpus import CHEATS, CORPUS, HONEST, MANGLED_REFLECTION, REFLECTION_EDITS, build

# Short enough to keep the suite fast, long enough for any honest cell here
CELL_TIMEOUT = 4
RECHECK_TIMEOUT = 30
# Grading waits on kernels as much as it computes: more copies than cores keep both cores busy
PARTS = 2


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory, release_nb):
    return grade_in_parts(tmp_path_factory.mktemp("corpus"), sorted(CORPUS), lambda root, name: build(release_nb, CORPUS[name]), parts=PARTS,
                          config=f"c.Execute.timeout = {CELL_TIMEOUT}\nc.Recheck.timeout = {RECHECK_TIMEOUT}")


def graded_notebook(corpus_run, name):
    with Gradebook(course.gradebook_url(corpus_run["roots"][name])) as gb:
        submission = gb.find_submission_notebook(course.NOTEBOOK, course.ASSIGNMENT, name)
        scores = {g.name: g.score for g in submission.grades if g.cell_type == "code"}
        flagged = {g.name for g in submission.grades if g.needs_manual_grade}
        return scores, flagged, submission.score


def test_is_the_corpus_large_enough():
    assert len(HONEST) >= 120
    assert len(CHEATS) >= 30


def test_does_the_whole_batch_complete(corpus_run):
    for part in corpus_run["parts"]:
        assert part["result"].returncode == 0, part["result"].stderr[-3000:]
        assert f"{len(part['rows'])} hand-ins:" in part["result"].stdout
    assert set(corpus_run["rows"]) == set(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_does_each_submission_score_exactly_as_expected(corpus_run, source_nb, name):
    submission = CORPUS[name]
    points = notebooks.test_points(source_nb)
    row = corpus_run["rows"][name]
    expected = {check: 0.0 if check in submission.failing else value for check, value in points.items()}
    scores, flagged, total = graded_notebook(corpus_run, name)
    assert (row["status"], scores, sorted(flagged)) == (submission.status if not submission.flagged or
                                                        submission.status != "graded" else "needs review",
                                                        expected, sorted(submission.flagged)), row["notes"]
    assert total == sum(expected.values())
    assert {check: float(row[check]) for check in points} == expected


@pytest.mark.parametrize("name", sorted(HONEST))
def test_does_every_honest_style_earn_full_marks_without_a_note(corpus_run, name):
    row = corpus_run["rows"][name]
    assert (row["status"], float(row["total"]), row["notes"]) == ("graded", 25.0, "")


@pytest.mark.parametrize("name", sorted(n for n, s in CORPUS.items() if s.flagged))
def test_does_every_flagged_check_say_why_to_student_and_instructor(corpus_run, name):
    notes = corpus_run["rows"][name]["notes"]
    for check in CORPUS[name].flagged:
        assert f"{check}: " in notes, notes
    autograded = notebooks.read(course.autograded_notebook(corpus_run["roots"][name], name))
    failed = [o for c in autograded.cells for o in c.get("outputs", []) if o.get("ename") == recheck.ENAME]
    assert len(failed) == len(CORPUS[name].flagged)
    shown = feedback_lines(course.feedback_file(corpus_run["roots"][name], name))
    for output in failed:
        assert f"{recheck.ENAME}: {output.evalue}" in shown, "the student reads why the check failed"
    assert not any(recheck.INSTRUCTOR_PREFIX.strip() in line for line in shown), "the instructor's note stays out"


def test_does_no_check_cell_carry_a_value_nbgrader_could_read_as_partial_credit(corpus_run):
    for name in CORPUS:
        path = course.autograded_notebook(corpus_run["roots"][name], name)
        if path.is_file():
            for cell in notebooks.read(path).cells:
                if notebooks.is_test_cell(cell):
                    kinds = {output.output_type for output in cell.outputs}
                    assert kinds <= {"stream", "error"}, f"{name}: {kinds}"


def test_is_submitted_left_untouched(corpus_run):
    assert all(part["untouched"] for part in corpus_run["parts"])


@pytest.mark.parametrize("name", [n for n, s in CORPUS.items() if s.status != "graded"])
def test_does_every_repair_or_failure_leave_a_note(corpus_run, name):
    assert corpus_run["rows"][name]["notes"]


@pytest.mark.parametrize("name", [n for n, s in CORPUS.items() if s.status in ("kernel died", "timed out")])
def test_is_the_autograded_notebook_kept_after_a_failure(corpus_run, name):
    assert course.autograded_notebook(corpus_run["roots"][name], name).is_file()


def test_does_no_feedback_in_the_corpus_leak_a_hidden_test(corpus_run, source_nb):
    """Cheats, tampering and crashes included: their tracebacks must not carry hidden lines either."""
    hidden = marked_lines(source_nb, notebooks.HIDDEN_BEGIN, notebooks.HIDDEN_END)
    for name in CORPUS:
        leaked = hidden & feedback_lines(course.feedback_file(corpus_run["roots"][name], name))
        assert not leaked, f"{name}: {leaked}"


@pytest.mark.parametrize("name", sorted(REFLECTION_EDITS))
def test_is_an_edited_or_deleted_reflection_graded_in_full_without_a_note(corpus_run, name):
    row = corpus_run["rows"][name]
    assert (row["status"], float(row["total"]), row["notes"]) == ("graded", 25.0, "")


def test_does_the_autograded_notebook_keep_a_mangled_reflection_as_typed(corpus_run):
    root = corpus_run["roots"]["reflection_mangled"]
    cells = notebooks.read(course.autograded_notebook(root, "reflection_mangled")).cells
    assert [c.source for c in cells if c.get("id") == reflection.CELL_ID] == [MANGLED_REFLECTION]
    answers = reflection.answers_of(notebooks.read(course.autograded_notebook(root, "reflection_mangled")),
                                    reflection.release_text(root))
    assert "1h30" in answers.time_taken and "np.dot" in answers.unclear

"""The corpus: cheats gain nothing, honest variants lose nothing, tampering is repaired, failures stay local."""

import csv

import pytest
from nbgrader.api import Gradebook

from coursetools import course, notebooks

from conftest import copy_course, digest_tree, feedback_lines, marked_lines, run_grade
from corpus import CORPUS, FOOLS_THE_KERNEL, build

# Short enough to keep the suite fast, long enough for any honest cell here
CELL_TIMEOUT = 4


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory, release_nb):
    root = copy_course(tmp_path_factory.mktemp("corpus") / "course", keep_students=[])
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(f"\nc.Execute.timeout = {CELL_TIMEOUT}\n")
    for name, submission in CORPUS.items():
        notebooks.write(build(release_nb, submission), course.submitted_notebook(root, name))
    before = digest_tree(root / "submitted")
    result = run_grade(root)
    with open(root / "scores.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return {"root": root, "result": result, "rows": rows, "before": before}


def test_is_the_corpus_large_enough():
    assert len(CORPUS) >= 30


def test_does_the_whole_batch_complete(corpus_run):
    result = corpus_run["result"]
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{len(CORPUS)} hand-ins:" in result.stdout
    assert set(corpus_run["rows"]) == set(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_does_each_submission_score_exactly_as_expected(corpus_run, source_nb, name):
    submission = CORPUS[name]
    points = notebooks.test_points(source_nb)
    row = corpus_run["rows"][name]
    assert row["status"] == submission.status, row["notes"]
    expected = {check: 0.0 if check in submission.failing else value for check, value in points.items()}
    assert {check: float(row[check]) for check in points} == expected, row["notes"]
    with Gradebook(course.gradebook_url(corpus_run["root"])) as gb:
        graded = gb.find_submission_notebook(course.NOTEBOOK, course.ASSIGNMENT, name)
        assert graded.score == sum(expected.values())


def test_is_submitted_left_untouched(corpus_run):
    assert digest_tree(corpus_run["root"] / "submitted") == corpus_run["before"]


@pytest.mark.parametrize("name", [n for n, s in CORPUS.items() if s.status != "graded"])
def test_does_every_repair_or_failure_leave_a_note(corpus_run, name):
    assert corpus_run["rows"][name]["notes"]


@pytest.mark.parametrize("name", [n for n, s in CORPUS.items() if s.status in ("kernel died", "timed out")])
def test_is_the_autograded_notebook_kept_after_a_failure(corpus_run, name):
    assert course.autograded_notebook(corpus_run["root"], name).is_file()


@pytest.mark.parametrize("name", sorted(FOOLS_THE_KERNEL))
def test_does_the_recheck_catch_what_the_kernel_missed(corpus_run, name):
    """These cheats pass nbgrader's hidden tests; the note shows the recheck took the points back."""
    notes = corpus_run["rows"][name]["notes"]
    assert "passed in the notebook but not when rechecked" in notes
    for check in CORPUS[name].failing:
        if check in notes.split("scored 0: ")[-1]:
            break
    else:
        pytest.fail(f"none of {CORPUS[name].failing} was taken back: {notes}")


def test_does_no_feedback_in_the_corpus_leak_a_hidden_test(corpus_run, source_nb):
    """Cheats, tampering and crashes included: their tracebacks must not carry hidden lines either."""
    hidden = marked_lines(source_nb, notebooks.HIDDEN_BEGIN, notebooks.HIDDEN_END)
    for name in CORPUS:
        leaked = hidden & feedback_lines(course.feedback_file(corpus_run["root"], name))
        assert not leaked, f"{name}: {leaked}"

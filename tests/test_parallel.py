"""Grading in parallel changes nothing: a serial run and a parallel run give the same gradebook, CSVs and feedback.

Both runs grade the same hand-ins (the demo students and a sample of the
corpus, honest, cheating and broken) in two copies of the course, one with
`--jobs 1`, one with more jobs than this machine has cores, so that jobs
write to the SQLite gradebook at the same time.
"""

import os

import pytest
from nbgrader.api import Gradebook

from coursetools import course
from coursetools.grade import default_jobs

from conftest import background_result, run_grade
from corpus import CORPUS, course_with_sample

SAMPLE = sorted(CORPUS)[7::23]
PARALLEL_JOBS = (os.cpu_count() or 1) + 2


def graded_with_jobs(jobs: int):
    def run(folder):
        root = course_with_sample(folder, SAMPLE)
        return {"root": root, "result": run_grade(root, "--jobs", str(jobs))}
    return run


BACKGROUND_RUNS = {"serial": graded_with_jobs(1), "parallel": graded_with_jobs(PARALLEL_JOBS)}


def gradebook_contents(root) -> dict:
    """Everything the gradebook says about each student's hand-in, without its database ids."""
    contents = {}
    with Gradebook(course.gradebook_url(root)) as gradebook:
        for student in gradebook.students:
            try:
                submission = gradebook.find_submission_notebook(course.NOTEBOOK, course.ASSIGNMENT, student.id)
            except Exception:  # noqa: BLE001 (a hand-in that was never graded has no submission)
                contents[student.id] = None
                continue
            contents[student.id] = {
                "timestamp": str(submission.assignment.timestamp),
                "score": submission.score,
                "grades": sorted((g.name, g.auto_score, g.manual_score, g.needs_manual_grade, g.max_score)
                                 for g in submission.grades),
                "comments": sorted((c.name, c.auto_comment, c.manual_comment) for c in submission.comments),
            }
    return contents


@pytest.fixture(scope="module")
def runs():
    serial, parallel = background_result("serial"), background_result("parallel")
    assert serial["result"].returncode == parallel["result"].returncode, parallel["result"].stderr[-3000:]
    return serial["root"], parallel["root"]


def test_do_both_runs_grade_every_hand_in(runs):
    for root in runs:
        assert set(gradebook_contents(root)) >= set(SAMPLE)


def test_is_the_gradebook_the_same(runs):
    serial, parallel = runs
    assert gradebook_contents(parallel) == gradebook_contents(serial)


@pytest.mark.parametrize("name", ["scores.csv", "grades.csv"])
def test_are_the_csvs_the_same(runs, name):
    serial, parallel = runs
    assert (parallel / name).read_bytes() == (serial / name).read_bytes()


def test_is_the_feedback_the_same(runs):
    serial, parallel = runs
    pages = sorted(p.relative_to(serial) for p in (serial / "feedback").rglob("*.html"))
    assert pages and pages == sorted(p.relative_to(parallel) for p in (parallel / "feedback").rglob("*.html"))
    different = [str(page) for page in pages if (serial / page).read_bytes() != (parallel / page).read_bytes()]
    assert not different


CORES = len(os.sched_getaffinity(0))


@pytest.mark.parametrize("files, cores", [
    ({}, CORES),
    ({"cpu.max": "max 100000\n"}, CORES),
    ({"cpu.max": "150000 100000\n"}, min(CORES, 2)),
    ({"cpu.max": "50000 100000\n"}, 1),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, CORES),
    ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),
    ({"cpu.max": "garbled\n"}, CORES),
])
def test_does_the_default_number_of_jobs_follow_a_cpu_quota(tmp_path, files, cores):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    assert default_jobs(tmp_path) == cores + 1

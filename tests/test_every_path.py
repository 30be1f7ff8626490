"""nbgrader's own commands grade exactly as `make grade` does: same scores, same flags, same safe feedback.

The engine lives in nbgrader_config.py, so `nbgrader autograde` and
`nbgrader generate_feedback` (and the formgrader's buttons, which call the
same code with the same configuration) get the sandbox, the read-back, the
recheck and the feedback filter without any wrapper.
"""

import re
import shutil
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from coursetools import course, notebooks
from coursetools.engine import recheck

from conftest import copy_course, feedback_lines, marked_lines, run_grade
from corpus import CORPUS, build

# Demo students plus hand-ins that exercise every verdict
EXTRA = ["literal_output_e1", "patched_isclose", "fake_len_iter_array", "shadowed_all", "e2_class_layer",
         "e1_all_in_the_first_cell", "detects_the_recheck_and_exits"]
EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//""", re.IGNORECASE)


def gradebook_view(root):
    """Every student's per-check scores and review flags, as nbgrader's gradebook holds them."""
    view = {}
    with Gradebook(course.gradebook_url(root)) as gb:
        for student in course.submitted_students(root):
            submission = gb.find_submission_notebook(course.NOTEBOOK, course.ASSIGNMENT, student)
            view[student] = {g.name: (g.score, g.needs_manual_grade) for g in submission.grades if g.cell_type == "code"}
    return view


def nbgrader(root, *args):
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args, course.ASSIGNMENT, "--force"],
                            cwd=root, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def both_paths(tmp_path_factory, release_nb):
    base = tmp_path_factory.mktemp("paths")
    by_make = copy_course(base / "make")
    for name in EXTRA:
        notebooks.write(build(release_nb, CORPUS[name]), course.submitted_notebook(by_make, name))
    graded = run_grade(by_make)
    assert graded.returncode == 0, graded.stderr[-3000:]
    # the CLI grades a copy of that graded course afresh, from submitted/ itself
    by_cli = base / "cli"
    shutil.copytree(by_make, by_cli)
    for folder in ("autograded", "feedback", ".grading"):
        shutil.rmtree(by_cli / folder, ignore_errors=True)
    nbgrader(by_cli, "autograde")
    nbgrader(by_cli, "generate_feedback")
    return {"make": by_make, "cli": by_cli}


def test_does_the_cli_give_the_same_scores_and_flags_as_make_grade(both_paths):
    made, cli = gradebook_view(both_paths["make"]), gradebook_view(both_paths["cli"])
    assert cli == made
    flagged = {student for student, checks in cli.items() if any(flag for _, flag in checks.values())}
    assert flagged == {name for name in EXTRA if CORPUS[name].flagged}


@pytest.mark.parametrize("student", EXTRA)
def test_does_the_cli_record_the_same_reasons(both_paths, student):
    def reasons(root):
        nb = notebooks.read(course.autograded_notebook(root, student))
        return recheck.instructor_notes(nb)
    assert reasons(both_paths["cli"]) == reasons(both_paths["make"])


@pytest.mark.parametrize("student", ["correct", "blank", *EXTRA])
def test_is_the_clis_feedback_safe_and_offline(both_paths, source_nb, student):
    path = course.feedback_file(both_paths["cli"], student)
    hidden = marked_lines(source_nb, notebooks.HIDDEN_BEGIN, notebooks.HIDDEN_END)
    shown = feedback_lines(path)
    assert not hidden & shown, f"hidden test lines in the feedback: {hidden & shown}"
    assert not any(recheck.INSTRUCTOR_PREFIX.strip() in line for line in shown)
    html = path.read_text(encoding="utf-8")
    assert not EXTERNAL.search(html), "feedback loads something from the network"
    images = re.findall(r"<img[^>]*\ssrc=\"([^\"]*)\"", html)
    assert images and all(src.startswith("data:image/png;base64,") for src in images)
    def page(root):  # object addresses in printed reprs differ from run to run
        return {re.sub(r"0x[0-9a-f]+", "0x...", line) for line in feedback_lines(course.feedback_file(root, student))}
    assert page(both_paths["cli"]) == page(both_paths["make"]), "the same page as make grade's"

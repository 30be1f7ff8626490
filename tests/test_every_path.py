"""nbgrader's own commands and the formgrader grade exactly as `make grade` does.

The engine lives in nbgrader_config.py, so `nbgrader autograde`, `nbgrader
generate_feedback` and the formgrader's *Autograde* and *Generate Feedback*
buttons get the sandbox, the read-back, the recheck and the feedback filter
without any wrapper: same scores, same flags, same reasons, same feedback.
The formgrader runs as a real Jupyter server on 127.0.0.1, driven through
the HTTP API its buttons call.
"""

import re
import secrets
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

import pytest
from nbgrader.api import Gradebook

from coursetools import course, notebooks
from coursetools.engine import answer_key, computed_values, recheck

from browser import free_port
from conftest import copy_course, feedback_lines, marked_lines, run_grade
from corpus import CORPUS, build
from test_grading import FLAGGED as DEMO_FLAGGED

# Demo students plus hand-ins that exercise every verdict
EXTRA = ["literal_output_e1", "shadowed_all", "e1_all_in_the_first_cell", "detects_the_recheck_and_exits"]
# Pressing the buttons one student at a time is slow: those that cover every verdict
FORMGRADER_STUDENTS = ["correct", "literal_output_e1", "shadowed_all", "e1_all_in_the_first_cell"]
EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//""", re.IGNORECASE)


def gradebook_view(root, students=None):
    """Every student's per-check scores and review flags, as nbgrader's gradebook holds them."""
    view = {}
    with Gradebook(course.gradebook_url(root)) as gb:
        for student in students or course.submitted_students(root):
            submission = gb.find_submission_notebook(course.NOTEBOOK, course.ASSIGNMENT, student)
            view[student] = {g.name: (g.score, g.needs_manual_grade) for g in submission.grades if g.cell_type == "code"}
    return view


def nbgrader(root, *args):
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args, course.ASSIGNMENT, "--force"],
                            cwd=root, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def ungraded_copy(graded, destination):
    """A graded course without its grading output: the gradebook still knows the assignment."""
    shutil.copytree(graded, destination)
    for folder in ("autograded", "feedback", ".grading"):
        shutil.rmtree(destination / folder, ignore_errors=True)
    return destination


def press_the_formgraders_buttons(root, students):
    """Start the formgrader in `root` and press Autograde, then Generate Feedback, for each student."""
    port, token = free_port(), secrets.token_hex(16)
    log = open(root.parent / "formgrader.log", "w+", encoding="utf-8")  # a pipe could fill up and stall the server
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"],
        cwd=root, stdout=log, stderr=subprocess.STDOUT)
    base, headers = f"http://127.0.0.1:{port}/formgrader/api", {"Authorization": f"token {token}"}
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/status", headers=headers, timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            if server.poll() is not None:
                log.seek(0)
                pytest.fail(f"the formgrader's server stopped: {log.read()[-2000:]}")
            time.sleep(0.2)
        else:
            pytest.fail("the formgrader did not answer within a minute")
        for student in students:
            for action in (f"submission/{course.ASSIGNMENT}/{student}/autograde",
                           f"assignment/{course.ASSIGNMENT}/{student}/generate_feedback"):
                reply = requests.post(f"{base}/{action}", headers=headers, timeout=600).json()
                assert reply["success"], reply.get("error") or reply.get("log")
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def every_path(tmp_path_factory, release_nb):
    base = tmp_path_factory.mktemp("paths")
    by_make = copy_course(base / "make")
    for name in EXTRA:
        notebooks.write(build(release_nb, CORPUS[name]), course.submitted_notebook(by_make, name))
    graded = run_grade(by_make)
    assert graded.returncode == 0, graded.stderr[-3000:]
    # the CLI and the formgrader grade copies of that graded course afresh, from submitted/ itself, at once
    by_cli = ungraded_copy(by_make, base / "cli")
    by_formgrader = ungraded_copy(by_make, base / "formgrader")
    with ThreadPoolExecutor(2) as pool:
        jobs = [pool.submit(lambda: (nbgrader(by_cli, "autograde"), nbgrader(by_cli, "generate_feedback"))),
                pool.submit(press_the_formgraders_buttons, by_formgrader, FORMGRADER_STUDENTS)]
        for job in jobs:
            job.result()
    return {"make": by_make, "cli": by_cli, "formgrader": by_formgrader}


def test_does_the_cli_give_the_same_scores_and_flags_as_make_grade(every_path):
    made, cli = gradebook_view(every_path["make"]), gradebook_view(every_path["cli"])
    assert cli == made
    flagged = {student for student, checks in cli.items() if any(flag for _, flag in checks.values())}
    assert flagged == {name for name in EXTRA if CORPUS[name].flagged} | set(DEMO_FLAGGED)


def test_do_the_formgraders_buttons_give_the_same_scores_and_flags_as_make_grade(every_path):
    made = gradebook_view(every_path["make"], FORMGRADER_STUDENTS)
    assert gradebook_view(every_path["formgrader"], FORMGRADER_STUDENTS) == made


ROUTES = [("cli", student) for student in EXTRA] + [("formgrader", student) for student in FORMGRADER_STUDENTS]


@pytest.mark.parametrize("route, student", ROUTES)
def test_is_the_same_reason_recorded(every_path, route, student):
    def reasons(root):
        nb = notebooks.read(course.autograded_notebook(root, student))
        return recheck.instructor_notes(nb)
    assert reasons(every_path[route]) == reasons(every_path["make"])


@pytest.mark.parametrize("route, student", ROUTES)
def test_are_the_same_computed_results_recorded(every_path, route, student):
    def computed(root):
        return computed_values.recorded(notebooks.read(course.autograded_notebook(root, student)))
    assert computed(every_path[route]) == computed(every_path["make"])
    if student == "correct":
        assert list(computed(every_path[route])) == list(answer_key.COMPUTATIONS)


@pytest.mark.parametrize("route, student", [("cli", "blank"), *ROUTES])
def test_is_the_feedback_safe_offline_and_the_same(every_path, source_nb, route, student):
    feedback = course.feedback_file(every_path[route], student)
    hidden = marked_lines(source_nb, notebooks.HIDDEN_BEGIN, notebooks.HIDDEN_END)
    shown = feedback_lines(feedback)
    assert not hidden & shown, f"hidden test lines in the feedback: {hidden & shown}"
    assert not any(recheck.INSTRUCTOR_PREFIX.strip() in line for line in shown)
    html = feedback.read_text(encoding="utf-8")
    assert not EXTERNAL.search(html), "feedback loads something from the network"
    images = re.findall(r"<img[^>]*\ssrc=\"([^\"]*)\"", html)
    assert images and all(src.startswith("data:image/png;base64,") for src in images)

    def page(root):  # object addresses in printed reprs differ from run to run
        return {re.sub(r"0x[0-9a-f]+", "0x...", line) for line in feedback_lines(course.feedback_file(root, student))}
    assert page(every_path[route]) == page(every_path["make"]), "the same page as make grade's"

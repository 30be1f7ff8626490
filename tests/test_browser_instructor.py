"""The instructor's side in a real Chromium: the formgrader in JupyterLab, and each student's feedback page offline.

The formgrader runs in a graded copy of the demo course with the demo
roster, started from the course root as an instructor starts it, so it
reads the course's nbgrader_config.py and grades with the same engine as
`make grade`. Its pages must name every student, show the gradebook's
scores, and its *Autograde* and *Generate Feedback* buttons, pressed for a
hand-in `make grade` has not seen, must give what `make grade` gave the same
notebook. Each feedback page, and the class report, is opened from disk
with every request refused: it must show its figures (and a score for each
check), ask for nothing, and hold no script.
"""

import re
import shutil

import pytest
from nbgrader.api import Gradebook

from coursetools import class_report, course, roster

from browser import Screenshots, chromium, jupyter, page_in
from conftest import copy_course, feedback_lines, run_grade
from test_grading import EXPECTED

NEW_STUDENT = "late_no_bias"  # hands in the demo student no_bias's notebook after make grade has run
SAME_AS = "no_bias"
BUTTON_SECONDS = 300
TOC_SCORE = re.compile(r'<li><a href="#([^"]+)">[^<]*</a> \(Score: ([0-9.]+) / ([0-9.]+)\)</li>')


def gradebook_scores(root, student) -> dict[str, float]:
    with Gradebook(course.gradebook_url(root)) as gradebook:
        submission = gradebook.find_submission_notebook(course.NOTEBOOK, course.ASSIGNMENT, student)
        return {grade.name: grade.score for grade in submission.grades}


def gradebook_totals(root) -> dict[str, float]:
    with Gradebook(course.gradebook_url(root)) as gradebook:
        return {student.id: gradebook.find_submission(course.ASSIGNMENT, student.id).score
                for student in gradebook.students}


@pytest.fixture(scope="module")
def graded_with_roster(tmp_path_factory):
    """The demo course graded by `make grade`'s command with the demo roster; then one more hand-in arrives."""
    root = copy_course(tmp_path_factory.mktemp("formgrader") / "course")
    shutil.copy(course.REPOSITORY_ROOT / roster.ROSTER_CSV, root / roster.ROSTER_CSV)
    graded = run_grade(root)
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-2000:]
    late = course.submitted_notebook(root, NEW_STUDENT)
    late.parent.mkdir(parents=True)
    shutil.copy(course.submitted_notebook(root, SAME_AS), late)
    return root


def text_rows(page, selector: str, loaded_when: str) -> list[str]:
    """The rows' text once the page's script has filled the table (it shows a placeholder until then)."""
    page.locator(selector, has_text=loaded_when).first.wait_for(timeout=60_000)
    return [" ".join(row.split()) for row in page.locator(selector).all_inner_texts()]


@pytest.fixture(scope="module")
def formgrader_walk(graded_with_roster, tmp_path_factory):
    root, seen, shots = graded_with_roster, {}, Screenshots("formgrader")
    home = tmp_path_factory.mktemp("formgrader-home")
    with jupyter(root, home) as server, chromium() as browser, page_in(browser, (server.base,)) as (page, offline):
        page.goto(server.url("formgrader/manage_assignments"))
        seen["assignments"] = text_rows(page, "#main-table tr", course.ASSIGNMENT)
        shots.take(page, "assignments")

        page.goto(server.url("formgrader/manage_students"))
        seen["students"] = text_rows(page, "#main-table tr", SAME_AS)
        shots.take(page, "students-by-name", full_page=True)

        page.goto(server.url(f"formgrader/manage_submissions/{course.ASSIGNMENT}"))
        row = page.locator("#main-table tr", has_text=NEW_STUDENT)
        row.wait_for(timeout=60_000)
        shots.take(page, "new-hand-in-listed", full_page=True)
        for button, done in ((".autograde a", "Successfully autograded"),
                             (".generate-feedback a", "Successfully generated feedback")):
            page.locator("#main-table tr", has_text=NEW_STUDENT).locator(button).click()
            message = page.locator(".modal-dialog", has_text=re.compile(f"{done}|Error|failed", re.IGNORECASE))
            message.wait_for(timeout=BUTTON_SECONDS * 1000)
            seen[button] = message.inner_text()
            shots.take(page, f"pressed-{button.split()[0].strip('.')}")
            message.locator(".modal-footer button").first.click()
            message.wait_for(state="hidden", timeout=30_000)
        seen["refused"] = list(offline.refused)
    return seen


def test_does_the_formgrader_list_the_assignment(formgrader_walk):
    assert any(row.startswith(course.ASSIGNMENT) for row in formgrader_walk["assignments"])


def test_does_the_formgrader_name_every_student(formgrader_walk):
    class_list = roster.read(course.REPOSITORY_ROOT)
    assert class_list, "the demo course ships a roster"
    for student in class_list:
        assert any(row.startswith(f"{student.last_name}, {student.first_name} {student.id} ")
                   for row in formgrader_walk["students"]), (student, formgrader_walk["students"])
    # only the hand-in that came after the roster, from an id not on it, has no name
    assert [row for row in formgrader_walk["students"] if row.startswith("None, None")] == [
        row for row in formgrader_walk["students"] if f" {NEW_STUDENT} " in row]


def test_are_the_formgraders_scores_make_grades(formgrader_walk, graded_with_roster):
    totals = gradebook_totals(graded_with_roster)
    assert {student: totals[student] for student in EXPECTED} == {s: float(t) for s, (_, t) in EXPECTED.items()}
    for student, total in totals.items():
        if student == NEW_STUDENT:
            continue
        row = next(row for row in formgrader_walk["students"] if f" {student} " in f" {row} ")
        assert re.search(rf"\b{total:g} / 25\b", row), (student, total, row)


def test_does_the_autograde_button_give_make_grades_scores_and_feedback(formgrader_walk, graded_with_roster):
    root = graded_with_roster
    assert "Successfully autograded" in formgrader_walk[".autograde a"]
    assert "Successfully generated feedback" in formgrader_walk[".generate-feedback a"]
    assert gradebook_scores(root, NEW_STUDENT) == gradebook_scores(root, SAME_AS)

    def page(student):  # object addresses in printed reprs differ from run to run
        return {re.sub(r"0x[0-9a-f]+", "0x...", line) for line in feedback_lines(course.feedback_file(root, student))}
    assert page(NEW_STUDENT) == page(SAME_AS)


def test_did_the_formgrader_ask_for_nothing_outside_the_server(formgrader_walk):
    assert formgrader_walk["refused"] == []


@pytest.fixture(scope="module")
def feedback_walk(graded_with_roster):
    """Every student's feedback page from make grade, opened from disk with the network refused."""
    seen, shots = {}, Screenshots("feedback")
    with chromium() as browser:
        for student in EXPECTED:
            path = course.feedback_file(graded_with_roster, student)
            with page_in(browser, (path.as_uri(),)) as (page, offline):
                page.goto(path.as_uri())
                page.wait_for_load_state("load")
                seen[student] = {
                    "refused": list(offline.refused),
                    "figures": page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete && i.naturalWidth)"),
                    "scripts": page.eval_on_selector_all("script", "scripts => scripts.length"),
                    "handlers": page.evaluate("() => [...document.querySelectorAll('*')].flatMap(e => "
                                              "[...e.attributes].map(a => a.name)).filter(n => n.startsWith('on'))"),
                    "toc": page.eval_on_selector_all("#toc li", "items => items.map(i => i.innerHTML)"),
                    "text": page.inner_text("body"),
                }
                shots.take(page, student)
    return seen


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_does_each_feedback_page_work_offline(feedback_walk, graded_with_roster, student):
    seen = feedback_walk[student]
    assert seen["refused"] == [], "the page asked for something besides itself"
    assert seen["figures"] and all(seen["figures"]), "a figure is missing"
    assert seen["scripts"] == 0 and seen["handlers"] == []
    scores = {grade_id: float(score) for grade_id, score, _ in
              (TOC_SCORE.search(f"<li>{item}</li>").groups() for item in seen["toc"] if "Score" in item)}
    checks = {name: score for name, score in gradebook_scores(graded_with_roster, student).items()
              if not name.endswith("_answer")}
    assert scores == checks
    assert f"Score: {float(EXPECTED[student][1])} / 25.0" in seen["text"]


def test_does_the_class_report_open_offline(graded_with_roster):
    """make grade's report page: its charts drawn, nothing asked of the network, no script."""
    path = graded_with_roster / class_report.REPORT_FOLDER / class_report.REPORT_PAGE
    with chromium() as browser, page_in(browser, (path.as_uri(),)) as (page, offline):
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        charts = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete && i.naturalWidth)")
        scripts = page.eval_on_selector_all("script", "scripts => scripts.length")
        headings = page.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
        Screenshots("class-report").take(page, "report", full_page=True)
    assert offline.refused == [] and scripts == 0
    assert len(charts) == 3 and all(charts), "a chart is missing"
    assert {"Totals", "Each exercise", "Each check", "Common wrong results", "Hand-ins that need you",
            "What students said"} <= set(headings)

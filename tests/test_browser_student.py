"""A student's whole path through the release notebook, in JupyterLab in a real Chromium.

One test walks it in order, as a student would, with a screenshot per step:
open the notebook and see its figures; type every answer into its cell
through the editor; *Run All Cells*; compare each printed result with the
expected output above it; answer the optional closing questions;
*Validate*; see a wrong value fail its check with
the check's own message; put it right, restart and run all, save; and grade
the saved file with `make grade`'s command, which gives 25 of 25 and shows
the answers in the class report. The
saved notebook then opens in Notebook 7 too, with its figures, outputs and
*Validate* button.
"""

import re
import shutil
import time

import pytest
from nbgrader.api import Gradebook

from coursetools import class_report, course, demo_students, notebooks, reflection

from browser import Screenshots, chromium, jupyter, menu, page_in
from conftest import copy_course, run_grade

STUDENT = "browser_student"
NOTEBOOK_PATH = f"{course.ASSIGNMENT}/{course.NOTEBOOK}.ipynb"
EXPECTED_BLOCK = re.compile(r"\*\*Expected output:\*\*\s*```\n(.*?)\n```", re.DOTALL)
RUN_SECONDS = 120
WRONG_BIAS = "bias = 3"  # the lesson's bias is 2
TIME_TAKEN, UNCLEAR = "about 40 minutes", "why the bias is added after the sum"


def expected_outputs(release) -> dict[int, str]:
    """Index of each answer cell whose printout the lesson shows -> the printout, from the cell below it."""
    shown = {}
    for index, cell in enumerate(release.cells[1:], start=1):
        found = EXPECTED_BLOCK.search(cell.source) if cell.cell_type == "markdown" else None
        if found:
            assert release.cells[index - 1].cell_type == "code", f"cell {index}'s expected output follows no code"
            shown[index - 1] = found.group(1)
    return shown


def figure_count(nb) -> int:
    return sum(len(re.findall(r"!\[[^\]]*\]\(", cell.source)) + cell.source.count("<img")
               for cell in nb.cells if cell.cell_type == "markdown")


def answer_cells(release) -> dict[str, int]:
    return {notebooks.grade_id(cell): index for index, cell in enumerate(release.cells)
            if notebooks.is_answer_cell(cell)}


def check_message(release, check_id: str, answer: str) -> str:
    """The message the check cell `check_id` fails with after `answer`, worked out here from its own source."""
    check = next(cell for cell in release.cells if notebooks.grade_id(cell) == check_id)
    try:
        exec(compile(answer + "\n" + check.source, check_id, "exec"), {})  # noqa: S102 (the course's own code)
    except AssertionError as error:
        return str(error)
    pytest.fail(f"{check_id} passes with {answer!r}: pick a wrong value its check catches")


class Notebook:
    """The open notebook in JupyterLab, driven the way a student drives it."""

    def __init__(self, page):
        self.page = page
        self.cells = page.locator(".jp-Notebook .jp-Cell")

    def wait_until_idle(self, seconds: float = RUN_SECONDS) -> None:
        self.page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).first.wait_for(
            timeout=seconds * 1000)

    def type_into(self, index: int, text: str) -> None:
        """Replace a cell's text through its editor: click into it, select all, type."""
        editor = self.cells.nth(index).locator(".cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.insert_text(text)
        self.page.keyboard.press("Escape")

    def figure_widths(self, expected: int) -> list[int]:
        """Each figure's width once all `expected` are in the page and done loading (0: it did not load).

        Markdown renders after the first cell appears: waiting for the count, not only for the images
        already there, is what makes the check independent of the machine's speed."""
        self.page.wait_for_function(
            "n => { const images = [...document.querySelectorAll('.jp-RenderedMarkdown img')];"
            " return images.length >= n && images.every(image => image.complete); }", arg=expected, timeout=30_000)
        return self.page.eval_on_selector_all(".jp-RenderedMarkdown img", "images => images.map(i => i.naturalWidth)")

    def prompt(self, index: int) -> str:
        return self.cells.nth(index).locator(".jp-InputPrompt").inner_text().strip()

    def run_cell(self, index: int, seconds: float = RUN_SECONDS) -> None:
        """Select a cell, run it with Shift+Enter and wait until it has run: a new number in its prompt."""
        before = self.prompt(index)
        self.cells.nth(index).locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            now = self.prompt(index)
            if re.fullmatch(r"\[\d+\]:", now) and now != before:
                return
            self.page.wait_for_timeout(200)
        pytest.fail(f"cell {index} did not run within {seconds} s (its prompt shows {now!r})")

    def wait_for_every_code_cell(self, code_cells: list[int], seconds: float = RUN_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            prompts = [self.prompt(i) for i in code_cells]
            if all(re.fullmatch(r"\[\d+\]:", prompt) for prompt in prompts):
                return
            self.page.wait_for_timeout(500)
        pytest.fail(f"not every code cell ran within {seconds} s: {prompts}")

    def output_text(self, index: int) -> str:
        return self.cells.nth(index).locator(".jp-OutputArea-output").all_inner_texts()

    def errors(self) -> int:
        return self.page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()

    def save(self, path) -> None:
        """The toolbar's save button, then wait for the file on disk to change: the tab's unsaved mark can
        come back at once, when output or metadata arrives just after the save, so the file is what tells."""
        before = path.stat().st_mtime_ns
        self.page.locator(".jp-NotebookPanel-toolbar [data-command='docmanager:save']").click()
        deadline = time.monotonic() + RUN_SECONDS
        while path.stat().st_mtime_ns == before:
            if time.monotonic() > deadline:
                pytest.fail(f"the notebook was not saved within {RUN_SECONDS} s of pressing save")
            self.page.wait_for_timeout(200)


@pytest.fixture(scope="module")
def student_walk(tmp_path_factory, release_nb):
    """The whole walk; returns what each step saw, for the tests below to judge one by one."""
    base = tmp_path_factory.mktemp("student")
    workspace = base / "work"
    shutil.copytree(course.release_notebook(course.REPOSITORY_ROOT).parent, workspace / course.ASSIGNMENT)
    (base / "home").mkdir()
    seen = {}
    shots = Screenshots("student")
    answers = answer_cells(release_nb)
    code_cells = [i for i, cell in enumerate(release_nb.cells) if cell.cell_type == "code"]
    with jupyter(workspace, base / "home") as server, chromium() as browser, \
            page_in(browser, (server.base,)) as (page, offline):
        page.goto(server.url(f"lab/tree/{NOTEBOOK_PATH}"))
        notebook = Notebook(page)
        notebook.cells.first.wait_for(timeout=60_000)
        notebook.wait_until_idle()
        seen["figures"] = notebook.figure_widths(figure_count(release_nb))
        seen["cells"] = notebook.cells.count()
        shots.take(page, "opened")

        for grade_id, index in answers.items():
            notebook.type_into(index, release_nb.cells[index].source.replace(
                demo_students.STUB, demo_students.CORRECT[grade_id]))
        shots.take(page, "answers-typed")

        # the optional closing questions: double-click the markdown cell, type, Shift+Enter renders it
        questions = next(i for i, cell in enumerate(release_nb.cells) if cell.get("id") == reflection.CELL_ID)
        notebook.cells.nth(questions).scroll_into_view_if_needed()
        notebook.cells.nth(questions).locator(".jp-RenderedMarkdown").dblclick()
        notebook.cells.nth(questions).locator(".cm-content").click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(reflection.answered(release_nb.cells[questions].source, TIME_TAKEN, UNCLEAR))
        page.keyboard.press("Shift+Enter")
        notebook.cells.nth(questions).locator(".jp-RenderedMarkdown", has_text=UNCLEAR).wait_for(timeout=30_000)
        shots.take(page, "questions-answered")

        menu(page, "Run", "Run All Cells")
        notebook.wait_for_every_code_cell(code_cells)
        notebook.wait_until_idle()
        seen["printed"] = {index: "\n".join(notebook.output_text(index)).strip()
                           for index in expected_outputs(release_nb)}
        seen["errors_after_run_all"] = notebook.errors()
        shots.take(page, "ran-all", full_page=False)

        notebook.save(workspace / NOTEBOOK_PATH)
        page.get_by_role("button", name="Validate").click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for(timeout=RUN_SECONDS * 1000)
        page.locator("#validation-message").wait_for(timeout=RUN_SECONDS * 1000)
        seen["validate"] = dialog.inner_text()
        shots.take(page, "validated")
        dialog.get_by_role("button", name="Ok").click()

        bias_answer = answers["e1_bias_answer"]
        notebook.type_into(bias_answer, release_nb.cells[bias_answer].source.replace(demo_students.STUB, WRONG_BIAS))
        notebook.run_cell(bias_answer)
        notebook.run_cell(bias_answer + 1)  # its check
        seen["wrong_value_output"] = "\n".join(notebook.output_text(bias_answer + 1))
        notebook.cells.nth(bias_answer + 1).scroll_into_view_if_needed()
        shots.take(page, "wrong-value-fails-its-check")

        notebook.type_into(bias_answer, release_nb.cells[bias_answer].source.replace(
            demo_students.STUB, demo_students.CORRECT["e1_bias_answer"]))
        menu(page, "Kernel", "Restart Kernel and Run All Cells…")
        page.locator(".jp-Dialog .jp-mod-accept").click()
        notebook.wait_for_every_code_cell(code_cells)
        notebook.wait_until_idle()
        seen["errors_before_hand_in"] = notebook.errors()
        notebook.save(workspace / NOTEBOOK_PATH)
        shots.take(page, "restarted-ran-all-saved")
        seen["refused"] = list(offline.refused)

    seen["workspace"] = workspace
    root = copy_course(base / "course", keep_students=[])
    handed_in = course.submitted_notebook(root, STUDENT)
    handed_in.parent.mkdir(parents=True)
    shutil.copy(workspace / NOTEBOOK_PATH, handed_in)
    seen["grading"] = run_grade(root)
    seen["report"] = (root / class_report.REPORT_FOLDER / class_report.REPORT_PAGE).read_text(encoding="utf-8")
    with Gradebook(course.gradebook_url(root)) as gradebook:
        seen["score"] = gradebook.find_submission(course.ASSIGNMENT, STUDENT).score
    return seen


def test_does_the_notebook_open_with_its_figures(student_walk, release_nb):
    assert student_walk["cells"] == len(release_nb.cells)
    figures = figure_count(release_nb)
    assert figures and len(student_walk["figures"]) == figures
    assert all(width > 0 for width in student_walk["figures"]), "a figure did not load"


def test_does_every_printed_result_equal_the_expected_output(student_walk, release_nb):
    expected = {index: EXPECTED_BLOCK.search(release_nb.cells[index + 1].source).group(1).strip()
                for index in expected_outputs(release_nb)}
    assert len(expected) >= 8
    assert student_walk["printed"] == expected
    assert student_walk["errors_after_run_all"] == 0


def test_does_validate_report_success(student_walk):
    assert "Success! Your notebook passes all the tests." in student_walk["validate"]


def test_does_a_wrong_value_fail_its_check_with_its_message(student_walk, release_nb):
    message = check_message(release_nb, "e1_bias", WRONG_BIAS)
    assert "AssertionError" in student_walk["wrong_value_output"]
    assert message in student_walk["wrong_value_output"]


def test_does_the_saved_notebook_grade_full_marks(student_walk):
    assert student_walk["errors_before_hand_in"] == 0
    assert student_walk["grading"].returncode == 0, student_walk["grading"].stdout[-2000:]
    assert student_walk["score"] == 25


def test_does_the_report_show_the_answers_typed_into_the_closing_questions(student_walk):
    said = student_walk["report"].split("<h2>What students said</h2>")[1]
    assert "1 of 1 graded hand-ins answered" in said
    assert "median 40 min" in said and f"<td>{UNCLEAR}</td>" in said
    assert STUDENT not in said


def test_did_the_pages_ask_for_nothing_outside_the_server(student_walk):
    assert student_walk["refused"] == []


@pytest.fixture(scope="module")
def notebook7_walk(student_walk, tmp_path_factory):
    """The notebook the student saved, opened in Notebook 7 and validated there."""
    seen, shots = {}, Screenshots("student-notebook7")
    with jupyter(student_walk["workspace"], tmp_path_factory.mktemp("notebook7"), app="notebook") as server, \
            chromium() as browser, page_in(browser, (server.base,)) as (page, offline):
        page.goto(server.url(f"notebooks/{NOTEBOOK_PATH}"))
        notebook = Notebook(page)
        notebook.cells.first.wait_for(timeout=60_000)  # Validate runs on the server: no kernel to wait for
        seen["figures"] = notebook.figure_widths(len(student_walk["figures"]))
        shown = len(expected_outputs(notebooks.read(student_walk["workspace"] / NOTEBOOK_PATH)))
        page.wait_for_function("n => document.querySelectorAll('.jp-OutputArea-output').length >= n",
                               arg=shown, timeout=30_000)
        seen["outputs"] = page.locator(".jp-OutputArea-output").count()
        shots.take(page, "opened")
        page.get_by_role("button", name="Validate").click()
        page.locator("#validation-message").wait_for(timeout=RUN_SECONDS * 1000)
        seen["validate"] = page.locator(".jp-Dialog").inner_text()
        shots.take(page, "validated")
        seen["refused"] = list(offline.refused)
    return seen


def test_does_notebook7_show_and_validate_the_saved_notebook(notebook7_walk, student_walk):
    assert len(notebook7_walk["figures"]) == len(student_walk["figures"])
    assert notebook7_walk["outputs"] >= len(expected_outputs(notebooks.read(
        student_walk["workspace"] / NOTEBOOK_PATH)))
    assert "Success! Your notebook passes all the tests." in notebook7_walk["validate"]
    assert notebook7_walk["refused"] == []

"""Feedback pages are inert: nothing from a student's notebook can run, load, leak a file or show a hidden check.

Small notebooks are rendered here with the course's feedback preprocessors and
exporter, configured as nbgrader's feedback step configures them, without
grading the course; one last test scans the feedback of the graded demo course.
"""

import base64
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor, Preprocessor
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from coursetools import course, notebooks
from coursetools.engine import feedback, feedback_data, leak_cut, page_images, safe_html

from conftest import grade_twice, marked_lines
from test_grading import EXPECTED

BACKGROUND_RUNS = {"graded_course": grade_twice}  # started when the session starts (conftest.py)

ROOT = course.REPOSITORY_ROOT
FIGURES = sorted((ROOT / "source" / course.ASSIGNMENT / "figures").glob("*.png"))
# a 1x1 png
DOT_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
DOT = base64.b64encode(DOT_PNG).decode()
SECRET = b"\x89PNG\r\n\x1a\n" + b"grading machine secret, never for students " * 4
NETWORK = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
SCRIPT_URL = re.compile(r"^\s*(javascript|vbscript|data):", re.IGNORECASE)
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "base", "form", "frame", "frameset", "applet", "link"}
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "srcset", "poster", "background", "data", "xlink:href"}


class PageScan(HTMLParser):
    """Every element of a page with its attributes, the first element inside <head>, and the text shown."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.elements, self.first_in_head, self.text, self._in_head, self._hidden = [], None, [], False, 0
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if self._in_head and self.first_in_head is None:
            self.first_in_head = (tag, dict(attrs))
        self._in_head = self._in_head or tag == "head"
        self._hidden += tag in ("style", "script")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self._hidden -= tag in ("style", "script")

    def handle_endtag(self, tag):
        self._hidden -= tag in ("style", "script")

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)

    def shown(self) -> str:
        return "".join(self.text)

    def lines(self) -> set[str]:
        return {line.strip() for line in self.shown().splitlines() if line.strip()}


def assert_inert(page: str) -> PageScan:
    scan = PageScan(page)
    tags = {tag for tag, _ in scan.elements}
    assert not tags & FORBIDDEN_TAGS, f"active elements: {tags & FORBIDDEN_TAGS}"
    for tag, attrs in scan.elements:
        assert not [name for name in attrs if name.lower().startswith("on")], f"event handler on <{tag}>: {attrs}"
        assert not (tag == "meta" and attrs.get("http-equiv", "").lower() == "refresh")
        for name, value in attrs.items():
            if name.lower() in URL_ATTRIBUTES and value is not None:
                squashed = re.sub(r"[\x00-\x20]", "", value)
                assert not NETWORK.match(value), f"<{tag} {name}={value!r}> loads from the network"
                assert not SCRIPT_URL.match(squashed) or (tag, name) == ("img", "src") and \
                    re.match(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=]+$", value), \
                    f"<{tag} {name}={value[:60]!r}> is a script or data URL"
    assert scan.first_in_head and scan.first_in_head[0] == "meta", "the security policy comes first in <head>"
    policy = scan.first_in_head[1]
    assert policy.get("http-equiv") == "Content-Security-Policy"
    assert "default-src 'none'" in policy["content"] and "script-src 'none'" in policy["content"]
    return scan


class SetScores(Preprocessor):
    """What nbgrader's GetGrades adds from the gradebook, which these tests do not have."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") or meta.get("solution"):
            meta["score"], meta["comment"] = meta.get("points", 0), None
        return cell, resources


@pytest.fixture(scope="module")
def course_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("feedback_course")
    for part in ("source", "release"):
        shutil.copytree(ROOT / part / course.ASSIGNMENT, root / part / course.ASSIGNMENT)
    return root


@pytest.fixture(scope="module")
def autograded_blank(source_nb, release_nb):
    """A student who wrote nothing, as autograde leaves them: release answers, checks with their hidden tests."""
    checks = {notebooks.grade_id(cell): cell for cell in source_nb.cells if notebooks.is_test_cell(cell)}
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        if notebooks.is_test_cell(cell):
            cell.source = checks[notebooks.grade_id(cell)].source
    return nb


def student_folder(root: Path, student: str) -> Path:
    folder = root / "autograded" / student / course.ASSIGNMENT
    shutil.copytree(ROOT / "source" / course.ASSIGNMENT / "figures", folder / "figures", dirs_exist_ok=True)
    return folder


def render(root: Path, nb, student: str, course_root_setting: str | None = None) -> str:
    """The feedback page for `nb`, written as nbgrader's feedback step writes it."""
    folder = student_folder(root, student)
    config = Config()
    config.HTMLExporter.embed_images = True
    if course_root_setting is None:
        course_root_setting = str(root)
    config.OfflineHTMLExporter.course_root = course_root_setting
    config.HideHiddenTests.course_root = course_root_setting
    config = GenerateFeedback(coursedir=CourseDirectory(root=str(root)), config=config).config
    exporter = feedback.OfflineHTMLExporter(config=config)
    for step in (feedback.HideHiddenTests, SetScores, CSSHTMLHeaderPreprocessor):
        exporter.register_preprocessor(step(config=config), enabled=True)
    resources = {"metadata": {"path": str(folder), "name": course.NOTEBOOK},
                 "nbgrader": {"student": student, "assignment": course.ASSIGNMENT, "notebook": course.NOTEBOOK,
                              "score": 0.0, "max_score": 17.0, "late_penalty": 0}}
    page, _ = exporter.from_notebook_node(nbformat.from_dict(nb), resources)
    return page


def with_cells(nb, *cells):
    nb = nbformat.from_dict(nb)
    nb.cells.extend(nbformat.from_dict(cell) for cell in cells)
    return nb


def code_cell(*outputs, **fields):
    return {"cell_type": "code", "execution_count": 1, "metadata": fields.pop("metadata", {}),
            "source": fields.pop("source", "display(something)"), "outputs": list(outputs), **fields}


def display(data, metadata=None):
    return {"output_type": "display_data", "data": data, "metadata": metadata or {}}


def markdown(source, **fields):
    return {"cell_type": "markdown", "metadata": {}, "source": source, **fields}


def hidden_lines(source_nb, release_nb) -> set[str]:
    public = {line.strip() for cell in release_nb.cells for line in cell.source.splitlines()}
    return marked_lines(source_nb, notebooks.HIDDEN_BEGIN, notebooks.HIDDEN_END) - public


def is_long(line: str) -> bool:
    """Long enough to be cut wherever it appears; shorter hidden lines are cut when they are a line of their own."""
    return len(leak_cut.squash(line)) >= leak_cut.SHORTEST_SECRET


def figure_payloads() -> list[str]:
    return [base64.b64encode(path.read_bytes()).decode() for path in FIGURES]


HOSTILE_MARKDOWN = """
<script>alert('markdown script')</script>
<img src=x onerror=alert(1)> <img src="https://tracker.example/pixel.png" alt="tracker">
[js link](javascript:alert(1)) [vb link](vbscript:msgbox(1)) [data link](data:text/html;base64,PHNjcmlwdD4=)
<a href="&#106;avascript:alert(1)">entity link</a> <a href="java&#x09;script:alert(1)">tab link</a>
[other host](//evil.example/page)
<iframe src="https://evil.example/"></iframe><object data="https://evil.example/x"></object>
<embed src="https://evil.example/y"><base href="https://evil.example/">
<meta http-equiv="refresh" content="0;url=https://evil.example/">
<link rel="stylesheet" href="https://evil.example/x.css">
<form action="https://evil.example/"><input name="q"><button formaction="https://evil.example/">go</button></form>
<style>body { background: url(https://evil.example/bg.png) }</style>
<div style="background: url(https://evil.example/div.png)">styled</div>
<svg onload="alert(1)"><script>alert('svg')</script></svg>
<noscript><p title="</noscript><img src=x onerror=alert('mxss')>"></p></noscript>
<details open ontoggle="alert(1)"><summary>more</summary>text</details>
"""


def hostile_notebook(base):
    return with_cells(
        base,
        markdown(HOSTILE_MARKDOWN),
        markdown("Attachments: ![dot](attachment:dot.png) ![bad](attachment:bad.png) ![vector](attachment:v.svg)",
                 attachments={"dot.png": {"image/png": DOT}, "bad.png": {"image/png": '"><script>alert(1)</script>'},
                              "v.svg": {"image/svg+xml": "<svg onload='alert(1)'/>"}}),
        code_cell(
            display({"text/html": "<b>bold</b><script>alert('output')</script><img src=x onerror=alert(1)>",
                     "text/plain": "<IPython.core.display.HTML object>"}),
            display({"text/html": "<p>isolated</p>"}, {"text/html": {"isolated": True}}),
            display({"image/png": '"><script>alert(1)</script>'}),
            display({"image/png": DOT}, {"image/png": {"width": "1 onerror=alert(1)", "height": "1 onload=x"}}),
            display({"image/svg+xml": "<svg onload='alert(1)'><script>alert(2)</script></svg>"}),
            display({"application/javascript": "alert('js output')"}),
            display({"application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2}}),
            display({"text/markdown": "[md](javascript:alert(1)) <script>alert('md output')</script>"}),
            {"output_type": "execute_result", "execution_count": 1, "metadata": {},
             "data": {"text/latex": r"$\frac{1}{2} < x$"}},
            metadata={"tags": ['x" onmouseover="alert(1)'], "alt": '" onerror="alert(1)'}),
        {"cell_type": "raw", "metadata": {"raw_mimetype": "text/html"}, "source": "<script>alert('raw')</script>"},
    )


def test_is_a_hostile_notebook_rendered_inert(course_root, autograded_blank):
    page = render(course_root, hostile_notebook(autograded_blank), "hostile")
    scan = assert_inert(page)
    assert "alert(" not in scan.shown(), "script text is dropped, not shown"
    assert f"data:image/png;base64,{DOT}" in page, "a valid attachment and a valid png output stay"
    shown = scan.shown()
    assert "[image not included: bad]" in shown and "[image not included: vector]" in shown
    assert "[image not included: tracker]" in shown
    assert "bold" in shown and "js link" in shown and "styled" in shown and r"$\frac{1}{2} < x$" in shown


def test_does_a_symlink_beside_the_notebook_stay_out_of_the_page(course_root, autograded_blank, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(SECRET)
    folder = student_folder(course_root, "planter")
    (folder / "pic.png").symlink_to(secret)
    (folder / "figures" / "linked.png").symlink_to(secret)
    (folder / "figures" / "planted.png").write_bytes(SECRET)
    nb = with_cells(autograded_blank, markdown(
        "![secret](pic.png) <img src='pic.png' alt='secret html'> ![linked](figures/linked.png) "
        f"![planted](figures/planted.png) ![up](../../../secret.png) ![absolute]({secret})"))
    page = render(course_root, nb, "planter")
    assert base64.b64encode(SECRET).decode() not in page
    shown = assert_inert(page).shown()
    for alt in ("secret", "secret html", "linked", "planted", "up", "absolute"):
        assert f"[image not included: {alt}]" in shown


def test_does_a_missing_attachment_leave_a_note_instead_of_stopping(course_root, autograded_blank):
    nb = with_cells(autograded_blank, markdown("![gone](attachment:missing.png)"),
                    markdown("![odd](attachment:x.png)", attachments={"x.png": "not a bundle"}))
    shown = assert_inert(render(course_root, nb, "missing")).shown()
    assert "[image not included: gone]" in shown and "[image not included: odd]" in shown


def test_are_printed_hidden_checks_cut(course_root, autograded_blank, source_nb, release_nb):
    """`print(In)` and a pre_run_cell hook echo every cell the kernel runs, hidden tests included."""
    hidden = hidden_lines(source_nb, release_nb)
    checks = [cell.source for cell in autograded_blank.cells if notebooks.is_test_cell(cell)]
    one = sorted(filter(is_long, hidden))[0]
    nb = with_cells(
        autograded_blank,
        code_cell({"output_type": "stream", "name": "stdout", "text": "\n".join(checks)},
                  {"output_type": "stream", "name": "stdout", "text": [line + "\n" for line in checks[0].split("\n")]},
                  {"output_type": "execute_result", "execution_count": 3, "metadata": {},
                   "data": {"text/plain": repr(checks)}},
                  display({"text/html": f"<pre>{one.replace('`', '&#96;')}</pre><b>{one[:20]}</b>{one[20:]}"}),
                  display({"text/markdown": f"* {one}"}),
                  {"output_type": "error", "ename": "ValueError", "evalue": one,
                   "traceback": ["\x1b[0;31mValueError\x1b[0m", f"\x1b[1;32m----> 1\x1b[0m {one}"]},
                  source="print(In)"))
    scan = assert_inert(render(course_root, nb, "echo"))
    shown = leak_cut.squash(scan.shown())
    leaked = {line for line in hidden if leak_cut.squash(line) in shown if is_long(line)} | (hidden & scan.lines())
    assert not leaked, f"hidden test lines in the page: {leaked}"
    assert not any(notebooks.HIDDEN_BEGIN in line for line in scan.lines())
    assert leak_cut.CUT_NOTE in scan.lines()
    assert feedback_data.HIDDEN_NOTE in scan.lines(), "the checks still say that more ran when graded"


def test_are_printed_solution_lines_cut_for_a_student_who_never_wrote_them(course_root, autograded_blank, source_nb,
                                                                          release_nb):
    public = {line.strip() for cell in release_nb.cells for line in cell.source.splitlines()}
    # lines that only state the lesson's values are the student's to print: the lesson gives those values
    solutions = {line for line in marked_lines(source_nb, notebooks.SOLUTION_BEGIN, notebooks.SOLUTION_END) - public
                 if is_long(line) and not leak_cut.states_a_value(line)}
    nb = with_cells(autograded_blank, code_cell({"output_type": "stream", "name": "stdout",
                                                 "text": "\n".join(sorted(solutions))}))
    lines = assert_inert(render(course_root, nb, "solutions")).lines()
    assert solutions and not solutions & lines and leak_cut.CUT_NOTE in lines


def test_does_the_lesson_still_render_with_its_figures(course_root, autograded_blank):
    page = render(course_root, autograded_blank, "lesson")
    scan = assert_inert(page)
    headings = [(tag, attrs) for tag, attrs in scan.elements if tag in ("h1", "h2")]
    assert sum(tag == "h1" for tag, _ in headings) >= 1 and sum(tag == "h2" for tag, _ in headings) >= 8
    assert re.search(r"<h1[^>]*>Building blocks of a neural network<a", page)  # then nbconvert's anchor link
    tags = {tag for tag, _ in scan.elements}
    assert {"table", "th", "td", "strong", "em", "code", "ul", "ol", "li", "pre", "style"} <= tags
    images = [attrs["src"] for tag, attrs in scan.elements if tag == "img"]
    assert len(images) == 3 and all(src.startswith("data:image/png;base64,") for src in images)
    for payload in figure_payloads():
        assert f"data:image/png;base64,{payload}" in images
    assert "Three nested circles: artificial intelligence contains machine learning, which contains deep learning" \
        in [attrs.get("alt") for tag, attrs in scan.elements if tag == "img"]


def test_are_figures_found_from_the_current_directory_by_default(course_root, autograded_blank, monkeypatch):
    monkeypatch.chdir(course_root)  # nbgrader runs the feedback step from the course root
    page = render(course_root, autograded_blank, "cwd", course_root_setting="")
    assert all(f"data:image/png;base64,{payload}" in page for payload in figure_payloads())


def test_does_the_preprocessor_keep_only_data_it_can_check(tmp_path, autograded_blank):
    nb = with_cells(
        autograded_blank,
        code_cell({"output_type": "stream", "name": "weird", "text": ["a\n", "b\n"]},
                  display({"text/plain": ["1", "2"], "text/latex": "$x$", "image/png": "!!!", "image/jpeg": 5,
                           "application/json": {"a": 1}, "text/html": None}, {"text/plain": {"x": 1}}),
                  display({"application/javascript": "x"}),
                  {"output_type": "error", "ename": 3, "evalue": None, "traceback": "Traceback..."},
                  {"output_type": "unknown"}, "not an output",
                  metadata={"tags": ["t"], "nbgrader": {"grade_id": 'x"><b>', "solution": True}}, id='a" b'),
        {"cell_type": "strange", "source": "?"})
    nb.cells[-3]["metadata"]["nbgrader"] = "not a dict"
    nb.cells[-4]["id"] = nb.cells[-5]["id"]
    nb.metadata.update(widgets={"state": "<script>"}, kernelspec={"name": 3}, title="<script>")
    feedback.HideHiddenTests(course_root=str(tmp_path)).preprocess(nb, {})
    nbformat.validate(nb)  # nbconvert validates after every preprocessor
    assert nb.metadata == {"language_info": {"name": "python"}}
    cell = nb.cells[-1]
    assert cell.metadata == {} and cell.id == f"cell-{len(nb.cells) - 1}"
    assert [o.output_type for o in cell.outputs] == ["stream", "display_data", "error"]
    stream, shown, error = cell.outputs
    assert stream.name == "stdout" and stream.text == "a\nb\n"
    assert shown.data == {"text/plain": "12"} and shown.metadata == {}
    assert error.ename == "3" and error.traceback == ["Traceback..."]
    checks = [c for c in nb.cells if notebooks.is_test_cell(c)]
    assert checks and all(notebooks.HIDDEN_BEGIN not in c.source and feedback_data.HIDDEN_NOTE in c.source for c in checks)
    assert all(set(c.metadata) <= {"nbgrader"} for c in nb.cells)


def test_does_a_failed_check_show_only_its_error_line(tmp_path, autograded_blank):
    nb = nbformat.from_dict(autograded_blank)
    check = next(c for c in nb.cells if notebooks.is_test_cell(c))
    check.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="`inputs` should hold 4 numbers",
                                            traceback=["Traceback", "assert secret_check()", "AssertionError"])]
    feedback.HideHiddenTests(course_root=str(tmp_path)).preprocess(nb, {})
    check = next(c for c in nb.cells if notebooks.is_test_cell(c))
    assert check.outputs[0].traceback == ["AssertionError: `inputs` should hold 4 numbers"]


@pytest.mark.parametrize("url, allowed", [
    ("#top", True), ("https://example.org/a", True), ("mailto:a@b.example", True), ("notes/page.html", True),
    ("javascript:alert(1)", False), (" JaVaScRiPt:alert(1)", False), ("java\tscript:alert(1)", False),
    ("&#106;avascript:alert(1)", False), ("vbscript:x", False), ("data:text/html,x", False),
    ("//evil.example/", False), ("/etc/passwd", False), ("\\\\host\\share", False), ("file:///etc/passwd", False),
])
def test_which_links_are_kept(url, allowed):
    assert page_images.safe_link(url) is allowed


def test_which_course_figures_are_embedded(tmp_path):
    folder = tmp_path / "source" / "a"
    (folder / "figures").mkdir(parents=True)
    (folder / "figures" / "dot.png").write_bytes(DOT_PNG)
    (folder / "figures" / "fake.png").write_bytes(b"not a png at all")
    (folder / "notes.txt").write_bytes(DOT_PNG)
    (tmp_path / "outside.png").write_bytes(DOT_PNG)
    (folder / "figures" / "link.png").symlink_to(folder / "figures" / "dot.png")
    (folder / "linked_dir").symlink_to(folder / "figures")
    assert page_images.figure_data_uri(folder, "figures/dot.png") == f"data:image/png;base64,{DOT}"
    assert page_images.figure_data_uri(folder, "./figures/dot.png") == f"data:image/png;base64,{DOT}"
    for src in ("figures/fake.png", "notes.txt", "../../outside.png", str(tmp_path / "outside.png"),
                "figures/link.png", "linked_dir/dot.png", "figures/dot.png?x", "figures\\dot.png",
                "figures/%2e%2e/%2e%2e/%2e%2e/outside.png", "figures/missing.png"):
        assert page_images.figure_data_uri(folder, src) is None, src


def test_is_sanitised_html_what_markdown_and_pandas_write():
    table = ('<table border="1" class="dataframe"><thead><tr style="text-align: right;"><th></th><th>a</th></tr>'
             '</thead><tbody><tr><th>0</th><td colspan="1">1</td></tr></tbody></table>')
    cleaned = safe_html.sanitize_html(table)
    assert '<table border="1" class="dataframe">' in cleaned and "<td colspan=\"1\">1</td>" in cleaned
    assert "style" not in cleaned
    assert safe_html.sanitize_html('<h2 id="x">T<a class="anchor-link" href="#x">¶</a></h2>') == \
        '<h2 id="x">T<a class="anchor-link" href="#x">¶</a></h2>'
    assert safe_html.sanitize_html("<p>a<script>b</script>c</p>") == "<p>ac</p>"
    assert "<script" not in safe_html.sanitize_html('<p title="<script>">x</p>')


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_is_the_graded_courses_feedback_inert(graded_course, student):
    page = course.feedback_file(graded_course["root"], student).read_text(encoding="utf-8")
    assert_inert(page)


def test_does_a_notebook_without_cell_ids_render(course_root, autograded_blank):
    nb = hostile_notebook(autograded_blank)
    nb.nbformat_minor = 4
    for cell in nb.cells:
        cell.pop("id", None)
    assert_inert(render(course_root, nb, "older_format"))


def test_which_output_lines_are_cut(autograded_blank):
    secrets = leak_cut.secret_lines(autograded_blank, ROOT, course.ASSIGNMENT, course.NOTEBOOK)
    cut = leak_cut.CUT_NOTE + "\n"
    assert leak_cut.cut_secret_lines("  # them\n", secrets) == cut, "a short hidden line, printed on its own"
    answer = "output = inputs[0] * weights[0] + inputs[1] * weights[1] + inputs[2] * weights[2] + bias\n"
    assert leak_cut.cut_secret_lines(answer, secrets) == cut, "a model answer never written"
    assert leak_cut.cut_secret_lines(answer.strip()[::-1] + "\n", secrets) == cut, "printed backwards"
    assert leak_cut.cut_secret_lines("\u200b".join(answer), secrets) == cut, "with zero-width spaces"
    value = "inputs = [1.0, 2.0, 3.0, 2.5]\n"
    assert leak_cut.cut_secret_lines(value, secrets) == value, "the lesson gives the values: printing them is no leak"
    assert leak_cut.cut_secret_lines(notebooks.HIDDEN_BEGIN, secrets) == leak_cut.CUT_NOTE
    honest = "]\nbias = 2\n[4.8, 1.21, 2.385]\nfollow # them\n"
    assert leak_cut.cut_secret_lines(honest, secrets) == honest
    written = nbformat.from_dict(autograded_blank)
    written.cells.append(nbformat.v4.new_code_cell(answer))
    own = leak_cut.secret_lines(written, ROOT, course.ASSIGNMENT, course.NOTEBOOK)
    assert leak_cut.cut_secret_lines(answer, own) != cut, "the student's own line is theirs"

"""The instructor's report page and the LMS grade file, from rows made here: every number checked,
the page self-contained and inert, whatever the ids and notes hold."""

import csv
import re
from html.parser import HTMLParser

import nbformat
import pytest

from coursetools import class_report, course, intake, notebooks, reflection, roster
from coursetools.engine import computed_values
from coursetools.report import StudentScores

POINTS = notebooks.test_points(notebooks.read(course.release_notebook(course.REPOSITORY_ROOT)))
FULL = dict(POINTS)
NO_BIAS = {**POINTS, "e1_bias": 0.0, "e1_output": 0.0}  # 22 of 25
HOSTILE_ID = "<script>alert(1)</script>"
CLASS = [roster.Student("full", "Ada", "Full", "ada@example.org"), roster.Student("nobias", "Bo", "Bias"),
         roster.Student("absent", "Ab", "Sent"), roster.Student("=cmd|calc", "Eve", "Formula")]


def rows() -> list[StudentScores]:
    return [
        StudentScores("full", intake.GRADED, (), FULL),
        StudentScores("nobias", intake.NEEDS_REVIEW, ("e1_output: a result that did not follow its inputs",),
                      NO_BIAS, review=("e1_output",)),
        StudentScores("absent", intake.MISSING, (roster.MISSING_FROM_SUBMITTED,), {}),
        StudentScores("=cmd|calc", intake.TIMED_OUT, ("a cell ran past the time limit",),
                      {check: value for check, value in POINTS.items() if check.startswith("e1")}),
        StudentScores(HOSTILE_ID, intake.GRADED, (roster.NOT_ON_ROSTER, '<img src="http://x/y.png">'), FULL),
    ]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    page, lms = class_report.write(root, rows(), POINTS, CLASS)
    return {"root": root, "page": page.read_text(encoding="utf-8"), "lms": lms}


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attributes, self.cells = [], [], []
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self._in_cell = tag == "td"

    def handle_data(self, data):
        if self._in_cell:
            self.cells.append(data)


def parsed(page: str) -> Elements:
    elements = Elements()
    elements.feed(page)
    return elements


def test_is_the_page_self_contained_and_inert(written):
    elements = parsed(written["page"])
    assert "script" not in elements.tags and "iframe" not in elements.tags and "link" not in elements.tags
    assert not [a for a in elements.attributes if a[1].startswith("on")]
    sources = [value for tag, name, value in elements.attributes if name in ("src", "href")]
    assert len(sources) == 3 and all(value.startswith("data:image/png;base64,") for value in sources)
    assert ("meta", "content", class_report.CONTENT_SECURITY_POLICY) in elements.attributes
    assert all(value for tag, name, value in elements.attributes if tag == "img" and name == "alt")


def test_is_every_text_from_a_hand_in_shown_as_text(written):
    assert HOSTILE_ID in parsed(written["page"]).cells  # shown, as text
    assert "<script>" not in written["page"] and '<img src="http' not in written["page"]


def test_are_the_class_numbers_right(written):
    page = written["page"]
    assert "5 students; 4 hand-ins graded, out of 25 points. Mean total 19.25, median 23.5." in page
    checks = page.split("<h2>Each check</h2>")[1].split("<h2>")[0]
    rate = dict(re.findall(r"<tr><td>(\w+)</td><td>[\d.]+</td><td>(\d+%)</td></tr>", checks))
    assert set(rate) == set(POINTS)
    assert rate["e1_inputs"] == "100%" and rate["e1_output"] == "75%" and rate["e2_outputs"] == "75%" and rate["e3_outputs"] == "75%"
    assert re.search(r"<td>E1</td><td>4\.25</td><td>5</td>", page)
    assert "<td>graded</td><td>2</td>" in page and "<td>missing notebook</td><td>1</td>" in page


def test_are_the_hand_ins_that_need_the_instructor_listed(written):
    page = written["page"]
    attention = page.split("Hand-ins that need you")[1]
    for student in ("nobias", "absent", "=cmd|calc"):
        assert f"<td>{student}</td>" in attention
    assert "&lt;script&gt;" in attention  # off the roster
    assert "<td>full</td>" not in attention
    assert "<td>Bo Bias</td>" in attention and "<td>e1_output</td>" in attention


def test_is_the_lms_file_one_row_per_roster_student(written):
    with open(written["lms"], newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == class_report.LMS_COLUMNS
    assert lines[1:] == [["full", "Ada", "Full", "ada@example.org", "25", "25"],
                         ["nobias", "Bo", "Bias", "", "22", "25"],
                         ["absent", "Ab", "Sent", "", "", "25"],
                         ["'=cmd|calc", "Eve", "Formula", "", "5", "25"]]


def test_is_the_lms_file_one_row_per_hand_in_without_a_roster(tmp_path):
    _, lms = class_report.write(tmp_path, rows(), POINTS, None)
    with open(lms, newline="", encoding="utf-8") as handle:
        ids = [line[0] for line in csv.reader(handle)][1:]
    assert ids == ["full", "nobias", "absent", "'=cmd|calc", HOSTILE_ID]


def test_is_the_same_class_drawn_the_same(tmp_path, written):
    page, _ = class_report.write(tmp_path, rows(), POINTS, CLASS)
    assert page.read_text(encoding="utf-8") == written["page"]


def test_does_a_class_with_nothing_graded_still_get_a_page(tmp_path):
    page, _ = class_report.write(tmp_path, [StudentScores("absent", intake.MISSING, (), {})], POINTS, None)
    text = page.read_text(encoding="utf-8")
    assert "1 students; 0 hand-ins graded" in text and "<img" not in text


# The common wrong results, from autograded notebooks made here: what grading records in their metadata
E1_WRONG_ELSEWHERE = 1.23456789


def recorded(computed) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata[computed_values.METADATA_SECTION] = {computed_values.COMPUTED: computed}
    return nb


def class_with_wrong_results() -> tuple[list[StudentScores], dict]:
    computed = {
        "nobias": {"e1_output": 0.30000000000000004, "e2_outputs": [4.8, 0.21, 3.885], "e3_outputs": 2.8},
        "nobias_too": {"e1_output": 0.3000001, "e2_outputs": [4.8, 0.21000001, 3.885], "e3_outputs": 2.8},
        "elsewhere": {"e1_output": E1_WRONG_ELSEWHERE, "e2_outputs": [4.8, 1.21, 2.385], "e3_outputs": 7.0},
        "right": {"e1_output": 2.3, "e3_outputs": 4.8, "e4_output": [4.8, 1.21, 2.385]},
        "hostile": {"e1_output": "<script>alert(1)</script>", "e2_outputs": [float("nan"), 1.0, 2.0],
                    "e3_outputs": 10**400, "e4_output": [1.0] * 10**6},
        **{f"e3_{value}": {"e3_outputs": float(value)} for value in (8, 9, 10, 11)},
    }
    rows = [StudentScores(student, intake.GRADED, (), FULL) for student in computed]
    rows.append(StudentScores("absent", intake.MISSING, (), {}))
    # a notebook for a student who was not graded is never counted
    return rows, {**{student: recorded(values) for student, values in computed.items()},
                  "absent": recorded({"e1_output": 0.3})}


def wrong_results(page: str) -> dict[str, str]:
    """The common wrong results section, per exercise title."""
    section = page.split("<h2>Common wrong results</h2>")[1].split("<h2>")[0]
    return dict(re.findall(r"<h3>(Exercise \d): .*?</h3>(.*?)(?=<h3>|$)", section, re.DOTALL))


def table_rows(part: str) -> list[tuple[str, ...]]:
    return re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", part)


@pytest.fixture(scope="module")
def wrong_results_page():
    rows, graded = class_with_wrong_results()
    return class_report.page(rows, POINTS, {}, graded)


def test_is_each_common_wrong_result_counted_with_its_likely_cause(wrong_results_page):
    exercises = wrong_results(wrong_results_page)
    assert list(exercises) == ["Exercise 1", "Exercise 2", "Exercise 3", "Exercise 4"]
    assert table_rows(exercises["Exercise 1"]) == [("0.3", "2", "bias left out"), ("1.23457", "1", "unknown")]
    assert "Expected 2.3; wrong in 3 of 4 hand-ins with a value." in exercises["Exercise 1"]
    assert table_rows(exercises["Exercise 2"]) == [
        ("[4.8, 0.21, 3.885]", "2", "first neuron&#x27;s bias used for every neuron")]
    assert "Expected [4.8, 1.21, 2.385]" in exercises["Exercise 2"]


def test_are_only_the_five_most_common_wrong_results_shown(wrong_results_page):
    shown = [(value, count) for value, count, _ in table_rows(wrong_results(wrong_results_page)["Exercise 3"])]
    assert shown == [("2.8", "2"), ("7", "1"), ("8", "1"), ("9", "1"), ("10", "1")]


def test_are_hand_ins_without_a_value_counted_apart(wrong_results_page):
    exercises = wrong_results(wrong_results_page)
    # hostile (a string) and the four with Exercise 3 only
    assert "5 hand-ins had no value for <code>output</code>" in exercises["Exercise 1"]
    assert "1 hand-in had no value for <code>outputs</code>" in exercises["Exercise 3"]  # hostile's 10**400
    assert "wrong in 0 of 1 hand-in with a value" in exercises["Exercise 4"] and not table_rows(exercises["Exercise 4"])


def test_are_hostile_values_dropped_and_the_page_kept_inert(wrong_results_page):
    elements = parsed(wrong_results_page)
    assert "script" not in elements.tags and "<script>" not in wrong_results_page
    section = wrong_results_page.split("<h2>Common wrong results</h2>")[1].split("<h2>")[0]
    assert "nan" not in section.lower() and "inf" not in section.lower() and len(section) < 5000


def test_is_the_same_class_shown_the_same_whatever_the_order(wrong_results_page):
    rows, graded = class_with_wrong_results()
    assert class_report.page(rows, POINTS, {}, graded) == wrong_results_page
    reordered = class_report.page(rows[::-1], POINTS, {}, dict(reversed(list(graded.items()))))
    assert wrong_results(reordered) == wrong_results(wrong_results_page)


def test_are_the_wrong_results_read_from_the_autograded_notebooks_on_disk(tmp_path):
    rows, graded = class_with_wrong_results()
    for student, nb in graded.items():
        notebooks.write(nb, course.autograded_notebook(tmp_path, student))
    # metadata nested deeper than any JSON reader follows: that notebook is left out, the page still written
    nested = nbformat.writes(recorded({"e1_output": 0.3})).replace("0.3", "[" * 5_000 + "]" * 5_000)
    course.autograded_notebook(tmp_path, "nested").parent.mkdir(parents=True)
    course.autograded_notebook(tmp_path, "nested").write_text(nested, encoding="utf-8")
    page, _ = class_report.write(tmp_path, [*rows, StudentScores("nested", intake.GRADED, (), FULL)], POINTS, None)
    exercises = wrong_results(page.read_text(encoding="utf-8"))
    assert table_rows(exercises["Exercise 1"]) == [("0.3", "2", "bias left out"), ("1.23457", "1", "unknown")]
    assert "5 hand-ins had no value for <code>output</code>" in exercises["Exercise 1"]


def test_does_a_class_without_readable_notebooks_say_so(written):
    assert "No graded hand-in's autograded notebook could be read." in written["page"]


@pytest.mark.parametrize("value, shown", [
    (0.30000000000000004, "0.3"), (2.0, "2"), (-0.0, "0"), (1234567.8, "1.23457e+06"), (1e-7, "1e-07"),
    ([4.8, 1.2099999999999997, 2.385], "[4.8, 1.21, 2.385]"), ([[1.0, 2.5]], "[[1, 2.5]]"), ([], "[]"),
])
def test_is_a_value_shown_compactly(value, shown):
    assert class_report.shown_value(value) == shown


# --- What students said: the closing questions' answers, from crafted graded notebooks -------------

RELEASE_NB = notebooks.read(course.release_notebook(course.REPOSITORY_ROOT))
RELEASE_REFLECTION = reflection.release_text(course.REPOSITORY_ROOT)
HOSTILE_ANSWER = '<script>alert("x")</script>\x1b[31m the </td> tag\u202e'
# Student id -> the reflection cell's text in their graded notebook (None: the cell was deleted)
REFLECTIONS = {
    "s1001ada": reflection.answered(RELEASE_REFLECTION, "about 40 minutes", "Why np.dot wants the weights first"),
    "s1002bo": reflection.answered(RELEASE_REFLECTION, "1h30", "why np.dot wants the weights first."),
    "s1003cy": reflection.answered(RELEASE_REFLECTION, "a while", HOSTILE_ANSWER),
    "s1004di": RELEASE_REFLECTION,  # left as handed out
    "s1005ed": None,
    HOSTILE_ID: reflection.answered(RELEASE_REFLECTION, "2 h", "lists\nof lists"),
}
REFLECTING_CLASS = [roster.Student(student, f"Firstname{n}", f"Lastname{n}") for n, student in enumerate(REFLECTIONS)]


def graded_with_reflection(root, students):
    """A course folder holding the release and each student's graded notebook, with their reflection cell."""
    notebooks.write(RELEASE_NB, course.release_notebook(root))
    for student in students:
        nb = notebooks.nbformat.from_dict(RELEASE_NB)
        source = REFLECTIONS[student]
        nb.cells = [c for c in nb.cells if c.get("id") != reflection.CELL_ID or source is not None]
        for cell in nb.cells:
            if cell.get("id") == reflection.CELL_ID:
                cell.source = source
        notebooks.write(nb, course.autograded_notebook(root, student))
    return [StudentScores(student, intake.GRADED, (), FULL) for student in students]


def said(page: str) -> str:
    return page.split("<h2>What students said</h2>")[1].split("</body>")[0]


@pytest.fixture(scope="module")
def reflected(tmp_path_factory):
    root = tmp_path_factory.mktemp("reflected")
    rows = graded_with_reflection(root, list(REFLECTIONS)) + [StudentScores("absent", intake.MISSING, (), {})]
    page, _ = class_report.write(root, rows, POINTS, REFLECTING_CLASS)
    return {"root": root, "rows": rows, "page": page.read_text(encoding="utf-8")}


def test_does_the_section_count_the_graded_hand_ins_that_answered(reflected):
    section = said(reflected["page"])
    assert "4 of 6 graded hand-ins answered" in section
    assert "3 answers read as a time, median 1 h 30 min; 1 could not be read as a time." in section
    bands = dict(re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", section.split("What was unclear")[0]))
    assert bands == {"under 30 min": "0", "30 min to under 1 h": "1", "1 h to under 2 h": "1", "2 h or more": "1"}


def test_are_the_unclear_answers_tallied_one_line_each_most_given_first(reflected):
    cells = [text for text in parsed(said(reflected["page"]).split("What was unclear")[1]).cells if text.strip()]
    answers = list(zip(cells[::2], cells[1::2]))
    assert answers == [("Why np.dot wants the weights first", "2"),
                       ('<script>alert("x")</script> [31m the </td> tag', "1"), ("lists of lists", "1")]


def test_does_the_section_name_nobody(reflected):
    section = said(reflected["page"])
    for student in [*REFLECTIONS, "absent"]:
        assert student not in section and student.replace("<", "&lt;").replace(">", "&gt;") not in section
    for person in REFLECTING_CLASS:
        assert person.first_name not in section and person.last_name not in section


def test_is_every_answer_escaped_and_the_page_still_inert(reflected):
    page = reflected["page"]
    assert "<script>" not in page and "</td> tag" not in page and "\x1b" not in page and "\u202e" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in said(page)
    elements = parsed(page)
    assert "script" not in elements.tags and not [a for a in elements.attributes if a[1].startswith("on")]


def test_is_the_section_the_same_whatever_the_order_of_the_class(reflected, tmp_path):
    again = tmp_path / "again"
    again.mkdir()
    rows = graded_with_reflection(again, list(REFLECTIONS)[::-1])
    page, _ = class_report.write(again, rows, POINTS, REFLECTING_CLASS[::-1])
    assert said(page.read_text(encoding="utf-8")) == said(reflected["page"])
    page, _ = class_report.write(reflected["root"], reflected["rows"], POINTS, REFLECTING_CLASS)
    assert page.read_text(encoding="utf-8") == reflected["page"]


def test_does_a_release_without_the_questions_say_so(tmp_path):
    page, _ = class_report.write(tmp_path, rows(), POINTS, CLASS)
    assert "The release has no closing questions" in said(page.read_text(encoding="utf-8"))

"""The instructor's report page and the LMS grade file, from rows made here: every number checked,
the page self-contained and inert, whatever the ids and notes hold."""

import csv
import re
from html.parser import HTMLParser

import pytest

from coursetools import class_report, course, intake, notebooks, roster
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

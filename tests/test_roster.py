"""The class list: `roster.csv` read line by line, imported into the gradebook, and matched with submitted/.

The parsing tests need no grading. One course copy is graded with a roster
that lists a student who handed nothing in and leaves out one who did; a
second copy with a broken roster must stop before grading anyone.
"""

import csv

import pytest
from nbgrader.api import Gradebook

from coursetools import class_report, course, intake, roster

from conftest import background_result, copy_course, run_grade

ROSTER = ("\ufeffStudent ID,First Name,Last Name,E-mail\n"
          "correct,Ada,Correct,ada@example.org\n"
          "blank,\"Blank, Jr.\",Page,\n"
          "absent,Ab,Sent,absent@example.org\n"
          "\n")


def graded_with_roster(folder) -> dict:
    root = copy_course(folder / "course", keep_students=["correct", "blank", "no_bias"])
    (root / roster.ROSTER_CSV).write_bytes(ROSTER.encode("utf-8"))
    result = run_grade(root)
    with open(root / "scores.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    with Gradebook(course.gradebook_url(root)) as gradebook:
        people = {s.id: (s.first_name, s.last_name, s.email) for s in gradebook.students}
    with open(root / "grades.csv", newline="", encoding="utf-8") as handle:
        exported = {row["student_id"]: row for row in csv.DictReader(handle)}
    with open(root / class_report.LMS_CSV, newline="", encoding="utf-8") as handle:
        lms = list(csv.reader(handle))
    return {"root": root, "result": result, "rows": rows, "people": people, "exported": exported, "lms": lms}


def graded_with_a_bad_roster(folder) -> dict:
    root = copy_course(folder / "course", keep_students=["correct"])
    (root / roster.ROSTER_CSV).write_text("id,first_name\ncorrect,Ada\n=cmd|calc,Eve\n", encoding="utf-8")
    return {"root": root, "result": run_grade(root)}


BACKGROUND_RUNS = {"roster": graded_with_roster, "bad_roster": graded_with_a_bad_roster}


@pytest.fixture(scope="module")
def run():
    return background_result("roster")


def test_is_the_roster_read_whatever_the_spreadsheet_called_its_columns():
    students = roster.parse(ROSTER.lstrip("\ufeff"))
    assert students == [roster.Student("correct", "Ada", "Correct", "ada@example.org"),
                        roster.Student("blank", "Blank, Jr.", "Page", ""),
                        roster.Student("absent", "Ab", "Sent", "absent@example.org")]
    assert roster.parse("email,id\nx@y.org,solo\n") == [roster.Student("solo", email="x@y.org")]


@pytest.mark.parametrize("text, message", [
    ("", "roster.csv is empty"),
    ("id,nickname\nx,y\n", "line 1: unknown column 'nickname'"),
    ("first_name,last_name\nAda,L\n", "line 1: no id column"),
    ("id,student\na,b\n", "line 1: the column id is there twice"),
    ("id,first_name\nok,A\n,B\n", "line 3: no id"),
    ("id\nok\n=cmd|calc\n", "line 3: the id '=cmd|calc' starts with = + - or @"),
    ("id\nok\nsub/dir\n", "line 3: the id 'sub/dir' contains a path separator"),
    ("id\nalice\nbob\nalice\n", "line 4: the id 'alice' is on line 2 too"),
    ("id,first_name\nalice,Smith, Alice\n", "line 2 has 3 fields but the header names 2"),
    ("id,email\nalice,alice.example.org\n", "line 2: 'alice.example.org' is not an email address"),
    ("id,last_name\nalice," + "x" * 300 + "\n", "line 2: the last_name is longer than 200 characters"),
])
def test_does_a_bad_roster_line_say_which_line_and_what_to_do(text, message):
    with pytest.raises(roster.RosterError) as raised:
        roster.parse(text)
    assert message in str(raised.value)


def test_is_a_roster_that_is_not_utf8_refused_with_the_way_to_save_it(tmp_path):
    (tmp_path / roster.ROSTER_CSV).write_bytes("id,last_name\nx,M\xfcller\n".encode("latin-1"))
    with pytest.raises(roster.RosterError, match="not UTF-8 text.*CSV UTF-8"):
        roster.read(tmp_path)
    assert roster.read(tmp_path / "no course here") is None


def test_is_everyone_on_the_roster_or_in_submitted_given_a_row(run):
    assert run["result"].returncode == 0, run["result"].stderr[-3000:]
    assert sorted(run["rows"]) == ["absent", "blank", "correct", "no_bias"]


def test_does_a_roster_student_with_no_hand_in_show_as_missing(run):
    row = run["rows"]["absent"]
    assert (row["status"], row["total"]) == (intake.MISSING, "")
    assert roster.MISSING_FROM_SUBMITTED in row["notes"]
    assert "absent" in run["result"].stdout and intake.MISSING in run["result"].stdout


def test_is_a_hand_in_from_an_id_off_the_roster_graded_and_flagged(run):
    row = run["rows"]["no_bias"]
    assert (row["status"], row["total"]) == (intake.GRADED, "19")
    assert roster.NOT_ON_ROSTER in row["notes"]
    assert not any(roster.NOT_ON_ROSTER in run["rows"][s]["notes"] for s in ("correct", "blank"))


def test_are_the_names_in_the_gradebook_and_nbgrader_s_export(run):
    assert run["people"]["correct"] == ("Ada", "Correct", "ada@example.org")
    assert run["people"]["blank"] == ("Blank, Jr.", "Page", None)
    assert run["people"]["absent"] == ("Ab", "Sent", "absent@example.org")
    assert run["people"]["no_bias"] == (None, None, None)
    exported = run["exported"]["correct"]
    assert (exported["first_name"], exported["last_name"], exported["email"]) == ("Ada", "Correct", "ada@example.org")
    assert float(exported["score"]) == 25


def test_does_a_bad_roster_stop_grading_before_anyone_is_graded():
    run = background_result("bad_roster")
    assert run["result"].returncode != 0
    assert "roster.csv line 3: the id '=cmd|calc' starts with = + - or @" in run["result"].stderr
    assert "nothing was graded" in run["result"].stderr
    assert not (run["root"] / "autograded").exists()


def test_do_the_report_and_the_lms_file_follow_the_roster(run):
    assert run["lms"] == [class_report.LMS_COLUMNS,
                          ["correct", "Ada", "Correct", "ada@example.org", "25", "25"],
                          ["blank", "Blank, Jr.", "Page", "", "0", "25"],
                          ["absent", "Ab", "Sent", "absent@example.org", "", "25"]]
    page = (run["root"] / class_report.REPORT_FOLDER / class_report.REPORT_PAGE).read_text(encoding="utf-8")
    attention = page.split("Hand-ins that need you")[1]
    assert "<td>absent</td><td>Ab Sent</td><td>missing notebook</td>" in attention
    assert "<td>no_bias</td>" in attention and "<td>correct</td>" not in attention
    assert "report/index.html" in run["result"].stdout

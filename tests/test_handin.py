"""The rules that make a hand-in data: ids, plain files, sizes, and exports a spreadsheet cannot run."""

import csv
import os
import threading

import pytest
from nbgrader.api import Gradebook

from coursetools.engine import export, handin

# Ids real courses use: LMS numbers, emails, hub user names, accented names
GOOD_IDS = ["s1234567", "jane.doe@example.edu", "ana-maria_99", "zoë", "O'Brien", "x", "a b", "name,with,comma", "\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627", "Jane\u00a0Doe"]
BAD_IDS = {
    "": "is not a name", "..": "is not a name", " lead": "space at the start or end", "trail ": "space at the start",
    "tab\there": "control character", "new\nline": "control character", "esc\x1bape": "control character",
    "Jos\udce9": "not valid UTF-8", "a\u202eb": "text-direction", "p\u2029q": "line break",
    "[A-Z]*": "* ? [ or ]", "a?": "* ? [ or ]", "a/b": "path separator", "a\\b": "path separator",
    "=1+1": "starts with = + - or @", "+1": "starts with", "-x": "starts with", "@SUM(1)": "starts with",
}


@pytest.mark.parametrize("student", GOOD_IDS)
def test_is_a_real_student_id_accepted(student):
    assert handin.student_id_problem(student) == ""


@pytest.mark.parametrize("student", sorted(BAD_IDS))
def test_is_an_unsafe_id_refused_with_its_reason(student):
    assert BAD_IDS[student] in handin.student_id_problem(student)
    advice = handin.rename_advice(student)
    assert advice.isprintable() and "rename the folder" in advice


def test_is_a_pipe_refused_without_waiting_for_a_writer(tmp_path):
    pipe = tmp_path / "building_blocks.ipynb"
    os.mkfifo(pipe)
    finished = threading.Event()

    def read():
        with pytest.raises(handin.Refused, match="is a pipe"):
            handin.read_regular_file(pipe)
        finished.set()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert finished.is_set(), "reading a pipe must not block the grader"


def test_is_a_linked_notebook_never_read(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("do not show")
    (tmp_path / "nb.ipynb").symlink_to(secret)
    with pytest.raises(handin.Refused) as refused:
        handin.read_regular_file(tmp_path / "nb.ipynb")
    assert "is a link" in str(refused.value) and "do not show" not in str(refused.value)


def test_is_a_file_over_the_limit_refused_before_reading_it(tmp_path):
    big = tmp_path / "big.ipynb"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(handin.TooLarge):
        handin.read_regular_file(big, limit=1024)
    assert handin.read_regular_file(big, limit=4096) == b"x" * 2048


def test_is_a_link_deep_in_a_hand_in_found(tmp_path):
    student = tmp_path / "alice"
    (student / "building_blocks" / "data" / "more").mkdir(parents=True)
    (student / "building_blocks" / "building_blocks.ipynb").write_text("{}")
    handin.check_folder(student)  # plain files and folders only: accepted
    (student / "building_blocks" / "data" / "more" / "x.png").symlink_to("/etc/passwd")
    with pytest.raises(handin.Refused, match="is a link"):
        handin.check_folder(student)


def test_is_a_linked_student_folder_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "alice").symlink_to(tmp_path / "real")
    with pytest.raises(handin.Refused, match="is a link, not a folder"):
        handin.check_folder(tmp_path / "alice")


def test_are_too_many_files_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(handin, "MAX_FILES", 3)
    for index in range(4):
        (tmp_path / f"f{index}").write_text(".")
    with pytest.raises(handin.TooLarge):
        handin.check_folder(tmp_path)


@pytest.mark.parametrize("value, written", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@A1", "'@A1"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), (25.0, "25.0"), (-1.5, "-1.5"), (None, ""),
])
def test_does_a_spreadsheet_see_text_as_text(value, written):
    assert export.spreadsheet_safe(value) == written


def test_does_the_grade_export_quote_and_neutralise_every_text_cell(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment("building_blocks")
        gb.add_student("s1", first_name="=cmd|' /C calc'!A0", last_name="Smith, Jr.\nforged,row", email="@x")
        gb.add_student("s2", first_name="Ann", last_name="Lee", email="ann@example.edu")
        export.SpreadsheetSafeCsvExportPlugin(to=str(tmp_path / "grades.csv")).export(gb)
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert len(rows) == 2 and set(rows) == {"s1", "s2"}, "a comma or line break never adds a row"
    assert rows["s1"]["first_name"] == "'=cmd|' /C calc'!A0" and rows["s1"]["email"] == "'@x"
    assert rows["s1"]["last_name"] == "Smith, Jr.\nforged,row"
    assert (rows["s2"]["score"], rows["s2"]["max_score"]) == ("0.0", "0.0")

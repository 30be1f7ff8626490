"""The closing reflection: where the cell sits, how its answers are read, and how a class's are summed up."""

import time

import pytest

from coursetools import course, intake, notebooks, reflection

RELEASE = reflection.release_text(course.REPOSITORY_ROOT)


def hand_in_with(source=None, release_nb=None):
    """The release as a student hands it in, with the reflection cell's text replaced (or the cell
    deleted, when `source` is None)."""
    nb = notebooks.nbformat.from_dict(release_nb or notebooks.read(course.release_notebook(course.REPOSITORY_ROOT)))
    if source is None:
        nb.cells = [c for c in nb.cells if c.get("id") != reflection.CELL_ID]
    else:
        next(c for c in nb.cells if c.get("id") == reflection.CELL_ID).source = source
    return nb


# --- The cell ---------------------------------------------------------------------------------

@pytest.mark.parametrize("notebook", [course.source_notebook, course.release_notebook])
def test_is_the_reflection_a_plain_cell_just_before_the_hand_in_steps(notebook):
    """No nbgrader marks: nothing to grade, nothing for Validate to fail, nothing for the formgrader to flag."""
    cells = notebooks.read(notebook(course.REPOSITORY_ROOT)).cells
    cell = cells[-2]
    assert cell.id == reflection.CELL_ID and cell.cell_type == "markdown" and cell.metadata == {}
    assert reflection.TIME_QUESTION in cell.source and reflection.UNCLEAR_QUESTION in cell.source
    assert cell.source.count(f"\n{reflection.ANSWER_LABEL}") == 2
    assert "optional" in cell.source and "not graded" in cell.source and "without names" in cell.source
    assert cells[-1].source.startswith("Before you hand in:")


def test_does_the_untouched_release_answer_nothing():
    assert RELEASE and reflection.read_answers(RELEASE, RELEASE) == reflection.Answers()
    assert not reflection.answers_of(hand_in_with(RELEASE), RELEASE).given


# --- Reading the answers -------------------------------------------------------------------------

def test_are_answers_typed_after_the_labels_read_under_their_questions():
    nb = hand_in_with(reflection.answered(RELEASE, "about 40 minutes", "Why np.dot takes\nthe weights first"))
    assert reflection.answers_of(nb, RELEASE) == reflection.Answers("about 40 minutes", "Why np.dot takes\nthe weights first")


def test_is_a_deleted_cell_no_answer():
    assert reflection.answers_of(hand_in_with(None), RELEASE) == reflection.Answers()


@pytest.mark.parametrize("text, expected", [
    # typed on the question's line, bold removed, the label replaced
    ("How long did this notebook take you? 1h\n\nWhat was unclear, if anything?\nnothing", ("1h", "nothing", "")),
    # questions shortened and numbered
    ("1. how long did it take: 2 hours\n2. What was unclear? np.dot\nand the shapes", ("2 hours", "np.dot\nand the shapes", "")),
    # the label kept, the text after it changed
    (RELEASE.replace("\nYour answer:", "\n_Your answer:_ 45", 1), ("45", "", "")),
    # only the second question left: the first answer cannot be placed
    ("I took 2 hours\n**What was unclear, if anything?** the bias", ("", "the bias", "I took 2 hours")),
])
def test_are_answers_found_when_the_layout_is_edited(text, expected):
    assert reflection.read_answers(text, RELEASE) == reflection.Answers(*expected)


def test_is_text_kept_when_the_questions_are_removed():
    """With no question left, nothing says which answer is which: the text is kept as written elsewhere."""
    answers = reflection.read_answers("## Before you go: two quick questions\n\n45 minutes\nthe bias", RELEASE)
    assert answers == reflection.Answers(elsewhere="45 minutes\nthe bias") and answers.given


def test_are_split_and_copied_cells_still_read():
    nb = hand_in_with(RELEASE.split("**What")[0].replace("Your answer:\n", "Your answer: 1 h\n"))
    second = notebooks.nbformat.v4.new_markdown_cell("**What was unclear, if anything?**\n\nYour answer: lists of lists")
    nb.cells.insert(-1, second)
    assert reflection.answers_of(nb, RELEASE) == reflection.Answers("1 h", "lists of lists")


def test_is_hostile_text_read_as_text_and_cut_to_size():
    hostile = "<script>alert(1)</script>\x1b[31m\u202e\x00 1 h"
    answers = reflection.read_answers(reflection.answered(RELEASE, hostile, "x" * 10**6), RELEASE)
    assert answers.time_taken == hostile.strip()
    assert 1000 < len(answers.unclear) <= reflection.MAX_ANSWER_LENGTH
    shown = reflection.one_line(answers.time_taken)
    assert shown.isprintable() and "<script>" in shown and len(reflection.one_line(answers.unclear)) == reflection.SHOWN_LENGTH


@pytest.mark.parametrize("text", [
    "x" * 10**6, " " * 10**6, "*" * 10**6 + "how long did", ("- 1. " * 400 + "\n") * 5000, "\n" * 10**6,
])
def test_is_a_megabyte_in_the_cell_read_quickly(text):
    started = time.perf_counter()
    reflection.answers_of(hand_in_with(text), RELEASE)
    assert time.perf_counter() - started < 2


def test_does_intake_keep_an_edited_cell_and_leave_a_deleted_one_deleted():
    """The cell belongs to the student: intake repairs nothing in it and notes nothing about it."""
    release = notebooks.read(course.release_notebook(course.REPOSITORY_ROOT))
    edited = reflection.answered(RELEASE, "1h30", "<b>the bias</b>") + "\n\nAnd one more thing."
    for source in (edited, None, "just a note"):
        nb = hand_in_with(source, release)
        assert intake.coerce_cells(nb, "building_blocks.ipynb") == []
        assert intake.restore_course_cells(nb, release) == ([], [])
        kept = [c.source for c in nb.cells if c.get("id") == reflection.CELL_ID]
        assert kept == ([] if source is None else [source])


# --- Time taken -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("40 minutes", 40), ("1 hour", 60), ("1.5 h", 90), ("1,5 h", 90), ("about an hour", 60), ("1h30", 90),
    ("1h30m", 90), ("1 hour 30 minutes", 90), ("1 hr and 20 mins", 80), ("90 min", 90), ("~45min.", 45),
    ("45", 45), ("2", 120), ("1.5", 90), ("40-50", 45), ("1-2 hours", 90), ("40 min to 1 hour", 50),
    ("half an hour", 30), ("an hour and a half", 90), ("one and a half hours", 90), ("forty-five minutes", 45),
    ("3 quarters of an hour", 45), ("a couple of hours", 120), ("1:30", 90), ("2 hrs", 120),
    ("Around 1 hour.", 60), ("about 2 hours, but NumPy was hard", 120), ("30 min on E1 and 1 h on the rest", 90),
])
def test_is_each_common_form_of_a_time_read_in_minutes(text, expected):
    assert reflection.minutes(text) == expected


@pytest.mark.parametrize("text", ["", "a while", "too long", "forever", "2 days", "0", "100 hours", "2024",
                                  "h", "5 more", "<script>1 h</script>" * 20, "1 h " + "x" * 10**6])
def test_is_what_is_not_a_time_left_unread(text):
    assert reflection.minutes(text) is None


@pytest.mark.parametrize("text, meant", [
    ("1 1/2 hours", 90), ("1 hour 1/2", 90), (".5 h", 30), ("between 1 and 2 hours", 90), ("30/40 min", 35),
    ("1½ h", 90), ("3/4 h", 45), ("2/3 of an hour", 40), ("1 hour and 30 minutes", 90), ("0.5h", 30),
    ("1 ½ hours", 90), ("2 ¼ hours", 135), ("1 and 1/2 hours", 90), ("an hour and a quarter", 75),
    ("3/4 of an hour", 45), ("an hour and 3/4", 105), ("10:00-11:30", 90), ("9:00 to 10:30", 90),
    ("1h15-1h30", 83), ("1 h 15 min - 1 h 30 min", 83), ("1h to 1h30", 75), ("2h-2h30", 135),
    ("1.5 hours (1 hour 30 mins)", 90), ("90 min (1.5 h)", 90), ("1 h (60 min)", 60), ("1 hr. 30", 90),
    ("2x45 min", 90), ("an hour or two", 90), ("1 day and 2 hours", 1560),
])
def test_is_a_time_read_as_meant_or_left_unread(text, meant):
    """A form the parser does not know may be left unread, never read as another time: a misread one moves
    the median and the bands without the report saying so."""
    assert reflection.minutes(text) in (meant, None)

# --- The class together -----------------------------------------------------------------------

def test_does_the_summary_count_band_and_tally_without_order():
    answers = [reflection.Answers("40 min", "The bias"), reflection.Answers("1 h", "the  bias."),
               reflection.Answers("a while", ""), reflection.Answers("", "np.dot\nshapes"),
               reflection.Answers("2 h", "", "moved text"), reflection.Answers()]
    summary = reflection.summarise(answers, hand_ins=7)
    assert (summary.hand_ins, summary.answered, summary.times, summary.unreadable_times) == (7, 5, (40, 60, 120), 1)
    assert summary.median == 60 and reflection.duration(summary.median) == "1 h"
    assert summary.bands() == [("under 30 min", 0), ("30 min to under 1 h", 1), ("1 h to under 2 h", 1),
                               ("2 h or more", 1)]
    assert summary.unclear == (("The bias", 2), ("np.dot shapes", 1))
    assert summary.elsewhere == (("moved text", 1),)
    assert reflection.summarise(answers[::-1], hand_ins=7) == summary


@pytest.mark.parametrize("minutes, said", [(45, "45 min"), (60, "1 h"), (90, "1 h 30 min"), (52.5, "52 min")])
def test_are_durations_said_as_a_person_says_them(minutes, said):
    assert reflection.duration(minutes) == said

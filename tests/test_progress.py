"""What `make grade` shows while it works: tqdm's bar on a terminal, plain lines in a log."""

import io

from coursetools import intake
from coursetools.handin_job import StudentOutcome
from coursetools.progress import ConsoleProgress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def a_batch(stream, interval=10.0) -> str:
    progress = ConsoleProgress(stream, interval=interval)
    progress.message("regenerating release/ from source/")
    progress.start(4)
    progress.done(StudentOutcome("ada", intake.GRADED))
    progress.done(StudentOutcome("bo", intake.TIMED_OUT))
    progress.done(StudentOutcome("cy", intake.GRADED, unchanged=True))
    progress.done(StudentOutcome("=cmd\x1b[2J", intake.INVALID_ID))
    progress.close()
    return stream.getvalue()


def test_does_a_log_get_plain_lines_with_count_rate_and_problems():
    text = a_batch(io.StringIO())
    lines = text.splitlines()
    assert lines[0] == "[grade] regenerating release/ from source/"
    assert "[grade] grading 4 hand-ins" in lines
    assert "[grade] bo: timed out" in lines  # each problem as it happens
    last = lines[-1]
    assert last.startswith("[grade] 100%") and "4/4" in last and "hand-in" in last
    assert "1 unchanged" in last and "2 with problems: bo (timed out)" in last
    assert "\r" not in text and "\x1b" not in text  # no bar drawing, no control sequence from a name


def test_are_plain_lines_periodic_not_one_per_student():
    lines = a_batch(io.StringIO(), interval=3600).splitlines()
    assert sum("/4 [" in line for line in lines) == 1  # only the closing line


def test_does_a_terminal_get_a_progress_bar():
    text = a_batch(Terminal())
    assert "\r" in text  # redrawn in place
    assert "4/4" in text and "hand-in" in text
    assert "2 with problems" in text and "bo (timed out)" in text
    assert "[grade] regenerating release/ from source/" in text

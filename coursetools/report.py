"""Scores out of the gradebook: per student, per exercise, with each hand-in's status.

Every student folder in submitted/ gets a row, graded or not, so that a hand-in
that scored nothing and one that was never graded can never be confused.
"""

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from coursetools import course, intake, notebooks
from coursetools.engine.export import spreadsheet_safe
from coursetools.engine.handin import shown_name

SCORES_CSV = "scores.csv"


@dataclass(frozen=True)
class StudentScores:
    student: str
    status: str
    notes: tuple[str, ...]
    cells: dict[str, float]  # grade id -> points scored; empty when never graded
    review: tuple[str, ...] = ()  # checks flagged for manual review in the gradebook

    @property
    def graded(self) -> bool:
        return intake.is_graded(self.status)

    def exercise(self, name: str) -> float:
        return sum(score for grade_id, score in self.cells.items() if notebooks.exercise_of(grade_id) == name)

    @property
    def total(self) -> float:
        return sum(self.cells.values())


NOTE_LENGTH = 400


def clean_note(note: str) -> str:
    """A note on one line, without control characters: parts of it (file names, the error a student's
    code raised) come from the hand-in, and must not forge lines or colours in the table."""
    text = "".join(ch if ch.isprintable() else " " for ch in note)
    text = " ".join(text.split())
    return text if len(text) <= NOTE_LENGTH else text[:NOTE_LENGTH - 1] + "…"


def status_after_review(status: str, review) -> str:
    """A plain graded hand-in with flagged checks needs review; other statuses say more and stay."""
    return intake.NEEDS_REVIEW if review and status in (intake.GRADED, intake.RENAMED) else status


def read_scores(db_url: str, outcomes) -> list[StudentScores]:
    """Per-check scores and review flags of each graded hand-in, straight from the gradebook."""
    rows = []
    with Gradebook(db_url) as gradebook:
        for outcome in outcomes:
            cells, review = {}, ()
            if outcome.graded:
                try:
                    submission = gradebook.find_submission_notebook(course.NOTEBOOK, course.ASSIGNMENT, outcome.student)
                    grades = [g for g in submission.grades if g.cell_type == "code"]
                    cells = {g.name: g.score for g in grades}
                    review = tuple(g.name for g in grades if g.needs_manual_grade)
                except MissingEntry:
                    pass
            rows.append(StudentScores(outcome.student, status_after_review(outcome.status, review),
                                      tuple(clean_note(note) for note in outcome.notes), cells, review))
    return rows


def format_number(value: float) -> str:
    return f"{value:g}"


def exercise_maxima(points: dict[str, float]) -> dict[str, float]:
    maxima = {}
    for grade_id, value in points.items():
        maxima[notebooks.exercise_of(grade_id)] = maxima.get(notebooks.exercise_of(grade_id), 0) + value
    return maxima


def format_table(rows: list[StudentScores], points: dict[str, float]) -> str:
    """A plain-text table: one row per student, one column per exercise, the total and the status."""
    maxima = exercise_maxima(points)
    header = ["student", *(f"{e.upper()} /{format_number(m)}" for e, m in maxima.items()),
              f"total /{format_number(sum(points.values()))}", "status"]
    body = []
    for row in rows:
        scores = [format_number(row.exercise(e)) for e in maxima] + [format_number(row.total)] if row.graded \
            else ["-"] * (len(maxima) + 1)
        body.append([shown_name(row.student), *scores, row.status])  # a name can never start a line of its own
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i in (0, len(r) - 1) else c.rjust(w)
                       for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in [header, *body]]
    lines.insert(1, "-" * len(lines[0]))
    notes = [f"  {shown_name(row.student)}: {note}" for row in rows for note in row.notes]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


def summary(rows: list[StudentScores]) -> str:
    counts = Counter(row.status for row in rows)
    text = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    flagged = [row.student for row in rows if row.review]
    if flagged:
        text += (f"; {len(flagged)} flagged for review in the formgrader "
                 f"(a check passed in the notebook but not the recheck): {', '.join(map(shown_name, flagged))}")
    return text


def write_scores_csv(rows: list[StudentScores], points: dict[str, float], destination: Path) -> Path:
    """One row per student: status, notes, points per check, total and maximum.

    A check's cell is empty, not 0, when the hand-in was never graded.
    """
    # a folder name that was not UTF-8 is written with its odd bytes escaped, never lost or fatal
    with destination.open("w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "status", *points, "total", "max_score", "notes"])
        for row in rows:
            scores = [format_number(row.cells.get(check, 0.0)) for check in points] + [format_number(row.total)] \
                if row.graded else [""] * (len(points) + 1)
            writer.writerow([spreadsheet_safe(row.student), row.status, *scores, format_number(sum(points.values())),
                             spreadsheet_safe("; ".join(row.notes))])
    return destination

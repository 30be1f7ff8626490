"""Scores out of the gradebook: per student, per exercise, as a table."""

from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from coursetools import course, notebooks


@dataclass(frozen=True)
class StudentScores:
    student: str
    cells: dict[str, float]  # grade id -> points scored; empty when never graded

    def exercise(self, name: str) -> float:
        return sum(score for grade_id, score in self.cells.items() if notebooks.exercise_of(grade_id) == name)

    @property
    def total(self) -> float:
        return sum(self.cells.values())


def read_scores(root: Path, students: list[str]) -> list[StudentScores]:
    """Per-cell scores of each student's autograded notebook, straight from the gradebook."""
    rows = []
    with Gradebook(course.gradebook_url(root)) as gradebook:
        for student in students:
            try:
                submission = gradebook.find_submission_notebook(course.NOTEBOOK, course.ASSIGNMENT, student)
            except MissingEntry:
                rows.append(StudentScores(student, {}))
                continue
            rows.append(StudentScores(student, {g.name: g.score for g in submission.grades if g.cell_type == "code"}))
    return rows


def format_number(value: float) -> str:
    return f"{value:g}"


def format_table(rows: list[StudentScores], points: dict[str, float], problems: dict[str, str]) -> str:
    """A plain-text table: one row per student, one column per exercise, then the total."""
    exercises = list(dict.fromkeys(notebooks.exercise_of(g) for g in points))
    maxima = {e: sum(p for g, p in points.items() if notebooks.exercise_of(g) == e) for e in exercises}
    header = ["student", *(f"{e.upper()} /{format_number(maxima[e])}" for e in exercises),
              f"total /{format_number(sum(points.values()))}", "status"]
    body = []
    for row in rows:
        if row.student in problems:
            body.append([row.student, *("-" for _ in exercises), "-", f"not graded: {problems[row.student]}"])
        else:
            body.append([row.student, *(format_number(row.exercise(e)) for e in exercises),
                         format_number(row.total), "graded"])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header) - 1)]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) \
            + "  " + cells[-1]

    rule = "-" * (sum(widths) + 2 * len(widths) + len("status"))
    return "\n".join([line(header), rule, *(line(r) for r in body)])

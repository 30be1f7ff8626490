"""How the class did, for the instructor: `report/index.html`, and a grade file an LMS can import.

`make grade` writes both after every run, from the same rows as the score
table (`coursetools.report`).

The page is one self-contained file: its charts are PNG images drawn with
matplotlib and embedded in it, it has no script and loads nothing (its
content security policy forbids it), so it opens offline and can be mailed
or archived as it is. Every text from a hand-in (ids, notes) is escaped.
It shows the distribution of totals, each check's pass rate, each
exercise's mean, the common wrong results, how many hand-ins ended in each
status, the hand-ins that need the instructor (not graded, flagged for
review, timed out or stopped by a dead kernel), and what students said.

The common wrong results come from the graded hand-ins' autograded
notebooks, read as data: for each computed result, the value each student's
answer cell left (`coursetools.engine.computed_values`). The wrong ones,
equal within the result's tolerance grouped together, are counted, the most
common first, each with its likely cause where a known mistake gives it
(`coursetools.wrong_results`). Hand-ins with no value for a result (the cell
raised, the name was missing, or it held no plain numbers) are counted on a
line of their own.

"What students said" holds the answers to the notebook's optional closing
questions (`coursetools.reflection`), read from the same notebooks and
shown without ids or names: how many answered, the median time taken and
how many took how long, and what was unclear, each different answer once
with how many gave it.

`lms_grades.csv` has one row per student: per roster student when there is
a roster (`roster.csv`), else per folder in submitted/. Its columns:

- `id`: the student's id, as on the roster and in submitted/;
- `first_name`, `last_name`, `email`: from the roster, empty without one;
- `total`: points scored, empty when the hand-in was not graded (missing,
  refused, or grading failed: the status in scores.csv says which);
- `max_score`: the points the assignment is out of.
"""

import base64
import csv
import html
import io
import statistics
from collections import Counter
from pathlib import Path

import matplotlib
import nbformat

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from coursetools import course, intake, reflection, roster, wrong_results  # noqa: E402
from coursetools.engine import answer_key, computed_values, handin  # noqa: E402
from coursetools.engine.export import spreadsheet_safe  # noqa: E402
from coursetools.report import StudentScores, exercise_maxima, format_number  # noqa: E402

REPORT_FOLDER = "report"
REPORT_PAGE = "index.html"
LMS_CSV = "lms_grades.csv"
LMS_COLUMNS = ["id", "first_name", "last_name", "email", "total", "max_score"]
# What a browser may do with the page: show its own styles and embedded images, nothing else
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
# Statuses that call for the instructor, whatever the score
ATTENTION_STATUSES = (intake.NEEDS_REVIEW, intake.TIMED_OUT, intake.KERNEL_DIED, intake.TAMPERED, intake.STOPPED,
                      intake.NOT_GRADED)
BAR_COLOUR, MEAN_COLOUR = "#3b6ea8", "#c8553d"
COMMON_WRONG_RESULTS = 5  # rows per computed result: the ones worth a word in class
SHOWN_DIGITS = 6  # significant digits of a value on the page: float noise never shows


def needs_attention(row: StudentScores) -> bool:
    return (not row.graded or bool(row.review) or row.status in ATTENTION_STATUSES
            or roster.NOT_ON_ROSTER in row.notes)


def png(figure) -> str:
    """A figure as a data: URL, with no date or version in it, so that the same class draws the same bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def totals_chart(totals: list[float], maximum: float) -> str:
    figure, axes = plt.subplots(figsize=(6.4, 2.8))
    axes.hist(totals, bins=[x - 0.5 for x in range(int(maximum) + 2)], color=BAR_COLOUR, edgecolor="white")
    axes.set_xlim(-0.5, maximum + 0.5)
    axes.set_xlabel(f"total points (out of {format_number(maximum)})")
    axes.set_ylabel("hand-ins")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    return png(figure)


def pass_rate_chart(rates: dict[str, float]) -> str:
    names = list(rates)[::-1]  # the first check at the top
    figure, axes = plt.subplots(figsize=(6.4, 0.24 * len(names) + 0.8))
    axes.barh(names, [100 * rates[name] for name in names], color=BAR_COLOUR)
    axes.set_xlim(0, 100)
    axes.set_xlabel("hand-ins passing the check (%)")
    axes.tick_params(axis="y", labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return png(figure)


def means_chart(means: dict[str, float], maxima: dict[str, float]) -> str:
    names = list(means)
    figure, axes = plt.subplots(figsize=(6.4, 2.6))
    axes.bar([n.upper() for n in names], [maxima[n] for n in names], color="#dde5ee", label="maximum")
    axes.bar([n.upper() for n in names], [means[n] for n in names], color=MEAN_COLOUR, width=0.5, label="mean")
    axes.set_ylabel("points")
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return png(figure)


def summary_numbers(rows: list[StudentScores], points: dict[str, float]) -> dict:
    graded = [row for row in rows if row.graded]
    maxima = exercise_maxima(points)
    return {
        "graded": graded,
        "maximum": sum(points.values()),
        "maxima": maxima,
        "pass_rates": {check: (sum(row.cells.get(check, 0.0) >= value for row in graded) / len(graded))
                       for check, value in points.items()} if graded else {},
        "means": {exercise: sum(row.exercise(exercise) for row in graded) / len(graded)
                  for exercise in maxima} if graded else {},
        "statuses": Counter(row.status for row in rows),
    }


def table(header: list[str], body: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in body)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def graded_notebooks(root: Path, rows: list[StudentScores]) -> dict[str, object]:
    """Each graded hand-in's autograded notebook, by student id; one that cannot be read is left out.

    nbgrader wrote these files, but from a student's notebook: they are read as
    data, never followed through a link, and only up to the hand-in size limit.
    """
    graded = {}
    for row in rows:
        if not row.graded:
            continue
        try:
            text = handin.read_regular_file(course.autograded_notebook(root, row.student))
            graded[row.student] = nbformat.reads(text.decode("utf-8"), as_version=4)
        except (handin.Refused, OSError, UnicodeDecodeError, ValueError, RecursionError):  # JSON nested too deep
            continue
    return graded


def shown_value(value) -> str:
    """A number, or a list of them, to `SHOWN_DIGITS` significant digits: the same value always reads the same."""
    if isinstance(value, list):
        return "[" + ", ".join(shown_value(item) for item in value) + "]"
    text = f"{value:.{SHOWN_DIGITS}g}"
    return "0" if text == "-0" else text


def value_order(value) -> tuple:
    """A sort key for plain values of any shape: by shape, then by the numbers."""
    def shape(v) -> str:
        return "[" + ",".join(shape(item) for item in v) + "]" if isinstance(v, list) else "n"

    def numbers(v) -> tuple:
        return tuple(x for item in v for x in numbers(item)) if isinstance(v, list) else (v,)
    return shape(value), numbers(value)


def grouped_values(values: list) -> list[tuple[object, int]]:
    """Values equal within the computed results' tolerance counted as one, the most common first.

    Each group is named by its lowest value, so the grouping and the order
    depend on the values only, never on which student came first.
    """
    groups: list[list] = []
    for value in sorted(values, key=value_order):
        same = next((group for group in groups
                     if answer_key.matches(value, group[0], answer_key.COMPUTED_TOLERANCE)), None)
        if same is None:
            groups.append([value, 1])
        else:
            same[1] += 1
    return sorted(((value, count) for value, count in groups), key=lambda g: (-g[1], value_order(g[0])))


def hand_ins(count: int) -> str:
    return f"{count} hand-in" if count == 1 else f"{count} hand-ins"


def wrong_results_of(check: str, recorded: list[dict]) -> tuple[list, int]:
    """The wrong values hand-ins gave for the result `check` checks, and how many hand-ins gave none."""
    expected = answer_key.CHECKS[check]
    values = [computed[check] for computed in recorded if check in computed]
    wrong = [value for value in values if not answer_key.matches(value, expected.expected, expected.tolerance)]
    return wrong, len(recorded) - len(values)


def wrong_results_section(checks: list[str], notebooks_by_student: dict[str, object]) -> list[str]:
    """For each computed result in `checks`, its most common wrong values among the autograded notebooks."""
    section = ["<h2>Common wrong results</h2>"]
    recorded = [computed_values.recorded(nb) for _, nb in sorted(notebooks_by_student.items())]
    if not recorded:
        return section + ["<p>No graded hand-in's autograded notebook could be read.</p>"]
    section.append("<p>For each computed result, the wrong values the graded hand-ins' answer cells left in it, "
                   "the most common first (values within the result's tolerance count as one), with the mistake "
                   "that gives each where one is known.</p>")
    for check in checks:
        computation = answer_key.COMPUTATIONS[check]
        result = html.escape(computation.result)
        wrong, no_value = wrong_results_of(check, recorded)
        section += [f"<h3>{html.escape(computation.title)}: <code>{result}</code></h3>",
                    f"<p>Expected {html.escape(shown_value(answer_key.CHECKS[check].expected))}; wrong in "
                    f"{len(wrong)} of {hand_ins(len(recorded) - no_value)} with a value.</p>"]
        if wrong:
            section.append(table(["wrong value", "students", "likely cause"], [
                [shown_value(value), str(count), " or ".join(wrong_results.likely_causes(check, value)) or "unknown"]
                for value, count in grouped_values(wrong)[:COMMON_WRONG_RESULTS]]))
        if no_value:
            section.append(f"<p>{hand_ins(no_value)} had no value for <code>{result}</code> (the answer cell "
                           "raised or did not run, the name was missing, or it held no plain numbers).</p>")
    return section


def answers_table(tallied) -> str:
    return table(["answer", "hand-ins"], [[text, str(count)] for text, count in tallied])


def reflection_section(summary: reflection.Summary | None) -> list[str]:
    """What students said, from the class's answers together: nothing in it says who wrote what."""
    section = ["<h2>What students said</h2>"]
    if summary is None:
        return section + ["<p>The release has no closing questions, so there are no answers to show.</p>"]
    section.append(f"<p>The optional questions at the end of the notebook: {summary.answered} of "
                   f"{summary.hand_ins} graded hand-ins answered. Answers are shown together, without names, "
                   "the most given first.</p>")
    section.append("<h3>How long the notebook took</h3>")
    if summary.times:
        median = html.escape(reflection.duration(summary.median))
        section.append(f"<p>{len(summary.times)} answers read as a time, median {median}; "
                       f"{summary.unreadable_times} could not be read as a time.</p>")
        section.append(table(["time taken", "hand-ins"], [[band, str(count)] for band, count in summary.bands()]))
    else:
        section.append(f"<p>No answer read as a time; {summary.unreadable_times} could not be read as a time.</p>")
    section.append("<h3>What was unclear</h3>")
    section.append(answers_table(summary.unclear) if summary.unclear else "<p>No answers.</p>")
    if summary.elsewhere:
        section += ["<h3>Written elsewhere in the questions' cell</h3>",
                    "<p>Text under neither question, where a student edited or removed the questions.</p>",
                    answers_table(summary.elsewhere)]
    return section


def class_reflection(handed_in: dict[str, object], hand_ins: int, release: str | None) -> reflection.Summary | None:
    if release is None:
        return None
    return reflection.summarise([reflection.answers_of(nb, release) for nb in handed_in.values()], hand_ins)


def page(rows: list[StudentScores], points: dict[str, float], names: dict[str, str],
         graded: dict[str, object] | None = None, release_reflection: str | None = None) -> str:
    """The report page; `graded` holds the autograded notebooks (`graded_notebooks`) the sections
    on what students wrote are read from, `release_reflection` the closing questions as handed out
    (`reflection.release_text`), which their answers are told apart from."""
    notebooks_by_student = graded or {}
    numbers = summary_numbers(rows, points)
    graded, maximum = numbers["graded"], numbers["maximum"]
    sections = [f"<p>{len(rows)} students; {len(graded)} hand-ins graded, out of {format_number(maximum)} points."]
    if graded:
        totals = [row.total for row in graded]
        sections[0] += (f" Mean total {statistics.fmean(totals):.2f}, "
                        f"median {format_number(statistics.median(totals))}.</p>")
        sections += [
            "<h2>Totals</h2>", figure(totals_chart(totals, maximum), "Histogram of the graded hand-ins' totals"),
            "<h2>Each exercise</h2>",
            figure(means_chart(numbers["means"], numbers["maxima"]), "Mean points of each exercise next to its maximum"),
            table(["exercise", "mean", "maximum"],
                  [[e.upper(), f"{m:.2f}", format_number(numbers["maxima"][e])] for e, m in numbers["means"].items()]),
            "<h2>Each check</h2>",
            figure(pass_rate_chart(numbers["pass_rates"]), "Share of graded hand-ins passing each check"),
            table(["check", "points", "passing"],
                  [[check, format_number(points[check]), f"{100 * rate:.0f}%"]
                   for check, rate in numbers["pass_rates"].items()]),
        ]
        graded_ids = {row.student for row in graded}
        sections += wrong_results_section(
            [check for check in points if check in answer_key.COMPUTATIONS],
            {student: nb for student, nb in notebooks_by_student.items() if student in graded_ids})
    else:
        sections[0] += "</p>"
    sections += ["<h2>Statuses</h2>",
                 table(["status", "students"], [[status, str(count)] for status, count in sorted(numbers["statuses"].items())])]
    attention = [row for row in rows if needs_attention(row)]
    sections.append("<h2>Hand-ins that need you</h2>")
    if attention:
        sections.append(table(["student", "name", "status", "total", "flagged checks", "notes"], [
            [row.student, names.get(row.student, ""), row.status, format_number(row.total) if row.graded else "",
             ", ".join(row.review), "; ".join(row.notes)] for row in attention]))
    else:
        sections.append("<p>None: every hand-in was graded, and nothing was flagged.</p>")
    sections += reflection_section(class_reflection(notebooks_by_student, len(graded), release_reflection))
    body = "\n".join(sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<title>Building blocks of a neural network: how the class did</title>
<style>
body {{ font-family: sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }}
th, td {{ border-bottom: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }}
img {{ max-width: 100%; }}
</style>
</head>
<body>
<h1>Building blocks of a neural network: how the class did</h1>
{body}
</body>
</html>
"""


def figure(source: str, description: str) -> str:
    return f'<p><img src="{source}" alt="{html.escape(description)}"></p>'


def write_lms_csv(rows: list[StudentScores], points: dict[str, float], class_list, destination: Path) -> Path:
    by_id = {row.student: row for row in rows}
    roster_of = {student.id: student for student in class_list or []}
    ids = list(roster_of) if class_list is not None else [row.student for row in rows]
    with destination.open("w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = csv.writer(handle)
        writer.writerow(LMS_COLUMNS)
        for student_id in ids:
            row, person = by_id.get(student_id), roster_of.get(student_id)
            total = format_number(row.total) if row is not None and row.graded else ""
            writer.writerow([spreadsheet_safe(value) for value in (
                student_id, person.first_name if person else "", person.last_name if person else "",
                person.email if person else "", total, format_number(sum(points.values())))])
    return destination


def write(root: Path, rows: list[StudentScores], points: dict[str, float], class_list=None) -> tuple[Path, Path]:
    """The report page and the LMS grade file; returns their paths."""
    names = {student.id: student.name for student in class_list or []}
    folder = root / REPORT_FOLDER
    folder.mkdir(exist_ok=True)
    report_page = folder / REPORT_PAGE
    report_page.write_text(page(rows, points, names, graded_notebooks(root, rows), reflection.release_text(root)),
                           encoding="utf-8", errors="backslashreplace")
    return report_page, write_lms_csv(rows, points, class_list, root / LMS_CSV)

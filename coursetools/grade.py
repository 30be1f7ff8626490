"""Grade every hand-in in submitted/ and print the score table.

Regenerates release/ from source/, autogrades each student on their own,
writes feedback/ and grades.csv, then prints per-student, per-exercise
scores read back from the gradebook. Exits non-zero only when a step failed
for the whole course or a hand-in could not be graded, and says which.

Usage: python -m coursetools.grade [--root DIR] [--no-release]
"""

import argparse
import sys
import warnings
from pathlib import Path

from sqlalchemy.exc import SAWarning

from coursetools import course, intake, notebooks, pipeline, report
from coursetools.engine.handin import shown_name


# How much of nbgrader's log to show for a hand-in that could not be graded
LOG_LINES = 15


def main(argv=None) -> int:
    # nbgrader 0.9.6's gradebook trips SQLAlchemy 2's autoflush warning on every
    # grading; it changes nothing and would bury the table
    warnings.filterwarnings("ignore", category=SAWarning)
    parser = argparse.ArgumentParser(prog="python -m coursetools.grade", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=course.REPOSITORY_ROOT, help="course root (default: this repository)")
    parser.add_argument("--no-release", dest="release", action="store_false",
                        help="grade against the release as it is, without regenerating it from source/")
    parser.add_argument("--no-sandbox", dest="sandboxed", action="store_false",
                        help="run student code with your own permissions (only where no sandbox can run)")
    args = parser.parse_args(argv)
    root = args.root.resolve()

    students = course.submitted_students(root)
    if not students:
        print(f"Nothing to grade: {root / 'submitted'} has no student folders. "
              f"Put each hand-in at submitted/<student>/{course.ASSIGNMENT}/{course.NOTEBOOK}.ipynb.", file=sys.stderr)
        return 1
    try:
        outcomes = pipeline.grade_course(root, release=args.release, sandboxed=args.sandboxed,
                                         progress=lambda message: print(f"[grade] {message}", file=sys.stderr))
    except pipeline.GradingError as error:
        print(f"Grading stopped: {error}", file=sys.stderr)
        return 1

    for outcome in outcomes:
        if outcome.status == intake.NOT_GRADED:
            # the log can quote a hand-in's code or errors: printed line by line, without control characters
            tail = "\n".join(report.clean_note(line) for line in outcome.log.strip().splitlines()[-LOG_LINES:])
            print(f"--- end of nbgrader's log for {shown_name(outcome.student)} ---\n{tail}\n", file=sys.stderr)

    points = notebooks.test_points(notebooks.read(course.release_notebook(root)))
    rows = report.read_scores(root, outcomes)
    scores_csv = report.write_scores_csv(rows, points, root / report.SCORES_CSV)
    print(report.format_table(rows, points))
    print(f"\n{len(rows)} hand-ins: {report.summary(rows)}")
    print(f"per-check scores in {scores_csv}, nbgrader's export in {root / pipeline.GRADES_CSV}, "
          f"feedback in {root / 'feedback'}")
    ungraded = [row.student for row in rows if not row.graded]
    if ungraded:
        print(f"Not graded: {', '.join(map(shown_name, ungraded))}. The notes under the table say why and what to ask for; "
              f"replace those hand-ins in submitted/ and rerun `make grade`.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

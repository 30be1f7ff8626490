"""Grade every hand-in in submitted/ and print the score table.

Regenerates release/ from source/, autogrades each student on their own,
in parallel on every core, writes feedback/ and grades.csv, then prints
per-student, per-exercise scores read back from the gradebook. A hand-in
graded before exactly as it is now keeps that grading (--force regrades
it). Exits non-zero only when a step failed for the whole course or a
hand-in could not be graded, and says which.

Usage: python -m coursetools.grade [--root DIR] [--jobs N] [--student ID ...] [--force]
                                   [--scheduler tcp://HOST:8786 --db postgresql://...] [--no-release]
"""

import argparse
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

from sqlalchemy.exc import SAWarning

from coursetools import class_report, course, intake, notebooks, pipeline, report, roster
from coursetools.engine.handin import shown_name
from coursetools.progress import ConsoleProgress


# How much of nbgrader's log to show for a hand-in that could not be graded
LOG_LINES = 15


CGROUP = Path("/sys/fs/cgroup")


def cpu_quota(cgroup: Path = CGROUP) -> float | None:
    """The CPUs this process's control group may use, as a container or a batch job's limit sets
    them (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us` over `cpu.cfs_period_us`); None if unlimited."""
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()
    except (OSError, ValueError):
        try:
            quota = (cgroup / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (cgroup / "cpu" / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    try:
        if quota in ("max", "-1") or int(period) <= 0 or int(quota) <= 0:
            return None
        return int(quota) / int(period)
    except ValueError:
        return None


def default_jobs(cgroup: Path = CGROUP) -> int:
    """One job per core this process may run on, and one more: a job spends part of its time
    waiting on its kernel or its rerun, and the extra job fills those moments. A CPU quota (a
    container's, a batch job's) counts as that many cores, rounded up."""
    cores = len(os.sched_getaffinity(0))
    quota = cpu_quota(cgroup)
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return cores + 1


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def from_make(args) -> None:
    """`make grade STUDENT=... SCHEDULER=... DB=...` hands these over in the environment; flags win."""
    students = [name for name in os.environ.get("COURSE_GRADE_STUDENTS", "").split(",") if name]
    args.student = args.student or students or None
    args.scheduler = args.scheduler or os.environ.get("COURSE_GRADE_SCHEDULER", "")
    args.db = args.db or os.environ.get("COURSE_GRADE_DB", "")


def write_timings(destination: Path, outcomes, wall: float) -> None:
    """Where each hand-in's grading time went, for the throughput benchmark."""
    graded_now = {o.student: o.timings for o in outcomes if o.timings and not o.unchanged}
    destination.write_text(json.dumps({"students": graded_now, "wall": round(wall, 3)}, indent=1))


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
    parser.add_argument("--jobs", type=positive, default=default_jobs(),
                        help="hand-ins graded at once on this machine (default: one per core, plus one)")
    parser.add_argument("--student", action="append", metavar="ID",
                        help="grade only this student (repeat for more); everyone else's rows stay as they were")
    parser.add_argument("--force", action="store_true",
                        help="grade again hand-ins that have not changed since their last grading")
    parser.add_argument("--scheduler", default="", metavar="URL",
                        help="grade on the workers of this Dask scheduler (tcp://host:8786) instead of this machine")
    parser.add_argument("--db", default="", metavar="URL",
                        help="keep the gradebook in this database (postgresql://user@host/name); "
                             "a cluster needs one every worker can reach")
    parser.add_argument("--timings", type=Path, metavar="FILE",
                        help="write the seconds each hand-in spent in each grading phase to FILE (JSON)")
    args = parser.parse_args(argv)
    from_make(args)
    root = args.root.resolve()
    if args.db:  # nbgrader_config.py reads it: nbgrader's steps and the workers use this gradebook too
        os.environ[course.GRADEBOOK_URL_VARIABLE] = args.db

    students = course.submitted_students(root)
    if not students:
        print(f"Nothing to grade: {root / 'submitted'} has no student folders. "
              f"Put each hand-in at submitted/<student>/{course.ASSIGNMENT}/{course.NOTEBOOK}.ipynb.", file=sys.stderr)
        return 1
    started = time.perf_counter()
    try:
        outcomes = pipeline.grade_course(root, release=args.release, sandboxed=args.sandboxed,
                                         progress=ConsoleProgress(), jobs=args.jobs, only=args.student,
                                         force=args.force, scheduler=args.scheduler)
    except pipeline.GradingError as error:
        print(f"Grading stopped: {error}", file=sys.stderr)
        return 1
    if args.timings:
        write_timings(args.timings, outcomes, time.perf_counter() - started)

    for outcome in outcomes:
        if outcome.status == intake.NOT_GRADED:
            # the log can quote a hand-in's code or errors: printed line by line, without control characters
            tail = "\n".join(report.clean_note(line) for line in outcome.log.strip().splitlines()[-LOG_LINES:])
            print(f"--- end of nbgrader's log for {shown_name(outcome.student)} ---\n{tail}\n", file=sys.stderr)

    points = notebooks.test_points(notebooks.read(course.release_notebook(root)))
    rows = report.read_scores(pipeline.load_config(root).CourseDirectory.db_url, outcomes)
    scores_csv = report.write_scores_csv(rows, points, root / report.SCORES_CSV)
    report_page, lms_csv = class_report.write(root, rows, points, roster.read(root))
    print(report.format_table(rows, points))
    print(f"\n{len(rows)} hand-ins: {report.summary(rows)}")
    print(f"per-check scores in {scores_csv}, nbgrader's export in {root / pipeline.GRADES_CSV}, "
          f"feedback in {root / 'feedback'}")
    print(f"how the class did in {report_page}, grades for an LMS in {lms_csv}")
    # a run for some students answers for them; the others' rows are shown as they were
    # (a roster student with no folder in submitted/ handed nothing in: a row, not a grading failure)
    ungraded = [row.student for row in rows if not row.graded and row.student in students
                and (not args.student or row.student in args.student)]
    if ungraded:
        print(f"Not graded: {', '.join(map(shown_name, ungraded))}. The notes under the table say why and what to ask for; "
              f"replace those hand-ins in submitted/ and rerun `make grade`.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the sandbox costs: grade the same hand-ins sandboxed and unsandboxed, side by side.

Each round grades the demo students in two fresh copies of the course, one
per mode, in alternating order so that machine noise hits both alike, and
times the whole `coursetools.grade` command. Prints per-submission seconds
for each mode and their ratio, median over the rounds.

Usage: .venv/bin/python benchmarks/sandbox_overhead.py [--rounds N]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coursetools import course  # noqa: E402  (needs the repository on sys.path)

MODES = {"sandboxed": [], "unsandboxed": ["--no-sandbox"]}


def time_grading(flags: list[str]) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        root = course.copy_course(Path(scratch) / "course")
        # a first run fills the gradebook; the timed run regrades, as an instructor's rerun does
        command = [sys.executable, "-m", "coursetools.grade", "--root", str(root), *flags]
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        start = time.perf_counter()
        subprocess.run([*command, "--no-release"], cwd=ROOT, capture_output=True, check=True)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    course.environment_bin_on_path()
    students = len(course.submitted_students(ROOT))
    times = {mode: [] for mode in MODES}
    for round_number in range(args.rounds):
        order = list(MODES) if round_number % 2 == 0 else list(reversed(MODES))
        for mode in order:
            times[mode].append(time_grading(MODES[mode]) / students)
    medians = {mode: statistics.median(values) for mode, values in times.items()}
    for mode, value in medians.items():
        print(f"{mode:12s} {value:.3f} s per submission (median of {args.rounds} rounds of {students})")
    print(f"ratio        {medians['sandboxed'] / medians['unsandboxed']:.2f}x "
          f"(+{medians['sandboxed'] - medians['unsandboxed']:.3f} s per submission)")


if __name__ == "__main__":
    main()

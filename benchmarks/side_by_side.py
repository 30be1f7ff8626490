"""Time `coursetools.grade` on the demo students in several configurations, interleaved, and compare.

Each round regrades the demo students in a fresh copy of the course per
mode, in alternating order so that machine noise hits every mode alike. A
mode is extra command-line flags and extra lines for the copy's
nbgrader_config.py. Results are per submission, median over the rounds.
"""

import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coursetools import course  # noqa: E402  (needs the repository on sys.path)


@dataclass(frozen=True)
class Mode:
    flags: tuple = ()
    config: str = ""  # appended to the copy's nbgrader_config.py


def time_grading(mode: Mode) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        root = course.copy_course(Path(scratch) / "course")
        with open(root / "nbgrader_config.py", "a", encoding="utf-8") as config:
            config.write("\n" + mode.config + "\n")
        # a first run fills the gradebook; the timed run regrades, as an instructor's rerun does
        command = [sys.executable, "-m", "coursetools.grade", "--root", str(root), *mode.flags]
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        start = time.perf_counter()
        subprocess.run([*command, "--no-release"], cwd=ROOT, capture_output=True, check=True)
        return time.perf_counter() - start


def compare(modes: dict[str, Mode], rounds: int) -> dict[str, float]:
    """Median seconds per submission of each mode; prints them and each mode's ratio to the first."""
    course.environment_bin_on_path()
    students = len(course.submitted_students(ROOT))
    times = {name: [] for name in modes}
    for round_number in range(rounds):
        order = list(modes) if round_number % 2 == 0 else list(reversed(modes))
        for name in order:
            times[name].append(time_grading(modes[name]) / students)
    medians = {name: statistics.median(values) for name, values in times.items()}
    baseline = list(modes)[-1]
    for name, value in medians.items():
        print(f"{name:24s} {value:.3f} s per submission (median of {rounds} rounds of {students})")
    for name, value in medians.items():
        if name != baseline:
            print(f"{name} / {baseline}: {value / medians[baseline]:.2f}x "
                  f"(+{value - medians[baseline]:.3f} s per submission)")
    return medians

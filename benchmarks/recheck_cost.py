"""What the recheck costs per hand-in: grade with the full engine and with nbgrader's stock steps, side by side.

"Without" swaps the course's autograde steps for nbgrader's own: its
Execute (no read-back, no failure isolation), no Recheck, no review flag.
Both modes run in the sandbox, so the difference is the read-back and the
rerun on secret inputs.

Usage: .venv/bin/python benchmarks/recheck_cost.py [--rounds N]
"""

import argparse

from side_by_side import Mode, compare

WITHOUT_RECHECK = """
from nbgrader.preprocessors import Execute
c.Autograde.autograde_preprocessors = [Execute if step is GradingExecute else step
                                       for step in c.Autograde.autograde_preprocessors
                                       if step not in (Recheck, FlagForReview)]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    compare({"with the recheck": Mode(), "without the recheck": Mode(config=WITHOUT_RECHECK)}, args.rounds)


if __name__ == "__main__":
    main()

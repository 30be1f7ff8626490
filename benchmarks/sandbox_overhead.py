"""What the sandbox costs: grade the same hand-ins sandboxed and unsandboxed, side by side.

Usage: .venv/bin/python benchmarks/sandbox_overhead.py [--rounds N]
"""

import argparse

from side_by_side import Mode, compare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    compare({"sandboxed": Mode(), "unsandboxed": Mode(flags=("--no-sandbox",))}, args.rounds)


if __name__ == "__main__":
    main()

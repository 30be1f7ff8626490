"""Where one hand-in's grading time goes, phase by phase.

The grading job resets the tally before each student and reads it after;
the engine's steps add to it as they run. `coursetools.grade --timings FILE`
writes the figures, and `benchmarks/throughput.py` sums them up.
"""

import contextlib
import time

PHASES = ("intake", "kernel_start", "execution", "recheck", "feedback", "gradebook")

_spent: dict[str, float] = {}


def reset() -> None:
    _spent.clear()


def add(phase: str, seconds: float) -> None:
    _spent[phase] = _spent.get(phase, 0.0) + seconds


@contextlib.contextmanager
def phase(name: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        add(name, time.perf_counter() - start)


def spent() -> dict[str, float]:
    return {name: round(seconds, 4) for name, seconds in _spent.items()}

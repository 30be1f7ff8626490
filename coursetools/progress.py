"""How far a batch has got: a progress bar on a terminal, plain periodic lines anywhere else.

The bar and the figures on the plain lines (count, rate, time left) are
tqdm's; each shows the students with problems so far, so an instructor can
start looking at them before the batch ends.
"""

import sys
import time

from tqdm import tqdm

from coursetools import intake
from coursetools.engine.handin import shown_name

# Statuses that need no one's attention
FINE = (intake.GRADED, intake.RENAMED)
# Seconds between plain progress lines (a CI log should show life, not one line per student)
PLAIN_INTERVAL = 10.0
NAMES_SHOWN = 5


class Progress:
    """Tells nobody anything: the default for callers that do not want to hear."""

    def message(self, text: str) -> None:
        pass

    def start(self, total: int) -> None:
        pass

    def done(self, outcome) -> None:
        pass

    def close(self) -> None:
        pass


class ConsoleProgress(Progress):
    """Progress on a stream: tqdm's bar when it is a terminal, a line every `interval` seconds otherwise."""

    def __init__(self, stream=None, interval: float = PLAIN_INTERVAL):
        self.stream = stream or sys.stderr
        self.interval = interval
        self.bar = None
        self.total = self.count = self.unchanged = 0
        self.problems: list[str] = []
        self.started = self.last_line = 0.0

    def message(self, text: str) -> None:
        line = f"[grade] {text}"
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def start(self, total: int) -> None:
        self.total, self.started = total, time.monotonic()
        self.last_line = self.started
        if self.stream.isatty():
            self.bar = tqdm(total=total, unit="hand-in", file=self.stream, dynamic_ncols=True, smoothing=0.1,
                            desc="grading")
        else:
            self.message(f"grading {total} hand-ins")

    def done(self, outcome) -> None:
        self.count += 1
        self.unchanged += outcome.unchanged
        if outcome.status not in FINE:
            self.problems.append(f"{shown_name(outcome.student)} ({outcome.status})")
            if self.bar is None:  # a log reader sees each problem as it happens
                self.message(f"{shown_name(outcome.student)}: {outcome.status}")
        if self.bar is not None:
            self.bar.set_postfix_str(self.postfix(), refresh=False)
            self.bar.update(1)
        elif time.monotonic() - self.last_line >= self.interval or self.count == self.total:
            self.last_line = time.monotonic()
            meter = tqdm.format_meter(self.count, self.total, self.last_line - self.started, unit="hand-in", ncols=0)
            self.message(f"{meter} {self.postfix()}".rstrip())

    def postfix(self) -> str:
        parts = [f"{self.unchanged} unchanged"] if self.unchanged else []
        if self.problems:
            names = ", ".join(self.problems[-NAMES_SHOWN:])
            more = f" (latest: {names})" if len(self.problems) > NAMES_SHOWN else f": {names}"
            parts.append(f"{len(self.problems)} with problems{more}")
        return "; ".join(parts)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

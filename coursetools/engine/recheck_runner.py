"""Run a hand-in's code cells once more, with each exercise's inputs pinned to secret values.

Runs inside the sandbox (`recheck.py` starts it as `python -I -O -c SOURCE`), so
it imports nothing from the course. The plan arrives on stdin as JSON: the
code cells in notebook order, the exercise each belongs to, the secret value
of every pinned name per exercise, and where to read each result. Reports
leave as JSON lines on a copy of stdout taken before any student code runs;
everything the student's code prints goes nowhere.

Pinning: within an exercise, whatever the student assigns to a pinned name
is replaced by the secret value, in the same form the student chose (list,
tuple, NumPy array of the same dtype, number). So a result computed from the
names follows the secret values however it is written: in one cell or many,
with the values restated before the computation, or through helper lists
built from the names in earlier cells.
"""

import json
import numbers
import os
import signal
import sys

import numpy


def like(value, secret):
    """`secret` in the form of the student's `value`, or None when their shapes differ."""
    if isinstance(value, numpy.ndarray):
        if value.shape != numpy.shape(secret):
            return None
        dtype = value.dtype if numpy.issubdtype(value.dtype, numpy.inexact) else float
        return numpy.array(secret, dtype=dtype)
    if isinstance(secret, list):
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__") or len(value) != len(secret):
            return None
        items = [like(v, s) for v, s in zip(value, secret)]
        if any(item is None for item in items):
            return None
        if type(value) in (list, tuple):
            return type(value)(items)
        try:
            return type(value)(items)
        except Exception:
            return items
    if isinstance(value, numpy.generic) and numpy.ndim(value) == 0:
        return value.dtype.type(secret) if numpy.issubdtype(value.dtype, numpy.inexact) else numpy.float64(secret)
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return None
    if isinstance(value, (int, float)):
        return float(secret)
    try:
        return type(value)(secret)
    except Exception:
        return float(secret)


class PinnedNamespace(dict):
    """The student's namespace, in which assignments to pinned names take the secret values."""

    def __init__(self):
        super().__init__()
        self.pins = {}  # name -> secret value, for the exercise running now

    def pin(self, pins):
        self.pins = dict(pins)
        for name, secret in self.pins.items():
            dict.__setitem__(self, name, secret)

    def __setitem__(self, name, value):
        if name in self.pins:
            pinned = like(value, self.pins[name])
            value = value if pinned is None else pinned  # a wrong shape stays the student's own
        dict.__setitem__(self, name, value)

    def __delitem__(self, name):
        if name not in self.pins:  # a pinned name stays (the fresh-start cells pop names too)
            dict.__delitem__(self, name)

    def pop(self, name, *default):
        if name in self.pins:
            return self[name]
        return dict.pop(self, name, *default)

    def repin(self):
        """Before each cell: pin again what changed since, however it changed.

        Catches what bypasses __setitem__: a list built with `append` after
        `inputs = []`, values set one element at a time, `global` in a
        function, `globals().update(...)`.
        """
        for name, secret in self.pins.items():
            current = dict.get(self, name)
            if plain(current) != secret:
                self[name] = current


# Taken before any student code runs, so patching the modules later changes nothing here
asarray, dumps = numpy.asarray, json.dumps


def plain(value):
    """Numbers and nested lists of floats, whatever the student stored; None if not numeric."""
    if value is None:
        return None
    try:
        return asarray(value, dtype=float).tolist()
    except Exception:
        return None


class CellTimedOut(Exception):
    pass


def on_alarm(signum, frame):
    raise CellTimedOut("the cell ran past its time limit")


def main():
    plan = json.loads(sys.stdin.read())
    report = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # student code reads nothing and prints nowhere
        os.dup2(devnull, fd)

    def send(message):
        report.write(dumps(message) + "\n")
        report.flush()

    from IPython.core.interactiveshell import InteractiveShell

    class Shell(InteractiveShell):
        def enable_gui(self, gui=None):
            """No event loop to hook into here: `%matplotlib inline` and friends draw nothing."""

    namespace = PinnedNamespace()
    shell = Shell.instance(user_ns=namespace)
    signal.signal(signal.SIGALRM, on_alarm)
    exercise = None
    for index, cell in enumerate(plan["cells"]):
        if cell["exercise"] != exercise:
            exercise = cell["exercise"]
            namespace.pin(plan["pins"].get(exercise or "", {}))
        if cell.get("read"):
            send({"check": cell["read"]["check"], "value": plain(namespace.get(cell["read"]["name"]))})
        namespace.repin()
        send({"cell": cell["index"]})  # progress, for the grader's watchdog
        signal.setitimer(signal.ITIMER_REAL, plan["cell_timeout"])
        try:
            result = shell.run_cell(cell["source"], store_history=False, silent=False)
        except BaseException as error:  # raised outside the cell's own code, e.g. by the alarm
            result = None
            failure = error
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if result is not None:
            failure = result.error_before_exec or result.error_in_exec
        if failure is not None and cell["student"]:
            send({"cell": cell["index"], "error": f"{type(failure).__name__}: {failure}"[:300]})
    send({"done": True})


if __name__ == "__main__":
    main()

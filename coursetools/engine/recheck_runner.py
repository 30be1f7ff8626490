"""Run a hand-in's code cells once more, with each exercise's inputs pinned to secret values.

Runs inside the sandbox (`recheck.py` starts it as `python -E -s -c SOURCE`),
so it imports nothing from the course. The plan arrives on stdin as JSON:
the code cells in notebook order, the exercise each belongs to, the secret
value of every pinned name per exercise, and where to read each result.
Reports leave as JSON lines on a copy of stdout taken before any student
code runs; everything the student's code prints goes nowhere.

Pinning (`PinnedNamespace`): within an exercise, the student's definition
of a pinned name, the lesson's values typed in, is replaced by the secret
values in the form the student chose (list, tuple, NumPy array of the same
dtype, their own class, number). A result computed from the names follows
the secret values however it is written: in one cell or many, with the
values stated again before the computation, or through helper lists built
from the names.

The rerun is an IPython shell like the kernel: magics work (the kernel's
own display magics do nothing here), and the student's folder is on
`sys.path`. A student's own assert that fails only because the values
changed (it passed in the kernel) does not stop the cell: the cell runs
again without its asserts.
"""

import ast
import builtins
import copy
import itertools
import json
import numbers
import os
import signal
import sys

import numpy

# This module's own built-ins: student code that patches `builtins.all` or `builtins.len`
# changes what student code sees, not how values are pinned and reported here
__builtins__ = dict(vars(builtins))

# Magics only the kernel has (they talk to the front end): here they do nothing
KERNEL_ONLY_MAGICS = ("autosave", "clear", "connect_info", "less", "man", "more", "qtconsole", "subshell")

# Taken before any student code runs, so patching the modules later changes nothing here
asarray, dumps, islice = numpy.asarray, json.dumps, itertools.islice
# A result of this lesson holds three numbers at most: an iterable with more items is no result, and an
# endless one (itertools.count()) must not fill the sandbox's memory while it is read
MAX_ITEMS = 1000


def plain(value):
    """Numbers and nested lists of floats, whatever the student stored; None if not numeric."""
    if value is None:
        return None
    try:
        return asarray(value, dtype=float).tolist()
    except Exception:
        pass
    try:  # iterables NumPy does not take as they are: dict views, classes with only __iter__
        items = list(islice(value, MAX_ITEMS + 1))
        if len(items) > MAX_ITEMS:
            return None
        return asarray([plain(item) for item in items], dtype=float).tolist()
    except Exception:
        return None


def same(a, b, tolerance=1e-6) -> bool:
    """Plain values equal within a typed-in value's tolerance."""
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(
            same(x, y, tolerance) for x, y in zip(a, b))
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= tolerance


def integral(secret) -> bool:
    return all(float(x).is_integer() for x in numpy.ravel(secret))


def like_number(value, secret):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(secret) if integral(secret) else float(secret)
    if isinstance(value, float):
        return float(secret)
    if isinstance(value, numpy.generic):
        keeps_type = numpy.issubdtype(value.dtype, numpy.inexact) or integral(secret)
        return value.dtype.type(secret) if keeps_type else numpy.float64(secret)
    for make in (lambda: type(value)(repr(secret)), lambda: type(value)(secret)):  # Decimal, Fraction, ...
        try:
            number = make()
            if float(number) == float(secret):
                return number
        except Exception:
            continue
    return float(secret)


def like_array(value, secret):
    if value.shape != numpy.shape(secret):
        return None
    keeps_type = numpy.issubdtype(value.dtype, numpy.inexact) or integral(secret)
    array = numpy.array(secret, dtype=value.dtype if keeps_type else float)
    if type(value) is not numpy.ndarray:  # np.matrix, masked arrays
        try:
            view = array.view(type(value))
            if view.shape == array.shape:
                return view
        except Exception:
            pass
    return array


def with_attributes_replaced(value, secret):
    """A copy of the student's own object whose attributes holding the values hold the secret ones."""
    copied = copy.copy(value)
    replaced = False
    for name, attribute in vars(copied).items():
        if same(plain(attribute), plain(value)):
            converted = like(attribute, secret)
            if converted is not None:
                setattr(copied, name, converted)
                replaced = True
    return copied if replaced else None


def rebuilt(value, items, secret):
    """A container of the student's own type holding `items`; a plain list when none can be made."""
    kind = type(value)
    if kind in (list, tuple):
        return kind(items)
    makers = [lambda: kind._make(items)] if hasattr(kind, "_make") else []  # namedtuple
    makers += [lambda: kind(items), lambda: kind(*items), lambda: with_attributes_replaced(value, secret)]
    for make in makers:
        try:
            candidate = make()
            if len(candidate) == len(items) and all(plain(a) == plain(b) for a, b in zip(candidate, items)):
                return candidate
        except Exception:
            continue
    return list(items)


def like(value, secret):
    """`secret` in the form of the student's `value`, or None when their shapes differ."""
    if isinstance(value, numpy.ndarray):
        return like_array(value, secret)
    if isinstance(secret, list):
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__") or len(value) != len(secret):
            return None
        try:
            items = [like(v, s) for v, s in zip(value, secret)]
        except Exception:
            return None
        return None if any(item is None for item in items) else rebuilt(value, items, secret)
    if isinstance(value, numbers.Number):
        return like_number(value, secret)
    return None


class PinnedNamespace(dict):
    """The student's namespace, in which the student's definitions of pinned names take the secret values.

    A definition is a value equal to the lesson's value for that name: what
    the student typed in. It is replaced by the secret value in the student's
    own form, when stored and whenever the name is read holding it (so
    `global`, `globals().update`, `append` and element-by-element setting are
    covered too). Any other value is the student's own and stays: a result
    accumulated in `bias`, products written over `weights`, a loop variable
    named `weights1`. When the exercise ends, names still holding the secret
    value get the student's own values back, for later exercises to reuse;
    lists that still carry an earlier exercise's secret values (kept in a
    helper list, or with `%store`) count as that exercise's lesson values.
    """

    def __init__(self):
        super().__init__()
        self._pins, self._originals = {}, {}  # name -> {"secret", "lesson"}; name -> the student's own value
        self._earlier = []  # (secret, lesson) of every list pinned so far

    def pin(self, pins):
        for name, original in self._originals.items():
            current = dict.get(self, name)
            if current is not None and same(plain(current), self._pins[name]["secret"]):
                dict.__setitem__(self, name, original)
        self._pins, self._originals = dict(pins), {}
        self._earlier += [(pin["secret"], pin["lesson"]) for pin in pins.values() if isinstance(pin["lesson"], list)]

    def as_lesson(self, value):
        """`value` with every list that is an earlier secret replaced by its lesson values."""
        if not isinstance(value, list):
            return value
        for secret, lesson in self._earlier:
            if same(value, secret):
                return lesson
        return [self.as_lesson(item) for item in value]

    def pinned(self, name, value):
        """The value to keep under `name`: the secret, if `value` is the student's definition of it."""
        pin = self._pins.get(name)
        if pin is None or not same(self.as_lesson(plain(value)), pin["lesson"]):
            return value
        converted = like(value, pin["secret"])
        if converted is None:
            return value
        self._originals[name] = value
        return converted

    def __setitem__(self, name, value):
        dict.__setitem__(self, name, self.pinned(name, value))

    def __getitem__(self, name):
        value = dict.__getitem__(self, name)
        if name in self._pins:
            pinned = self.pinned(name, value)
            if pinned is not value:  # defined some way that bypassed __setitem__
                dict.__setitem__(self, name, pinned)
            return pinned
        return value


class WithoutAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.copy_location(ast.Pass(), node)


class CellTimedOut(Exception):
    pass


def on_alarm(signum, frame):
    raise CellTimedOut("the cell ran past its time limit")


def make_shell(namespace):
    from IPython.core.interactiveshell import InteractiveShell

    class Shell(InteractiveShell):
        def enable_gui(self, gui=None):
            """No event loop to hook into here: `%matplotlib inline` and friends draw nothing."""

        # Nobody reads what the rerun prints, and the runner reports each error itself: formatting
        # tracebacks (with syntax colouring) only cost time, and with secret inputs every check fails
        def showtraceback(self, *args, **kwargs):
            """Shows nothing."""

        def showsyntaxerror(self, *args, **kwargs):
            """Shows nothing."""

    shell = Shell.instance(user_ns=namespace)
    shell.extension_manager.load_extension("storemagic")  # loaded in kernels too: %store
    for name in KERNEL_ONLY_MAGICS:
        if name not in shell.magics_manager.magics["line"]:
            shell.register_magic_function(lambda line: None, "line", name)
    return shell


def run(shell, source, timeout, without_asserts=False):
    """Run one cell under the alarm; the exception it raised, or None."""
    if without_asserts:
        shell.ast_transformers.append(WithoutAsserts())
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        result = shell.run_cell(source, store_history=False, silent=False)
        return result.error_before_exec or result.error_in_exec
    except BaseException as error:  # raised outside the cell's own code, e.g. by the alarm
        return error
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if without_asserts:
            shell.ast_transformers[:] = [t for t in shell.ast_transformers if not isinstance(t, WithoutAsserts)]


def main():
    plan = json.loads(sys.stdin.read())
    report = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # student code reads nothing and prints nowhere
        os.dup2(devnull, fd)

    def send(message):
        report.write(dumps(message) + "\n")
        report.flush()

    namespace = PinnedNamespace()
    shell = make_shell(namespace)
    signal.signal(signal.SIGALRM, on_alarm)
    exercise = None
    for cell in plan["cells"]:
        if cell["exercise"] != exercise:
            exercise = cell["exercise"]
            namespace.pin(plan["pins"].get(exercise or "", {}))
        if cell.get("read"):
            send({"check": cell["read"]["check"], "value": plain(namespace.get(cell["read"]["name"]))})
        send({"cell": cell["index"]})  # progress, for the grader's watchdog
        failure = run(shell, cell["source"], plan["cell_timeout"])
        if isinstance(failure, AssertionError) and cell["student"] and not cell["kernel_raised"]:
            failure = run(shell, cell["source"], plan["cell_timeout"], without_asserts=True)
        if failure is not None and cell["student"]:
            send({"cell": cell["index"], "error": f"{type(failure).__name__}: {failure}"[:300]})
    send({"done": True})


if __name__ == "__main__":
    main()

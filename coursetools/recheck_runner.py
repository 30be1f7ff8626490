"""Run a hand-in's cells in a process of their own and report the checked values as plain data.

Started by `coursetools.recheck` as a standalone script (`python -I`), with
the plan on stdin: the cells to run, in notebook order, and the checks to
read between them. Student cells have already passed `coursetools.safe_code`
and run here with a reduced set of built-ins. Values leave as JSON lines on a
copy of the original stdout, taken before any student code runs; student
output goes nowhere.
"""

import builtins
import io
import json
import os
import sys

import numpy


def plain(value):
    """Numbers and nested lists of floats, whatever the student stored; None if not numeric."""
    if value is numpy:
        return "numpy"
    try:
        return numpy.asarray(value, dtype=float).tolist()
    except Exception:
        return None


def like(original, replacement):
    """The replacement value in the same container type as the student's own."""
    if isinstance(original, numpy.ndarray):
        return numpy.asarray(replacement, dtype=float)
    if isinstance(original, tuple):
        return tuple(replacement)
    return replacement


def restricted_builtins(names):
    allowed = {name: getattr(builtins, name) for name in names if hasattr(builtins, name)}

    def limited_import(name, globals=None, locals=None, fromlist=(), level=0):
        if name not in ("numpy", "math") or level:
            raise ImportError(f"import of {name} is not allowed here")
        return builtins.__import__(name, globals, locals, fromlist, level)

    allowed["__import__"] = limited_import
    return allowed


def run_cell(code, namespace):
    try:
        exec(code, namespace)
    except BaseException:  # a failing cell fails only itself, as in the kernel
        pass


def main():
    plan = json.load(sys.stdin)
    report = io.open(os.dup(1), "w", encoding="utf-8")
    sink = open(os.devnull, "w")
    sys.stdout = sys.stderr = sink
    student_builtins = restricted_builtins(plan["builtins"])
    namespace = {"__builtins__": student_builtins}
    since_last_check, snapshot = [], dict(namespace)

    for step in plan["steps"]:
        if "source" in step:
            code = compile(step["source"], f"<cell {step['label']}>", "exec")
            namespace["__builtins__"] = builtins if step["trusted"] else student_builtins
            run_cell(code, namespace)
            namespace["__builtins__"] = student_builtins
            since_last_check.append((code, step["trusted"]))
            continue
        result = {"check": step["check"], "value": plain(namespace.get(step["name"]))}
        if step["perturbed"] is not None:
            # the same cells again, from the state before them, with other inputs
            rerun = dict(snapshot)
            rerun.update({name: like(rerun.get(name), value) for name, value in step["perturbed"].items()})
            for code, trusted in since_last_check:
                rerun["__builtins__"] = builtins if trusted else student_builtins
                run_cell(code, rerun)
            result["perturbed_value"] = plain(rerun.get(step["name"]))
        report.write(json.dumps(result) + "\n")
        report.flush()
        since_last_check, snapshot = [], dict(namespace)


if __name__ == "__main__":
    main()

"""Check every graded value again, outside the student's kernel, and take back points won by tampering.

nbgrader runs the hidden tests in the student's kernel, where student code
can patch NumPy, override `__eq__`, rewrite later cells with IPython input
transformers or type the expected output in directly. The recheck does not
trust that kernel: it runs the student's cells again in a separate process
(`recheck_runner`), lets only cells that pass `safe_code` run there, reads
each checked value back as plain numbers, compares them here against
`answer_key`, and reruns each computation on other inputs. A check keeps
nbgrader's points only when the recheck agrees.
"""

import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook

from coursetools import answer_key, course, notebooks, safe_code

RUNNER = Path(__file__).with_name("recheck_runner.py")
# The recheck runs the same small cells as the notebook: generous limits, but limits
WALL_SECONDS = 60
CPU_SECONDS = 30
MEMORY_BYTES = 4 * 1024**3


@dataclass
class Recheck:
    passed: dict[str, bool] = field(default_factory=dict)  # check id -> whether the recheck agrees
    notes: list[str] = field(default_factory=list)


def cell_label(cell, index: int) -> str:
    grade_id = notebooks.nbgrader_meta(cell).get("grade_id")
    return grade_id or f"added cell {index}"


def plan_for(graded_nb, source_nb) -> tuple[list[dict], list[str]]:
    """The cells to run and the checks to read, in notebook order; notes on cells left out."""
    trusted_sources = {notebooks.nbgrader_meta(c).get("grade_id"): c.source for c in source_nb.cells
                       if c.cell_type == "code" and notebooks.nbgrader_meta(c).get("locked")
                       and not notebooks.is_test_cell(c)}
    steps, notes, defined = [], [], set()
    for index, cell in enumerate(graded_nb.cells):
        if cell.cell_type != "code":
            continue
        grade_id = notebooks.nbgrader_meta(cell).get("grade_id")
        if notebooks.is_test_cell(cell):
            if grade_id in answer_key.CHECKS:
                check = answer_key.CHECKS[grade_id]
                steps.append({"check": grade_id, "name": check.name,
                              "perturbed": check.perturbed or None})
            continue
        label = cell_label(cell, index)
        if grade_id in trusted_sources and cell.source == trusted_sources[grade_id]:
            steps.append({"source": cell.source, "trusted": True, "label": label})
            continue
        try:
            defined |= safe_code.check_cell(cell.source, defined)
        except safe_code.Rejected as reason:
            notes.append(f"{label} not rerun: it {reason}")
            continue
        steps.append({"source": safe_code.as_python(cell.source), "trusted": False, "label": label})
    return steps, notes


def limit_resources():
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def run_plan(steps: list[dict]) -> tuple[list[dict], str]:
    """The runner's reports, and a note if it did not finish."""
    plan = json.dumps({"steps": steps, "builtins": sorted(safe_code.SAFE_BUILTINS)})
    env = {"PATH": os.environ.get("PATH", ""), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-I", str(RUNNER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=env, preexec_fn=limit_resources, text=True)
    problem = ""
    try:
        output, _ = process.communicate(plan, timeout=WALL_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        problem = f"the recheck ran past {WALL_SECONDS} s; checks after that point earn nothing"
    reports = []
    for line in output.splitlines():
        try:
            reports.append(json.loads(line))
        except json.JSONDecodeError:
            break
    if not problem and len(reports) < sum("check" in s for s in steps):
        problem = "the recheck stopped early (a limit was hit); checks after that point earn nothing"
    return reports, problem


def agrees(report: dict) -> bool:
    check = answer_key.CHECKS[report["check"]]
    if not answer_key.matches(report.get("value"), check.expected):
        return False
    if check.perturbed:
        return answer_key.matches(report.get("perturbed_value"), check.formula(check.perturbed))
    return True


def recheck(graded_nb, source_nb) -> Recheck:
    steps, notes = plan_for(graded_nb, source_nb)
    reports, problem = run_plan(steps)
    result = Recheck(notes=notes + ([problem] if problem else []))
    for check_id in answer_key.CHECKS:
        result.passed[check_id] = False
    for report in reports:
        result.passed[report["check"]] = agrees(report)
    return result


def withdraw_unconfirmed_points(root: Path, student: str, graded_nb, source_nb) -> list[str]:
    """Recheck one autograded hand-in; set to 0 every check the recheck does not confirm."""
    result = recheck(graded_nb, source_nb)
    withdrawn = []
    with Gradebook(course.gradebook_url(root)) as gradebook:
        for check_id, confirmed in result.passed.items():
            grade = gradebook.find_grade(check_id, course.NOTEBOOK, course.ASSIGNMENT, student)
            if not confirmed and grade.auto_score:
                grade.auto_score = 0.0
                withdrawn.append(check_id)
        gradebook.db.commit()
    notes = list(result.notes)
    if withdrawn:
        notes.append(f"passed in the notebook but not when rechecked, so scored 0: {', '.join(withdrawn)}")
    return notes

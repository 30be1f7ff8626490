"""The student version in release/: generated, in sync, and free of answers."""

import json
import subprocess
import sys

import pytest
from nbgrader.validator import Validator

from coursetools import course, notebooks

RELEASE_DIR = course.release_notebook(course.REPOSITORY_ROOT).parent
SOURCE_DIR = course.source_notebook(course.REPOSITORY_ROOT).parent


def all_strings(node):
    """Every string anywhere in a JSON document: sources, outputs, metadata, attachments."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from all_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_strings(value)


def all_lines(path):
    lines = set()
    for text in all_strings(json.loads(path.read_text(encoding="utf-8"))):
        lines.update(line.strip() for line in text.splitlines())
    return lines


def regions(nb, begin, end):
    return [line for cell in nb.cells for line in notebooks.marked_regions(cell.source, begin, end)]


def test_is_the_committed_release_what_nbgrader_generates_from_the_source(course_copy):
    (course_copy / "release").rename(course_copy / "release.committed")
    generated = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", course.ASSIGNMENT, "--force"],
                               cwd=course_copy, capture_output=True, text=True, timeout=300)
    assert generated.returncode == 0, generated.stderr
    fresh = notebooks.read(course.release_notebook(course_copy))
    committed = notebooks.read(course_copy / "release.committed" / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb")
    assert notebooks.structure(fresh) == notebooks.structure(committed), "release/ is stale: run `make release`"
    fresh_files = sorted(p.relative_to(course_copy / "release") for p in (course_copy / "release").rglob("*") if p.is_file())
    committed_files = sorted(p.relative_to(course_copy / "release.committed")
                             for p in (course_copy / "release.committed").rglob("*") if p.is_file())
    assert fresh_files == committed_files


def test_is_there_no_solution_code_in_the_release(source_nb, release_nb):
    solutions = set(regions(source_nb, notebooks.SOLUTION_BEGIN, notebooks.SOLUTION_END))
    assert solutions
    for cell in release_nb.cells:
        if cell.cell_type == "code":
            leaked = solutions & {line.strip() for line in cell.source.splitlines()}
            assert not leaked, f"solution lines in the release: {leaked}"
    assert notebooks.SOLUTION_BEGIN not in json.dumps(release_nb)


def test_is_there_no_hidden_test_text_anywhere_in_the_release(source_nb):
    hidden = set(regions(source_nb, notebooks.HIDDEN_BEGIN, notebooks.HIDDEN_END))
    assert all(notebooks.marked_regions(c.source, notebooks.HIDDEN_BEGIN, notebooks.HIDDEN_END)
               for c in source_nb.cells if notebooks.is_test_cell(c)), "every test cell should have a hidden part"
    release_lines = set()
    for path in RELEASE_DIR.rglob("*.ipynb"):
        release_lines |= all_lines(path)
    assert not hidden & release_lines, f"hidden test lines in the release: {hidden & release_lines}"
    assert not any(notebooks.HIDDEN_BEGIN in line for line in release_lines)


def test_does_every_stub_raise_not_implemented(release_nb):
    answers = [c for c in release_nb.cells if notebooks.is_answer_cell(c)]
    assert len(answers) == 21
    for cell in answers:
        assert "raise NotImplementedError()" in cell.source, cell.source


def test_are_the_release_outputs_cleared(release_nb):
    for cell in release_nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_does_every_test_fail_on_the_untouched_release():
    # `nbgrader validate --invert` exits 0 even when a test passes: read its result instead
    results = Validator(invert=True).validate(str(RELEASE_DIR / f"{course.NOTEBOOK}.ipynb"))
    assert results == {}, f"tests that pass on the untouched release: {results.get('passed')}"


def test_does_the_release_ship_the_figures_and_nothing_secret():
    source_files = {p.relative_to(SOURCE_DIR): p.read_bytes() for p in SOURCE_DIR.rglob("*") if p.is_file()}
    release_files = {p.relative_to(RELEASE_DIR): p.read_bytes() for p in RELEASE_DIR.rglob("*") if p.is_file()}
    assert set(release_files) == set(source_files)
    for name, content in release_files.items():
        if name.suffix == ".png":
            assert content == source_files[name], f"{name} differs from the source's"
    assert not list(course.REPOSITORY_ROOT.joinpath("release").rglob("*.db"))


@pytest.mark.parametrize("notebook", [course.source_notebook, course.release_notebook])
def test_are_notebook_cell_ids_stable(notebook):
    """nbgrader and git diffs both key on cell ids; they must be unique and readable."""
    ids = [c.id for c in notebooks.read(notebook(course.REPOSITORY_ROOT)).cells]
    assert len(ids) == len(set(ids))


def test_does_validate_fail_every_check_whose_value_is_off(release_nb, tmp_path):
    """Validate's "Success!" means every result is right: each check fails when its value is off by 0.001."""
    from coursetools import demo_students
    from coursetools.engine import answer_key

    off = {}
    for cell_id, code in demo_students.CORRECT.items():
        check = answer_key.CHECKS[cell_id.removesuffix("_answer")]
        if check.expected is not True:
            code += f"\n{check.name} = __import__('numpy').asarray({check.name}, dtype=float) + 0.001"
        off[cell_id] = code
    path = tmp_path / f"{course.NOTEBOOK}.ipynb"
    notebooks.write(demo_students.hand_in(release_nb, off), path)
    failures = Validator().validate(str(path))["failed"]
    failed_checks = {notebooks.nbgrader_meta(cell)["grade_id"] for cell in notebooks.read(path).cells
                     if notebooks.is_test_cell(cell) and any(cell.source.strip() == f["source"].strip() for f in failures)}
    assert failed_checks == {grade_id for grade_id, check in answer_key.CHECKS.items() if check.expected is not True}

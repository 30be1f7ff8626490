"""Reading, normalising and comparing notebooks.

Notebooks are compared as structures (cell type, source and nbgrader
metadata), never as bytes: JSON layout, cell outputs and editor state do not
change what a student receives or what gets graded.

Usage: python -m coursetools.notebooks normalise [--check] NOTEBOOK...
"""

import argparse
import sys
from pathlib import Path

import nbformat

# Written by editors and kernels, meaningless to the course, noisy in diffs
VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "jp-MarkdownHeadingCollapsed", "ExecuteTime")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def as_text(value) -> str:
    """Text from a notebook field, which nbformat allows as a string or a list of strings."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "".join(as_text(part) for part in value)
    if isinstance(value, (int, float)):
        return str(value)
    return ""


def nbgrader_meta(cell) -> dict:
    """A cell's nbgrader marks; empty when it has none, or when what it has is not marks at all."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    marks = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return marks if isinstance(marks, dict) else {}


def grade_id(cell) -> str:
    """The cell's nbgrader id, or an empty string for a cell nbgrader does not know."""
    return nbgrader_meta(cell).get("grade_id", "")


def is_answer_cell(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_test_cell(cell) -> bool:
    return bool(nbgrader_meta(cell).get("grade")) and cell.cell_type == "code"


def test_points(nb) -> dict[str, float]:
    """Points of every graded test cell, by grade id, in notebook order."""
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"]) for c in nb.cells if is_test_cell(c)}


def grade_ids(nb) -> set[str]:
    """Every nbgrader cell id in a notebook: answers, checks and read-only cells."""
    return {nbgrader_meta(c)["grade_id"] for c in nb.cells if "grade_id" in nbgrader_meta(c)}


def exercise_of(grade_id: str) -> str:
    """Grade ids start with their exercise: `e2_bias1` belongs to `e2`."""
    return grade_id.split("_", 1)[0]


def marked_regions(source: str, begin: str, end: str) -> list[str]:
    """The lines strictly between each begin and end marker, stripped."""
    lines, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == begin:
            inside = True
        elif stripped == end:
            inside = False
        elif inside and stripped:
            lines.append(stripped)
    return lines


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Clear outputs and editor state so that only real changes show in a diff."""
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    return nb


def structure(nb: nbformat.NotebookNode, with_checksums: bool = True) -> list[dict]:
    """What a notebook means to the course: per cell, its type, source and nbgrader metadata."""
    cells = []
    for cell in nb.cells:
        meta = dict(nbgrader_meta(cell))
        if not with_checksums:
            meta.pop("checksum", None)
        cells.append({"cell_type": cell.cell_type, "source": cell.source, "nbgrader": meta})
    return cells


def normalise_files(paths: list[Path], check: bool) -> list[Path]:
    """Normalise notebooks in place, or only list those that need it."""
    changed = []
    for path in paths:
        original = path.read_text(encoding="utf-8")
        nb = normalise(nbformat.reads(original, as_version=4))
        if nbformat.writes(nb) + "\n" != original:
            changed.append(path)
            if not check:
                write(nb, path)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursetools.notebooks", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    norm = sub.add_parser("normalise", help="clear outputs and volatile metadata")
    norm.add_argument("--check", action="store_true", help="change nothing; fail if a notebook needs normalising")
    norm.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)

    changed = normalise_files(args.notebooks, check=args.check)
    for path in changed:
        print(f"{'needs normalising' if args.check else 'normalised'}: {path}")
    if args.check and changed:
        print("Run `make normalise` and commit the result.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

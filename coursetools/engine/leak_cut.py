"""Output lines that repeat the course's hidden tests or model answers are cut from feedback.

Student code can print the cells its kernel runs (`print(In)`, an IPython
`pre_run_cell` hook), hidden checks included. Every output line that
contains a hidden-test or solution line of the source notebook, however it
is spaced, quoted or wrapped in HTML, becomes `CUT_NOTE`. Lines in the
release notebook are public, and lines the student wrote in their own cells
are theirs: neither is cut.
"""

import ast
import html
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from coursetools import notebooks
from coursetools.notebooks import as_text

CUT_NOTE = "[line removed: it repeats the course's hidden checks or model answer]"
TEXT_TYPES = ("text/plain", "text/html", "text/markdown")

ANSI_CODE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
HTML_TAG = re.compile(r"<[^<>]*>")  # never spans another "<": linear on text full of them
PYTHON_ESCAPES = {"\\n": "\n", "\\t": "\t", "\\r": "\r", "\\'": "'", '\\"': '"'}
PYTHON_ESCAPE = re.compile(r"\\\\|\\n|\\t|\\r|\\'|\\\"")
SHORTEST_SECRET = 8
MARKERS = (notebooks.HIDDEN_BEGIN, notebooks.HIDDEN_END, notebooks.SOLUTION_BEGIN, notebooks.SOLUTION_END)


def squash(text: str) -> str:
    """Text without whitespace or invisible characters: a line still matches when printed with other
    spacing, split, or with zero-width characters between its letters."""
    joined = "".join(text.split())
    if joined.isascii():  # no invisible (Cf) character is ASCII: most output is done here, at C speed
        return joined
    return "".join(ch for ch in joined if unicodedata.category(ch) != "Cf")


def _undo_python_escapes(text: str) -> str:
    return PYTHON_ESCAPE.sub(lambda match: PYTHON_ESCAPES.get(match.group(0), "\\"), text)


def _spellings(text: str) -> list[str]:
    """The ways output can show a source line: as is, as a repr (`print(In)`), as HTML."""
    plain = ANSI_CODE.sub("", text)
    as_html_text = html.unescape(HTML_TAG.sub("", plain))
    views = (plain, _undo_python_escapes(plain), as_html_text, _undo_python_escapes(as_html_text))
    return [squash(view) for view in views] + [squash(plain)[::-1]]  # and printed backwards


@dataclass(frozen=True)
class SecretLines:
    """Lines of the course's notebook a feedback page must not show, squashed.

    `anywhere`: long enough that output containing one is a leak. `alone`:
    short hidden-test lines, a leak only as an output line of their own, since
    inside longer text they match ordinary output too often.
    """

    anywhere: frozenset = frozenset()
    alone: frozenset = frozenset()

    def __bool__(self):
        return bool(self.anywhere or self.alone)

    def appear_in(self, text: str) -> bool:
        views = _spellings(text)
        return any(view in self.alone for view in views) or \
            any(secret in view for secret in self.anywhere for view in views)


def cut_secret_lines(text: str, secrets: SecretLines) -> str:
    """Each line that repeats a secret line becomes CUT_NOTE; text that spreads one over lines becomes CUT_NOTE."""
    if not secrets or not text:
        return text
    lines = text.splitlines(keepends=True)
    kept = "".join(CUT_NOTE + ("\n" if line.endswith("\n") else "") if secrets.appear_in(line) else line
                   for line in lines)
    return CUT_NOTE + "\n" if secrets.appear_in(kept) else kept


def _is_check(cell) -> bool:
    """notebooks.is_test_cell, for a cell whose metadata has not been checked yet."""
    return isinstance(cell, dict) and cell.get("cell_type") == "code" and bool(notebooks.nbgrader_meta(cell).get("grade"))


def _marked_lines(cells, begin: str, end: str) -> set[str]:
    return {line for cell in cells for line in notebooks.marked_regions(as_text(cell.get("source")), begin, end)}


def _all_lines(cells) -> set[str]:
    return {line.strip() for cell in cells for line in as_text(cell.get("source")).splitlines()}


def _read_cells(path: Path) -> list:
    try:
        return list(notebooks.read(path).cells) if path.is_file() else []
    except Exception:  # noqa: BLE001 (an unreadable course file only means fewer lines to look for)
        return []


def secret_lines(nb, root: Path, assignment: str, notebook: str) -> SecretLines:
    """Hidden-test and solution lines of the course's notebook, except those the student may see.

    The release notebook is public, and so is what the student wrote in their
    own cells. Solution lines too short to tell from ordinary output are left out.
    """
    source = _read_cells(root / "source" / assignment / f"{notebook}.ipynb")
    release = _read_cells(root / "release" / assignment / f"{notebook}.ipynb")
    cells = [cell for cell in nb.get("cells") or [] if isinstance(cell, dict)]
    checks = [cell for cell in cells if _is_check(cell)]
    own = [cell for cell in cells if not _is_check(cell)]
    hidden = {squash(line) for line in _marked_lines(source, notebooks.HIDDEN_BEGIN, notebooks.HIDDEN_END)
              | _marked_lines(checks, notebooks.HIDDEN_BEGIN, notebooks.HIDDEN_END) | set(MARKERS)}
    solutions = {squash(line) for line in _marked_lines(source, notebooks.SOLUTION_BEGIN, notebooks.SOLUTION_END)
                 if not states_a_value(line)}
    secret = (hidden | solutions) - {squash(line) for line in _all_lines(release) | _all_lines(own)}
    return SecretLines(
        anywhere=frozenset(line for line in secret if len(line) >= SHORTEST_SECRET),
        alone=frozenset(line for line in secret & hidden
                        if len(line) < SHORTEST_SECRET and any(char.isalnum() for char in line)))


def states_a_value(line: str) -> bool:
    """`weights = [0.2, 0.8, -0.5]`: the lesson gives these values, and a student prints them as their own."""
    try:
        statement = ast.parse(line.strip()).body
    except SyntaxError:
        return False
    if len(statement) != 1 or not isinstance(statement[0], ast.Assign):
        return False
    try:
        ast.literal_eval(statement[0].value)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return False
    return True


def cut_output_secrets(output: dict, secrets: SecretLines) -> dict:
    if output["output_type"] == "stream":
        output["text"] = cut_secret_lines(output["text"], secrets)
    elif output["output_type"] == "error":
        output["ename"] = cut_secret_lines(output["ename"], secrets)
        output["evalue"] = cut_secret_lines(output["evalue"], secrets)
        output["traceback"] = [cut_secret_lines(line, secrets) for line in output["traceback"]]
        if secrets.appear_in("\n".join(output["traceback"])):
            output["traceback"] = [CUT_NOTE]
    else:
        for mime in TEXT_TYPES:
            if mime in output["data"]:
                output["data"][mime] = cut_secret_lines(output["data"][mime], secrets)
    return output

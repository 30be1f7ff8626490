"""The notebook as a feedback page may show it: rebuilt from checked fields, hidden tests and secrets cut.

Templates paste some notebook fields into the page unescaped (output
metadata such as an image's width, cell tags), and the student controls all
of them. `make_feedback_safe` rebuilds the notebook from the fields a page
needs, each of the expected kind: known output types only, images only with
valid base64, no metadata but nbgrader's own, hidden tests removed from the
checks, tracebacks reduced to the error's type and message, and printed
secret lines cut (`leak_cut`).
"""

import re
from pathlib import Path

import nbformat

from coursetools import course, notebooks
from coursetools.engine.leak_cut import TEXT_TYPES, SecretLines, cut_output_secrets, secret_lines
from coursetools.engine.page_images import IMAGE_TYPES, canonical_base64, safe_attachments
from coursetools.notebooks import as_text

HIDDEN_NOTE = "# (more checks ran here when your notebook was graded)"

def without_hidden_tests(source: str) -> str:
    lines, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == notebooks.HIDDEN_BEGIN:
            inside = True
            lines.append(HIDDEN_NOTE)
        elif stripped == notebooks.HIDDEN_END:
            inside = False
        elif not inside:
            lines.append(line)
    return "\n".join(lines)


NBGRADER_FLAGS = ("grade", "solution", "locked", "task")
GRADE_ID = re.compile(r"[A-Za-z0-9_.\-]{1,100}")
CELL_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def safe_nbgrader_metadata(meta) -> dict | None:
    """The nbgrader fields the template and GetGrades read, with values of the expected kind; None if unusable."""
    if not isinstance(meta, dict) or not isinstance(meta.get("grade_id"), str) \
            or not GRADE_ID.fullmatch(meta["grade_id"]):
        return None
    kept = {flag: bool(meta.get(flag)) for flag in NBGRADER_FLAGS if flag in meta}
    kept["grade_id"] = meta["grade_id"]
    for key in ("points", "score", "schema_version"):
        if isinstance(meta.get(key), (int, float)) and not isinstance(meta.get(key), bool):
            kept[key] = meta[key]
    if isinstance(meta.get("comment"), str):
        kept["comment"] = meta["comment"]
    return kept


def safe_bundle(data) -> dict:
    """Known mime types only: text as text, images only with valid base64, LaTeX shown as plain text."""
    if not isinstance(data, dict):
        return {}
    kept = {mime: as_text(data[mime]) for mime in TEXT_TYPES if as_text(data.get(mime))}
    if as_text(data.get("text/latex")) and "text/plain" not in kept:
        kept["text/plain"] = as_text(data["text/latex"])
    for mime in IMAGE_TYPES:
        payload = canonical_base64(data.get(mime)) if mime in data else None
        if payload:
            kept[mime] = payload
    return kept


def safe_output(output) -> dict | None:
    """An output rebuilt from its known fields, without its metadata; None when nothing in it can be shown."""
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    if kind == "stream":
        name = "stderr" if output.get("name") == "stderr" else "stdout"
        return {"output_type": "stream", "name": name, "text": as_text(output.get("text"))}
    if kind in ("display_data", "execute_result"):
        data = safe_bundle(output.get("data"))
        if not data:
            return None
        rebuilt = {"output_type": kind, "data": data, "metadata": {}}
        if kind == "execute_result":
            count = output.get("execution_count")
            rebuilt["execution_count"] = count if isinstance(count, int) and not isinstance(count, bool) else None
        return rebuilt
    if kind == "error":
        traceback = output.get("traceback")
        lines = [as_text(line) for line in traceback] if isinstance(traceback, list) else [as_text(traceback)]
        return {"output_type": "error", "ename": as_text(output.get("ename")),
                "evalue": as_text(output.get("evalue")), "traceback": lines}
    return None


def unique_cell_id(candidate, index: int, taken: set) -> str:
    """The cell's id if it is valid and not taken yet, else a new one; the page uses ids as anchors."""
    if not (isinstance(candidate, str) and CELL_ID.fullmatch(candidate)) or candidate in taken:
        candidate = f"cell-{index}"
        while candidate in taken:
            candidate += "-"
    taken.add(candidate)
    return candidate


def safe_cell(cell, index: int, secrets: SecretLines, ids: set | None):
    """The cell rebuilt from checked fields; None for a cell type the page has no place for.

    `ids`: the ids given so far, for nbformat 4.5 and later, where every cell has one; None before.
    """
    kind = cell.get("cell_type")
    if kind not in ("markdown", "code", "raw"):
        return None
    rebuilt = {"cell_type": kind, "source": as_text(cell.get("source")), "metadata": {}}
    nbgrader = safe_nbgrader_metadata(notebooks.nbgrader_meta(cell))
    if nbgrader is not None:
        rebuilt["metadata"]["nbgrader"] = nbgrader
    if ids is not None:
        rebuilt["id"] = unique_cell_id(cell.get("id"), index, ids)
    if kind != "code":
        attachments = safe_attachments(cell.get("attachments"))
        if attachments:
            rebuilt["attachments"] = attachments
        return nbformat.from_dict(rebuilt)

    if notebooks.HIDDEN_BEGIN in rebuilt["source"]:
        rebuilt["source"] = without_hidden_tests(rebuilt["source"])
    count = cell.get("execution_count")
    rebuilt["execution_count"] = count if isinstance(count, int) and not isinstance(count, bool) else None
    outputs = [output for output in map(safe_output, cell.get("outputs") or []) if output is not None]
    rebuilt = nbformat.from_dict(rebuilt)
    if notebooks.is_test_cell(rebuilt):
        for output in outputs:
            if output["output_type"] == "error":
                output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
    rebuilt["outputs"] = nbformat.from_dict([cut_output_secrets(output, secrets) for output in outputs])
    return rebuilt


UNCHECKED_CELL = {"cell_type": "markdown", "source": "[cell not shown: it could not be checked]"}


def safe_notebook_metadata(metadata) -> dict:
    """Only the kernel's and language's names: the page uses them to pick a syntax highlighter."""
    kept = {}
    required = {"kernelspec": ("name", "display_name"), "language_info": ("name",)}
    optional = {"kernelspec": ("language",), "language_info": ("pygments_lexer", "version", "file_extension")}
    for key, fields in required.items():
        section = metadata.get(key) if isinstance(metadata, dict) else None
        if isinstance(section, dict) and all(isinstance(section.get(field), str) for field in fields):
            kept[key] = {field: section[field] for field in fields + optional[key]
                         if isinstance(section.get(field), str)}
    return kept


def course_names(resources) -> tuple[str, str]:
    """The assignment and notebook nbgrader is writing feedback for."""
    names = (resources or {}).get("nbgrader") or {}
    return names.get("assignment") or course.ASSIGNMENT, names.get("notebook") or course.NOTEBOOK


def make_feedback_safe(nb, resources, root: Path) -> None:
    """Rebuild the notebook, in place, from the data a feedback page may show."""
    assignment, notebook = course_names(resources)
    secrets = secret_lines(nb, root, assignment, notebook)
    nb["metadata"] = nbformat.from_dict(safe_notebook_metadata(nb.get("metadata")))
    minor = nb.get("nbformat_minor")
    ids = set() if isinstance(minor, int) and minor >= 5 else None
    cells = []
    for index, cell in enumerate(nb.get("cells") or []):
        try:
            rebuilt = safe_cell(cell, index, secrets, ids) if isinstance(cell, dict) else None
        except Exception:  # noqa: BLE001 (one odd cell must not stop the feedback of the whole course)
            rebuilt = safe_cell(UNCHECKED_CELL, index, SecretLines(), ids)
        if rebuilt is not None:
            cells.append(rebuilt)
    nb["cells"] = cells

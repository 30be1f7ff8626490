"""Feedback a student can keep: their work, their scores, no hidden test, nothing loaded from the network.

nbgrader writes feedback from the autograded notebook, which carries the
hidden tests, and shows failed checks with full tracebacks, hidden assert
line and the recheck's note for the instructor included. `HideHiddenTests`
runs first in nbgrader's feedback step (nbgrader_config.py): it cuts the
hidden part out of every check and reduces each error to its type and
message, which the course writes to help without giving the answer away.
`OfflineHTMLExporter` is the exporter nbgrader writes the page with: it
drops the one script the stock template loads from the internet, so the
file works wherever the student opens it (figures are embedded by
`HTMLExporter.embed_images`, also set in nbgrader_config.py).
"""

import re

from nbconvert.exporters import HTMLExporter
from nbgrader.preprocessors import NbGraderPreprocessor

from coursetools import notebooks

HIDDEN_NOTE = "# (more checks ran here when your notebook was graded)"
EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.IGNORECASE)


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


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden tests and tracebacks from a notebook before it becomes feedback."""

    def preprocess_cell(self, cell, resources, index):
        if notebooks.is_test_cell(cell):
            cell.source = without_hidden_tests(cell.source)
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


class OfflineHTMLExporter(HTMLExporter):
    """nbconvert's HTML exporter, without the scripts its templates load from the internet."""

    def from_notebook_node(self, nb, resources=None, **kw):
        html, resources = super().from_notebook_node(nb, resources, **kw)
        return EXTERNAL_SCRIPT.sub("", html), resources

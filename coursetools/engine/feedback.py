"""Feedback a student can keep: their work and scores, no hidden test, no solution, nothing that runs or loads.

nbgrader writes feedback from the autograded notebook. That notebook carries
the hidden tests, and the rest of it came from the student: markdown they
wrote, outputs their code printed or displayed, metadata they could edit. The
page is therefore built from checked data only:

- `HideHiddenTests` runs first in nbgrader's feedback step (nbgrader_config.py).
  It cuts the hidden part out of every check and reduces each error to its type
  and message, which the course writes to help without giving the answer away.
  It also keeps only the output types a page can show safely, drops the
  metadata that templates paste into the page unescaped, and replaces every
  output line that repeats a hidden-test or solution line: student code can
  print the cells the kernel runs (`print(In)`, a `pre_run_cell` hook).
- `OfflineHTMLExporter` writes the page. It applies the same checks to its own
  copy of the notebook, so it is safe whatever preprocessors run before it;
  sanitises all HTML from markdown and outputs against an allowlist; embeds
  only the course's own figures and the cells' valid attachments, never a file
  found beside the student's notebook; removes every script the template emits
  and puts a content security policy first in <head>. Nothing in the file can
  run or load anything, so it works wherever the student opens it.
"""

import html
import json
from pathlib import Path

import nbformat
from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import MarkdownWithMath
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode, default

from coursetools.engine.feedback_data import course_names, make_feedback_safe
from coursetools.engine.page_images import ImageSources
from coursetools.engine.safe_html import LinkedImagesRenderer, lock_down_page, sanitize_html
from coursetools.notebooks import as_text


# Markdown cells without attachments, rendered and sanitised, by source and figures folder:
# a grading worker renders the same lesson for every student it grades
_RENDERED: dict[tuple, str] = {}
RENDERED_KEPT = 2000


def course_root_or_cwd(configured: str) -> Path:
    # nbgrader runs the feedback step from the course root
    return Path(configured) if configured else Path.cwd()


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden tests, tracebacks, unsafe outputs and metadata, and printed secret lines before feedback."""

    course_root = Unicode("", help="Course root holding source/ and release/ (default: the current directory)"
                          ).tag(config=True)

    def preprocess(self, nb, resources):
        make_feedback_safe(nb, resources, course_root_or_cwd(self.course_root))
        return nb, resources


class OfflineHTMLExporter(HTMLExporter):
    """nbconvert's HTML exporter for feedback: checked data, sanitised HTML, no script, nothing loaded."""

    course_root = Unicode("", help="Course root holding source/ and release/ (default: the current directory)"
                          ).tag(config=True)

    @default("sanitize_html")
    def _sanitize_html_default(self):
        return True

    def _images(self, context, attachments=None) -> ImageSources:
        assignment, _ = course_names(context.get("resources"))
        # the figures students received with the release, nothing the instructor kept in source/
        return ImageSources(course_root_or_cwd(self.course_root) / "release" / assignment, attachments)

    @pass_context
    def markdown2html(self, context, source):
        """Markdown to sanitised HTML; images only from the cell's attachments and the course's figures."""
        cell = context.get("cell") or {}
        source = as_text(source)
        if not cell.get("attachments"):  # the lesson's cells are the same in every hand-in: rendered once
            return self._lesson_markdown(source, str(self._images(context).figures_folder))
        return self._render_markdown(source, self._images(context, cell.get("attachments")))

    def _render_markdown(self, source: str, images: ImageSources) -> str:
        try:
            renderer = LinkedImagesRenderer(escape=False, anchor_link_text=self.anchor_link_text,
                                             exclude_anchor_links=self.exclude_anchor_links, **self.lexer_options)
            rendered = MarkdownWithMath(renderer=renderer).render(source)
        except Exception:  # noqa: BLE001 (markdown that cannot be rendered is shown as text)
            rendered = f"<pre>{html.escape(source)}</pre>"
        return sanitize_html(rendered, images)

    def _lesson_markdown(self, source: str, folder: str) -> str:
        key = (source, folder, self.anchor_link_text, self.exclude_anchor_links,
               json.dumps(self.lexer_options, sort_keys=True, default=str))
        if key not in _RENDERED:
            if len(_RENDERED) >= RENDERED_KEPT:
                _RENDERED.clear()
            _RENDERED[key] = self._render_markdown(source, ImageSources(Path(folder)))
        return _RENDERED[key]

    @pass_context
    def clean_html(self, context, element):
        if isinstance(element, bytes):
            element = element.decode("utf-8", errors="replace")
        return sanitize_html(element, self._images(context))

    def default_filters(self):
        yield from super().default_filters()
        yield ("clean_html", self.clean_html)

    def _init_resources(self, resources):
        resources = super()._init_resources(resources)
        # the template sanitises outputs and skips javascript only when told to
        resources["should_sanitize_html"] = True
        return resources

    def from_notebook_node(self, nb, resources=None, **kw):
        nb = nbformat.from_dict(nb)  # a copy: the caller's notebook stays as it was
        make_feedback_safe(nb, resources, course_root_or_cwd(self.course_root))
        page, resources = super().from_notebook_node(nb, resources, **kw)
        return lock_down_page(page), resources

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
import re
from pathlib import Path

import nbformat
from jinja2 import BytecodeCache, pass_context
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.markdown_mistune import MarkdownWithMath
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
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


class RememberedHighlight:
    """nbconvert's code highlighting, kept per process by everything it depends on: most code cells
    (the checks, the code the lesson gives) are the same in every hand-in a worker renders."""

    _kept: dict[tuple, str] = {}

    def __init__(self, highlight):
        self.highlight = highlight

    def __call__(self, source, language=None, metadata=None):
        key = (source, language, self.highlight.pygments_lexer,
               json.dumps(self.highlight.extra_formatter_options, sort_keys=True, default=str),
               json.dumps(metadata, sort_keys=True, default=str))
        if key not in self._kept:
            if len(self._kept) >= RENDERED_KEPT:
                self._kept.clear()
            self._kept[key] = self.highlight(source, language, metadata)
        return self._kept[key]


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

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED_TEMPLATES
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        nb = nbformat.from_dict(nb)  # a copy: the caller's notebook stays as it was
        make_feedback_safe(nb, resources, course_root_or_cwd(self.course_root))
        page, resources = self._render_page(nb, resources, **kw)
        return lock_down_page(accessible(page)), resources

    def _render_page(self, nb, resources=None, **kw):
        """nbconvert's `HTMLExporter.from_notebook_node` without its last step, a BeautifulSoup pass
        over the whole page that adds alternative text and keyboard focus (`accessible` does the
        same with two expressions, at a fraction of the cost)."""
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        highlight_code = self.filters.get("highlight_code",
                                          RememberedHighlight(Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                 resources=resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


NO_DESCRIPTION = "No description has been provided for this image"
IMAGE_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)", re.IGNORECASE)
FOCUSABLE_PART = re.compile(r'<div\b(?![^>]*\btabindex=)([^>]*\bclass="[^"]*\b(?:jp-Cell-inputWrapper|'
                            r'jp-OutputArea-output)\b[^"]*")', re.IGNORECASE)


def accessible(page: str) -> str:
    """Alternative text on every image, and keyboard focus on every cell's input and output, as nbconvert adds."""
    page = IMAGE_WITHOUT_ALT.sub(f'<img alt="{NO_DESCRIPTION}"', page)
    return FOCUSABLE_PART.sub(r'<div tabindex="0"\1', page)


class MemoryBytecodeCache(BytecodeCache):
    """Compiled templates kept for the process: nbgrader makes a new exporter, and so a new template
    environment, for every student. Jinja checks each template's source against the checksum kept
    with it, so an edited template is compiled again."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = MemoryBytecodeCache()

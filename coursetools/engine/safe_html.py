"""HTML a feedback page may show: an allowlist for markdown and outputs, and a page that can run nothing.

`sanitize_html` parses HTML as a browser would and keeps text structure,
tables, safe links and checked inline images; scripts, styles, frames, svg
and the like go with their content. `lock_down_page` is the last pass over
the whole page the template wrote: no script (the template's own included),
no event handler, no URL that loads anything, and a content security policy
as the first element of <head> in case anything slipped through.
"""

import html
import re
from html.parser import HTMLParser

from bleach import html5lib_shim
from bleach.sanitizer import BleachSanitizerFilter
from bs4 import BeautifulSoup
from mistune.renderers.html import HTMLRenderer
from nbconvert.filters.markdown_mistune import IPythonRenderer

from coursetools.engine.page_images import ImageSources, is_image_data_uri, safe_link
from coursetools.notebooks import as_text

# Nothing may run, nothing may load from anywhere but the file itself
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'none'; object-src 'none'; frame-src 'none'; "
                           "base-uri 'none'; form-action 'none'; img-src data:; style-src 'unsafe-inline'; "
                           "font-src data:")

ALLOWED_TAGS = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "a", "img", "ul", "ol", "li", "dl", "dt", "dd",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "colgroup", "col",
    "pre", "code", "kbd", "samp", "var", "span", "div", "em", "strong", "b", "i", "u", "s", "small", "mark",
    "blockquote", "q", "cite", "abbr", "hr", "br", "sub", "sup", "del", "ins", "details", "summary",
    "figure", "figcaption",
})
# Removed together with everything inside them: their content is code, styling or
# another document, never text written for the reader
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "template", "iframe", "frame", "frameset", "object", "embed", "applet",
    "noscript", "noembed", "noframes", "xmp", "svg", "math", "canvas", "audio", "video", "picture",
})
SIZE = re.compile(r"\d{1,5}(\.\d{1,3})?(px|%)?")
COUNT = re.compile(r"\d{1,4}")


def _is_size(value) -> bool:
    return bool(SIZE.fullmatch(value.strip()))


def _is_count(value) -> bool:
    return bool(COUNT.fullmatch(value.strip()))


TAG_ATTRIBUTES = {
    "a": {"href": safe_link},
    "img": {"src": is_image_data_uri, "alt": lambda value: True, "width": _is_size, "height": _is_size},
    "td": {"colspan": _is_count, "rowspan": _is_count},
    "th": {"colspan": _is_count, "rowspan": _is_count},
    "col": {"span": _is_count},
    "ol": {"start": _is_count},
    "table": {"border": _is_count},
}


def _attribute_allowed(tag: str, name: str, value: str) -> bool:
    if name in ("class", "id", "title"):
        return True
    if name == "align":
        return value.strip().lower() in ("left", "right", "center", "justify")
    check = TAG_ATTRIBUTES.get(tag, {}).get(name)
    return bool(check and check(value))


class _DropWithContent(html5lib_shim.Filter):
    def __iter__(self):
        depth = 0
        for token in super().__iter__():
            kind = token["type"]
            if depth:
                depth += (kind == "StartTag") - (kind == "EndTag")
                continue
            if kind in ("StartTag", "EmptyTag") and token.get("name") in DROPPED_WITH_CONTENT:
                depth = 1 if kind == "StartTag" else 0
                continue
            yield token


class _EmbedImages(html5lib_shim.Filter):
    """Every image becomes a checked data URI, or its description in brackets."""

    def __init__(self, source, images: ImageSources):
        super().__init__(source)
        self.images = images

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token.get("name") == "img":
                attributes = token.get("data") or {}
                uri = self.images.data_uri(attributes.get((None, "src")))
                if uri is None:
                    alt = attributes.get((None, "alt")) or "no description"
                    yield {"type": "Characters", "data": f"[image not included: {alt}]"}
                    continue
                attributes[(None, "src")] = uri
            yield token


def sanitize_html(text, images: ImageSources | None = None) -> str:
    """HTML reduced to the allowlist: text structure, tables, safe links and checked inline images."""
    text = as_text(text)
    if not text.strip():
        return ""
    try:
        # parsed as a browser would (script content stays script), not as bleach's own parser does
        parser = html5lib_shim.BleachHTMLParser(tags=None, strip=True, consume_entities=False,
                                                namespaceHTMLElements=False)
        stream = html5lib_shim.getTreeWalker("etree")(parser.parseFragment(text))
        stream = _EmbedImages(_DropWithContent(stream), images or ImageSources())
        stream = BleachSanitizerFilter(source=stream, allowed_tags=ALLOWED_TAGS, attributes=_attribute_allowed,
                                       allowed_protocols={"http", "https", "mailto", "data"},
                                       strip_disallowed_tags=True, strip_html_comments=True)
        serializer = html5lib_shim.BleachHTMLSerializer(
            quote_attr_values="always", omit_optional_tags=False, escape_lt_in_attrs=True,
            resolve_entities=False, sanitize=False, alphabetical_attributes=False)
        return serializer.render(stream)
    except Exception:  # noqa: BLE001 (an odd fragment shows as text rather than stopping the whole batch)
        return f"<pre>{html.escape(text)}</pre>"


class LinkedImagesRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, but images stay references: `ImageSources` decides what gets embedded."""

    def image(self, text: str, url: str, title: str | None = None) -> str:
        return HTMLRenderer.image(self, text, url, title)


# The template's own scripts (MathJax and its settings) go too: the page shows math as written
PAGE_TAGS_REMOVED = ("script", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
                     "form", "link")
URL_ATTRIBUTES = ("src", "href", "srcset", "action", "formaction", "poster", "background", "data", "xlink:href",
                  "ping", "manifest", "lowsrc", "dynsrc")


def _url_allowed(tag: str, attribute: str, value) -> bool:
    """Links to follow on a click, and images inside the file; no other URL stays."""
    if tag == "a" and attribute == "href":
        return safe_link(value)
    if tag == "img" and attribute == "src":
        return is_image_data_uri(value)
    return False


TEMPLATE_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
HEAD_START = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


class ActiveContentScan(HTMLParser):
    """Whether a page holds anything a browser could run or load: one quick pass, no tree built."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = False

    def handle_starttag(self, tag, attrs):
        if tag in PAGE_TAGS_REMOVED or (tag == "meta" and any(name == "http-equiv" for name, _ in attrs)):
            self.found = True
        for name, value in attrs:
            if name.startswith("on") or (name in URL_ATTRIBUTES and not _url_allowed(tag, name, value)):
                self.found = True

    handle_startendtag = handle_starttag


def holds_active_content(page: str) -> bool:
    scan = ActiveContentScan()
    scan.feed(page)
    scan.close()
    return scan.found


def rebuilt_without_active_content(page: str) -> str:
    """The page parsed and written again without any element or attribute that could run or load."""
    soup = BeautifulSoup(page, features="html.parser")
    for element in soup.find_all(PAGE_TAGS_REMOVED):
        element.decompose()
    for element in soup.find_all("meta"):
        if element.get("http-equiv") is not None:  # a refresh to elsewhere, or a policy other than ours
            element.decompose()
    for element in soup.find_all(True):
        for name in list(element.attrs):
            lowered = name.lower()
            if lowered.startswith("on") or (lowered in URL_ATTRIBUTES
                                            and not _url_allowed(element.name, lowered, element.attrs[name])):
                del element.attrs[name]
    if soup.head is None:
        (soup.html or soup).insert(0, soup.new_tag("head"))
    return str(soup)


def lock_down_page(page: str) -> str:
    """The page with no script, no event handler, no URL that loads, and the security policy first in <head>.

    Student content reached the page through `sanitize_html` already, so the
    only scripts left are the template's own, removed here. A scan then
    checks the whole page; only if it still finds something is the page
    rebuilt element by element (slower, and never needed by a page the
    sanitiser saw).
    """
    page = TEMPLATE_SCRIPT.sub("", page)
    if holds_active_content(page) or not HEAD_START.search(page):
        page = rebuilt_without_active_content(page)
    policy = f'<meta content="{CONTENT_SECURITY_POLICY}" http-equiv="Content-Security-Policy"/>'
    return HEAD_START.sub(lambda head: head.group(0) + policy, page, count=1)

"""Images and links a feedback page may hold: checked data URIs and harmless links, never a file the student chose.

A page embeds an image only from the cell's own attachments (png, jpeg or
gif with valid base64), from the course's figures (a plain relative path to
a real image file under `release/<assignment>/`, no link), or from a data
URI that decodes as such an image. Files beside the student's notebook are
never read: the student put them there, and one of them could be a link to
any file on the grading machine.
"""

import base64
import binascii
import html
import re
from pathlib import Path
from urllib.parse import unquote

from coursetools.notebooks import as_text

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
FIGURE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
# A file named .png must also start like one, so no other kind of file gets embedded under an image's name
IMAGE_SIGNATURES = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",),
                    "image/gif": (b"GIF87a", b"GIF89a")}
LARGEST_FIGURE = 10 * 1024 * 1024
DATA_URI = re.compile(r"\s*data:(image/(?:png|jpeg|gif));base64,(.*)", re.IGNORECASE | re.DOTALL)
URL_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
LINK_SCHEMES = {"http", "https", "mailto"}


def canonical_base64(data) -> str | None:
    """The payload re-encoded if it is valid, non-empty base64; None otherwise."""
    compact = "".join(as_text(data).split())
    if not compact:
        return None
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    return base64.b64encode(raw).decode("ascii") if raw else None


def image_data_uri(value) -> str | None:
    """A png, jpeg or gif data URI with a valid payload, rewritten canonically; None for anything else."""
    match = DATA_URI.fullmatch(as_text(value))
    payload = canonical_base64(match.group(2)) if match else None
    return f"data:{match.group(1).lower()};base64,{payload}" if payload else None


def is_image_data_uri(value) -> bool:
    return isinstance(value, str) and image_data_uri(value) == value


def safe_link(value) -> bool:
    """A link the page may keep: a #fragment, http(s) or mailto, or a relative path."""
    # browsers ignore whitespace and control characters inside a scheme, and decode entities first
    url = re.sub(r"[\x00-\x20\x7f-\xa0]+", "", html.unescape(as_text(value))).lower()
    if url.startswith("#"):
        return True
    scheme = URL_SCHEME.match(url)
    if scheme:
        return scheme.group(1) in LINK_SCHEMES
    if url.startswith(("/", "\\")):  # another host ("//host") or a path from the root of the disk
        return False
    return ":" not in re.split(r"[/?#]", url, maxsplit=1)[0]


def figure_data_uri(folder: Path, src: str) -> str | None:
    """A course figure as a data URI: a plain relative path to a regular image file inside `folder`, no symlink."""
    if "?" in src or "#" in src:  # a query or fragment: not a plain file name
        return None
    relative = unquote(src.strip())
    if relative.startswith("/") or ":" in relative or "\\" in relative or "\x00" in relative:
        return None
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    mime = FIGURE_TYPES.get(Path(parts[-1]).suffix.lower())
    if mime is None:
        return None
    path = Path(folder)
    try:
        for part in parts:
            path = path / part
            if path.is_symlink():
                return None
        if not path.is_file() or path.stat().st_size > LARGEST_FIGURE:
            return None
        path.resolve().relative_to(Path(folder).resolve())
        data = path.read_bytes()
    except (OSError, ValueError):
        return None
    if not data.startswith(IMAGE_SIGNATURES[mime]):
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def safe_attachments(attachments) -> dict:
    """Only png, jpeg and gif attachments with valid base64, keyed by their name."""
    kept = {}
    if not isinstance(attachments, dict):
        return kept
    for name, bundle in attachments.items():
        if not isinstance(name, str) or not isinstance(bundle, dict):
            continue
        images = {mime: canonical_base64(bundle.get(mime)) for mime in IMAGE_TYPES if mime in bundle}
        images = {mime: payload for mime, payload in images.items() if payload}
        if images:
            kept[name] = images
    return kept


class ImageSources:
    """Where an image on the page may come from: the cell's attachments, the course's figures, data already inline.

    Files beside the student's notebook are never read: the student put them
    there, and one of them could be a link to any file on the grading machine.
    """

    def __init__(self, figures_folder: Path | None = None, attachments=None):
        self.figures_folder = figures_folder
        self.attachments = safe_attachments(attachments)

    def data_uri(self, src) -> str | None:
        if not isinstance(src, str):
            return None
        src = html.unescape(src).strip()
        if src.lower().startswith("data:"):
            return image_data_uri(src)
        if src.lower().startswith("attachment:"):
            name = src[len("attachment:"):]
            images = self.attachments.get(name) or self.attachments.get(unquote(name)) or {}
            return next((f"data:{mime};base64,{images[mime]}" for mime in IMAGE_TYPES if mime in images), None)
        if self.figures_folder is not None:
            return figure_data_uri(self.figures_folder, src)
        return None

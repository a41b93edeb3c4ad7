"""The cited page for the web page: where a quote lies in a passage, and the PDF page itself
with the quote marked.

`find_span` locates a quote in text the way a reader would (ignoring case, spacing, line
breaks and quote styles); `excerpt` cuts the passage around it; `render_page` draws a PDF
page with pdfium and boxes the quote in yellow. Turning these into HTML is the page's job.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from assistant.types import Citation

log = logging.getLogger("ivb.sources")

MAX_PAGE_PIXELS = 2000  # longest side of a rendered page
_PDFIUM_LOCK = threading.Lock()


@dataclass(frozen=True)
class Excerpt:
    """A passage cut around its quote: ``before`` + ``quote`` + ``after`` is a slice of it.

    ``quote`` is empty when the quote was not found; ``cut_before`` / ``cut_after`` say
    whether text was left out at either end.
    """

    before: str
    quote: str
    after: str
    cut_before: bool = False
    cut_after: bool = False


def _norm_char(ch: str) -> str:
    if ch in "‘’‚′`´":
        return "'"
    if ch in "“”„″":
        return '"'
    if ch in "‐‑‒–—−":
        return "-"
    return ch.lower()


def _normalise(text: str) -> tuple[str, list[int]]:
    """Text folded for matching (lower case, one kind of quote and dash, single spaces),
    with the index in the original text of every folded character."""
    out: list[str] = []
    where: list[int] = []
    space = True
    for i, ch in enumerate(text):
        if ch.isspace() or ch in "\x00\x02\ufffe\xad":
            if not space:
                out.append(" ")
                where.append(i)
                space = True
            continue
        out.append(_norm_char(ch))
        where.append(i)
        space = False
    return "".join(out), where


def find_span(text: str, quote: str) -> tuple[int, int] | None:
    """Where a quote lies in a text, ignoring case, spacing, line breaks and quote styles.

    Long quotes that do not match whole (a hyphenated line break, a header in between) are
    matched by their first and last words.

    Args:
        text: the text to search.
        quote: the quoted span.

    Returns:
        (start, end) indices into ``text``, end exclusive; None when not found.
    """
    hay, where = _normalise(text)
    needle, _ = _normalise(quote)
    needle = needle.strip()
    if not needle or not hay:
        return None
    pos = hay.find(needle)
    if pos >= 0:
        return where[pos], where[pos + len(needle) - 1] + 1
    words = needle.split(" ")
    if len(words) < 6:
        return None
    head, tail = " ".join(words[:5]), " ".join(words[-5:])
    start = hay.find(head)
    if start < 0:
        return None
    end = hay.find(tail, start + len(head))
    if end < 0:
        return where[start], where[start + len(head) - 1] + 1
    return where[start], where[end + len(tail) - 1] + 1


def excerpt(text: str, quote: str, window: int | None = 280) -> Excerpt:
    """The part of a passage to show with its quote: ``window`` characters on each side.

    Args:
        text: the passage text.
        quote: the quoted span.
        window: characters of context on each side (None: the whole text). When the quote
            is not found, the first ``2 * window`` characters.
    """
    span = find_span(text, quote)
    if span is None:
        body = text if window is None else text[: 2 * window]
        return Excerpt(body, "", "", cut_after=window is not None and len(text) > 2 * window)
    start, end = span
    lo = 0 if window is None else max(0, start - window)
    hi = len(text) if window is None else min(len(text), end + window)
    return Excerpt(text[lo:start], text[start:end], text[end:hi], lo > 0, hi < len(text))


def citation_page(citation: Citation) -> Image.Image | None:
    """The cited page with the quote marked.

    Args:
        citation: source, page_index and quote.

    Returns:
        The image; None for a source that is not a PDF or a page that cannot be drawn.
    """
    if not str(citation.source).lower().endswith(".pdf"):
        return None
    return render_page(citation.source, citation.page_index, citation.quote)


def render_page(
    source: str | Path, page_index: int, quote: str = "", scale: float = 1.6
) -> Image.Image | None:
    """A PDF page as an image, the quote marked with a translucent yellow box.

    Args:
        source: the PDF file.
        page_index: the 0-based page.
        quote: the text to mark (not marked when it cannot be found on the page).
        scale: pixels per PDF point.

    Returns:
        The image, or None when the file is gone or not a readable PDF.
    """
    path = Path(source)
    try:
        mtime = path.stat().st_mtime_ns
        with _PDFIUM_LOCK:  # pdfium is not thread-safe; gradio runs handlers in threads
            return _render_page_cached(str(path), mtime, int(page_index), quote, scale)
    except Exception as exc:  # a page that cannot be drawn must not break the chat
        log.warning("cannot render %s page %s: %s", path, page_index, exc)
        return None


@lru_cache(maxsize=32)
def _render_page_cached(
    source: str, mtime_ns: int, page_index: int, quote: str, scale: float
) -> Image.Image:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(source)
    try:
        page = pdf[page_index]
        width, height = page.get_size()
        scale = min(scale, MAX_PAGE_PIXELS / max(width, height, 1.0))  # a poster stays small
        image = page.render(scale=scale).to_pil().convert("RGB")
        rects = _quote_rects(page, quote) if quote else []
        if rects:
            left, _bottom, _right, top = page.get_bbox()
            overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
            draw = ImageDraw.Draw(overlay)
            for r_left, r_bottom, r_right, r_top in rects:
                box = (
                    (r_left - left) * scale - 2,
                    (top - r_top) * scale - 2,
                    (r_right - left) * scale + 2,
                    (top - r_bottom) * scale + 2,
                )
                draw.rectangle(box, fill=(250, 204, 21, 90), outline=(180, 83, 9, 255), width=2)
            image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
        return image
    finally:
        pdf.close()


def _quote_rects(page: Any, quote: str) -> list[tuple[float, float, float, float]]:
    """Rectangles (PDF points) covering the quote's characters on a page; [] if not found."""
    if page.get_rotation() % 360:
        return []  # coordinates of rotated pages are not worth the risk of a wrong mark
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count)
        if len(text) != count:
            return []  # characters outside the BMP: indices would not line up
        span = find_span(text, quote)
        if span is None:
            return []
        start, end = span
        n = textpage.count_rects(start, end - start)
        return [textpage.get_rect(i) for i in range(n)]
    finally:
        textpage.close()

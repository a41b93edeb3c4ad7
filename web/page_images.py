"""The cited page for the web page: where a citation's quotes lie in a passage, and the PDF
page itself with them marked.

`find_span` locates a quote in text the way a reader would (ignoring case, spacing, line
breaks and quote styles), `find_spans` every quote of a citation; `excerpt` cuts the
passage around them; `render_page` draws a PDF page with pdfium and boxes each quote in
yellow. Turning these into HTML is the page's job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
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
    """A passage cut around its quotes: the texts of ``pieces`` joined are a slice of it.

    Each piece is (text, quoted): quoted pieces are the quotes found, the others the text
    between and around them; no piece is quoted when no quote was found. ``cut_before`` /
    ``cut_after`` say whether text was left out at either end.
    """

    pieces: tuple[tuple[str, bool], ...]
    cut_before: bool = False
    cut_after: bool = False

    @property
    def quoted(self) -> list[str]:
        """The quoted pieces, in text order."""
        return [piece for piece, quoted in self.pieces if quoted]


def as_quotes(quotes: str | Sequence[str]) -> tuple[str, ...]:
    """One quote or several as a tuple of the non-empty ones."""
    return tuple(q for q in ([quotes] if isinstance(quotes, str) else quotes) if q.strip())


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


def find_spans(text: str, quotes: str | Sequence[str]) -> list[tuple[int, int]]:
    """Where each quote lies in a text (`find_span`), in text order, overlapping or
    touching spans joined; a quote that is not found is left out.

    Args:
        text: the text to search.
        quotes: the quoted spans (one string: a single quote).
    """
    found = sorted(s for q in as_quotes(quotes) if (s := find_span(text, q)) is not None)
    spans: list[tuple[int, int]] = []
    for start, end in found:
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def excerpt(text: str, quotes: str | Sequence[str], window: int | None = 280) -> Excerpt:
    """The part of a passage to show with its quotes: from ``window`` characters before
    the first to ``window`` characters after the last, everything between them included.

    Args:
        text: the passage text.
        quotes: the quoted spans (one string: a single quote).
        window: characters of context on each side (None: the whole text). When no quote
            is found, the first ``2 * window`` characters.
    """
    spans = find_spans(text, quotes)
    if not spans:
        body = text if window is None else text[: 2 * window]
        cut = window is not None and len(text) > 2 * window
        return Excerpt(((body, False),) if body else (), cut_after=cut)
    lo = 0 if window is None else max(0, spans[0][0] - window)
    hi = len(text) if window is None else min(len(text), spans[-1][1] + window)
    pieces: list[tuple[str, bool]] = []
    at = lo
    for start, end in spans:
        if start > at:
            pieces.append((text[at:start], False))
        pieces.append((text[start:end], True))
        at = end
    if hi > at:
        pieces.append((text[at:hi], False))
    return Excerpt(tuple(pieces), lo > 0, hi < len(text))


def citation_page(citation: Citation) -> Image.Image | None:
    """The cited page with every quote of the citation marked.

    Args:
        citation: source, page_index and quotes.

    Returns:
        The image; None for a source that is not a PDF or a page that cannot be drawn.
    """
    if not str(citation.source).lower().endswith(".pdf"):
        return None
    return render_page(citation.source, citation.page_index, citation.quotes)


def render_page(
    source: str | Path, page_index: int, quote: str | Sequence[str] = "", scale: float = 1.6
) -> Image.Image | None:
    """A PDF page as an image, each quote marked with a translucent yellow box.

    Args:
        source: the PDF file.
        page_index: the 0-based page.
        quote: the text to mark, or several (one not found on the page is not marked).
        scale: pixels per PDF point.

    Returns:
        The image, or None when the file is gone or not a readable PDF.
    """
    path = Path(source)
    try:
        mtime = path.stat().st_mtime_ns
        with _PDFIUM_LOCK:  # pdfium is not thread-safe; gradio runs handlers in threads
            quotes = as_quotes(quote)
            return _render_page_cached(str(path), mtime, int(page_index), quotes, scale)
    except Exception as exc:  # a page that cannot be drawn must not break the chat
        log.warning("cannot render %s page %s: %s", path, page_index, exc)
        return None


@lru_cache(maxsize=32)
def _render_page_cached(
    source: str, mtime_ns: int, page_index: int, quotes: tuple[str, ...], scale: float
) -> Image.Image:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(source)
    try:
        page = pdf[page_index]
        width, height = page.get_size()
        scale = min(scale, MAX_PAGE_PIXELS / max(width, height, 1.0))  # a poster stays small
        image = page.render(scale=scale).to_pil().convert("RGB")
        rects = _quote_rects(page, quotes) if quotes else []
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


def _quote_rects(page: Any, quotes: Sequence[str]) -> list[tuple[float, float, float, float]]:
    """Rectangles (PDF points) covering the quotes' characters on a page; [] if none is
    found."""
    if page.get_rotation() % 360:
        return []  # coordinates of rotated pages are not worth the risk of a wrong mark
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count)
        if len(text) != count:
            return []  # characters outside the BMP: indices would not line up
        rects = []
        for start, end in find_spans(text, quotes):
            n = textpage.count_rects(start, end - start)
            rects += [textpage.get_rect(i) for i in range(n)]
        return rects
    finally:
        textpage.close()

"""Running headers, footers and page numbers: lines that recur at the same place on pages,
and notices that the text goes on overleaf ("Wordt vervolgd op de volgende pagina…").

Own code: pypdf and pypdfium2 extract page text but do not mark page furniture (PDF
artifacts are rarely tagged in exported office documents), so recurrence decides.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from assistant.letterhead import is_continuation
from ingest.readers.pdf_layout import Line

TOP_BAND = 0.8  # share of the page height above which a line can be a header
BOTTOM_BAND = 0.15  # share below which a line can be a footer
_Y_TOLERANCE = 3.0  # points: "the same place"
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—]\s*)?(?:pagina|page|blad|p\.)?\s*\d{1,4}(?:\s*(?:van|of|/)\s*\d{1,4})?(?:\s*[-–—])?$"
    r"|^[ivxlcdm]{1,6}$",
    re.IGNORECASE,
)


_ROMAN_EDGE = re.compile(r"^[ivxlcdm]{1,6}\b|\b[ivxlcdm]{1,6}$")


def _key(text: str) -> str:
    """The line with numbers masked, so "Pagina 3 van 4" and "Pagina 4 van 4" are one line."""
    key = re.sub(r"\d+", "#", re.sub(r"\s+", " ", text)).strip().lower()
    key = _ROMAN_EDGE.sub("#", key)  # "... Abacus iii" on front matter, "... 6 / 46" after
    return re.sub(r"#\s*(?:/|van|of)\s*#", "#", key)


def _in_band(line: Line, height: float) -> bool:
    return (
        line.y is not None
        and height > 0
        and (line.y >= TOP_BAND * height or line.y <= BOTTOM_BAND * height)
    )


def running_lines(pages: Sequence[Sequence[Line]], heights: Sequence[float]) -> set[str]:
    """Keys of lines that recur near the top or bottom of many pages.

    Args:
        pages: each page's physical lines (with baselines in points).
        heights: each page's height in points.

    Returns:
        The keys (see :func:`strip_running`) of lines found at the same height, in the top
        or bottom band, on at least three pages and a fifth of all pages.
    """
    needed = max(3, len(pages) // 5)
    if len(pages) < 3:
        return set()
    seen: Counter[tuple[str, int]] = Counter()
    for lines, height in zip(pages, heights, strict=True):
        places = {
            (_key(line.text), round(line.y / _Y_TOLERANCE))  # type: ignore[operator]
            for line in lines
            if _in_band(line, height)
        }
        seen.update(places)
    # Neighbouring buckets are one place: merge counts of a key at y and y +/- one bucket.
    keys: set[str] = set()
    for (key, bucket), count in seen.items():
        total = count + seen.get((key, bucket + 1), 0)
        if total >= needed:
            keys.add(key)
    return keys


def strip_running(
    lines: list[Line], height: float, running: set[str]
) -> tuple[list[Line], list[str]]:
    """The page's lines without running headers/footers, bare page numbers and
    continuation notices ("Wordt vervolgd op de volgende pagina…", "z.o.z."). A notice
    stands under a table that runs over the page, often above the footer band, so it is
    dropped wherever it stands on the page; it is a whole line, never a sentence's part.

    Args:
        lines: the page's physical lines.
        height: the page height in points.
        running: keys from :func:`running_lines`.

    Returns:
        The lines to keep, and the texts of the lines removed.
    """
    kept: list[Line] = []
    removed: list[str] = []
    for line in lines:
        if is_continuation(line.text) or (
            _in_band(line, height)
            and (_key(line.text) in running or _PAGE_NUMBER.match(line.text.strip()))
        ):
            removed.append(line.text)
        else:
            kept.append(line)
    return kept, removed


def is_running(text: str, running: set[str]) -> bool:
    """Whether ``text`` is one of the running lines (by key) or a continuation notice,
    wherever it stands."""
    return _key(text) in running or is_continuation(text)

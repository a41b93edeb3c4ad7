"""Columns and tables on a PDF page: reading order and row headers from text positions.

pypdf reads a page line by line across the whole width, so two columns interleave and a
table row loses its column headers. pypdfium2 (already a dependency) gives each run of
text with its bounding box; from those boxes this module (own code: neither library groups
text into columns or table cells) finds

- a column region: three or more rows of two runs each, the second starting at one gutter,
  the first filling its column (prose, not a label and a value); read left, then right;
- a table: two or more rows of three or more aligned runs, with the header rows above
  them; each row becomes one line that carries its headers ("Urk – 2023: 37").

The region's pypdf lines are then replaced by these lines, in reading order.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest.normalise import collapse
from ingest.readers.pdf_layout import Line

_ALIGN = 4.0  # points: runs starting (or ending) this close are in one column
_MAX_HEADER_ROWS = 4


@dataclass
class _Run:
    x0: float
    x1: float
    bottom: float
    top: float
    text: str


@dataclass
class _Row:
    runs: list[_Run] = field(default_factory=list)

    @property
    def top(self) -> float:
        return max(run.top for run in self.runs)

    @property
    def bottom(self) -> float:
        return min(run.bottom for run in self.runs)

    @property
    def height(self) -> float:
        return statistics.median(run.top - run.bottom for run in self.runs) or 10.0


@dataclass
class Region:
    """Lines that replace the pypdf lines whose baseline lies in ``[bottom, top]``."""

    top: float
    bottom: float
    lines: list[Line]


def page_runs(textpage: object) -> list[_Run]:
    """The text runs of a pypdfium2 text page, with their boxes (points, origin bottom-left)."""
    runs = []
    for index in range(textpage.count_rects()):  # type: ignore[attr-defined]
        left, bottom, right, top = textpage.get_rect(index)  # type: ignore[attr-defined]
        text = collapse(textpage.get_text_bounded(left, bottom, right, top))  # type: ignore[attr-defined]
        if text:
            runs.append(_Run(left, right, bottom, top, text))
    return runs


def _rows(runs: list[_Run]) -> list[_Row]:
    """Runs grouped into rows by vertical overlap, top to bottom, each row left to right."""
    rows: list[_Row] = []
    for run in sorted(runs, key=lambda r: (-r.top, r.x0)):
        middle = (run.top + run.bottom) / 2
        for row in rows[-3:]:
            if row.bottom <= middle <= row.top:
                row.runs.append(run)
                break
        else:
            rows.append(_Row([run]))
    for row in rows:
        row.runs = _merged(sorted(row.runs, key=lambda r: r.x0), row.height)
    return rows


def _merged(runs: list[_Run], height: float) -> list[_Run]:
    """Neighbouring runs closer than a letter height are one run (pypdfium2 splits runs at
    font changes and sometimes mid-word); only real gaps separate cells and columns."""
    merged: list[_Run] = []
    for run in runs:
        last = merged[-1] if merged else None
        gap = run.x0 - last.x1 if last else 0.0
        if last is not None and gap < height:
            glue = " " if gap > 0.25 * height and not last.text.endswith(" ") else ""
            merged[-1] = _Run(
                last.x0,
                max(last.x1, run.x1),
                min(last.bottom, run.bottom),
                max(last.top, run.top),
                collapse(last.text + glue + run.text),
            )
        else:
            merged.append(run)
    return merged


def find_regions(
    runs: list[_Run], size: float, skip: Callable[[str], bool] = lambda text: False
) -> list[Region]:
    """Column regions and tables among a page's runs.

    Args:
        runs: the page's runs from :func:`page_runs`.
        size: the body font size in points (for the new lines; 0 when unknown).
        skip: true for a run's text that is page furniture (a running header, a page
            number), which must not become a table header.

    Returns:
        The regions found, top to bottom; empty for an ordinary page.
    """
    rows = _rows([run for run in runs if not skip(run.text)])
    regions: list[Region] = []
    used: set[int] = set()
    regions += _tables(rows, used, size)
    regions += _columns(rows, used, size)
    return sorted(regions, key=lambda region: -region.top)


def _aligned(a: _Run, b: _Run) -> bool:
    return abs(a.x0 - b.x0) <= _ALIGN or abs(a.x1 - b.x1) <= _ALIGN


def _tables(rows: list[_Row], used: set[int], size: float) -> list[Region]:
    regions = []
    i = 0
    while i < len(rows):
        width = len(rows[i].runs)
        j = i
        while (
            j + 1 < len(rows)
            and width >= 3
            and len(rows[j + 1].runs) == width
            and all(_aligned(a, b) for a, b in zip(rows[i].runs, rows[j + 1].runs, strict=True))
        ):
            j += 1
        if width < 3 or j == i:
            i += 1
            continue
        body = rows[i : j + 1]
        spans = [
            (min(row.runs[c].x0 for row in body), max(row.runs[c].x1 for row in body))
            for c in range(width)
        ]
        headers: list[list[str]] = [[] for _ in range(width)]
        first_header = i
        for k in range(i - 1, max(i - 1 - _MAX_HEADER_ROWS, -1), -1):
            above = rows[k]
            if k in used or above.bottom - rows[first_header].top > 3 * above.height:
                break
            if len(above.runs) < 2 or any(
                _spanned(run, spans) > 1 or len(run.text.split()) > 5 or run.text.endswith(".")
                for run in above.runs
            ):
                break  # one run, across columns or a sentence: wrapped text, not a header
            for run in above.runs:
                headers[_column_of(run, spans)].insert(0, run.text)
            first_header = k
        if first_header == i and len(body) >= 3 and _header_like(body):
            headers = [[run.text] for run in body[0].runs]  # the table's first row names it
            body = body[1:]
        names = [collapse(" ".join(parts)) for parts in headers]
        lines = [
            Line(text=_row_text(row, names), size=size, y=row.bottom + 1, standalone=True)
            for row in body
        ]
        if any(names):  # the header itself, once, above the rows that repeat it
            header_line = Line(text=" | ".join(names), size=size, y=body[0].top, standalone=True)
            lines.insert(0, header_line)
        used.update(range(first_header, j + 1))
        regions.append(
            Region(top=rows[first_header].top + 1, bottom=body[-1].bottom - 1, lines=lines)
        )
        i = j + 1
    return regions


def _header_like(body: list[_Row]) -> bool:
    """The first row has no digits while a later row has: column names above values."""
    first = " ".join(run.text for run in body[0].runs)
    later = " ".join(run.text for row in body[1:] for run in row.runs)
    return not any(ch.isdigit() for ch in first) and any(ch.isdigit() for ch in later)


def _spanned(run: _Run, spans: list[tuple[float, float]]) -> int:
    """How many column spans ``run`` overlaps."""
    return sum(1 for x0, x1 in spans if min(run.x1, x1) - max(run.x0, x0) > 0)


def _column_of(run: _Run, spans: list[tuple[float, float]]) -> int:
    """The column whose span overlaps ``run`` most (nearest centre when none overlaps)."""

    def overlap(span: tuple[float, float]) -> float:
        return min(run.x1, span[1]) - max(run.x0, span[0])

    best = max(range(len(spans)), key=lambda c: overlap(spans[c]))
    if overlap(spans[best]) > 0:
        return best
    centre = (run.x0 + run.x1) / 2
    return min(range(len(spans)), key=lambda c: abs((spans[c][0] + spans[c][1]) / 2 - centre))


def _row_text(row: _Row, names: list[str]) -> str:
    """ "Urk – Woninginbraken 2023: 37; ..." when the table has headers, else "a | b | c"."""
    cells = [run.text for run in row.runs]
    if not any(names[1:]):
        return " | ".join(cells)
    pairs = [
        f"{name}: {cell}" if name else cell for name, cell in zip(names[1:], cells[1:], strict=True)
    ]
    return f"{cells[0]} – " + "; ".join(pairs)


def _columns(rows: list[_Row], used: set[int], size: float) -> list[Region]:
    regions = []
    i = 0
    while i < len(rows):
        j = i
        gutter = rows[i].runs[1].x0 if len(rows[i].runs) == 2 and i not in used else None
        while (
            gutter is not None
            and j + 1 < len(rows)
            and j + 1 not in used
            and len(rows[j + 1].runs) == 2
            and abs(rows[j + 1].runs[1].x0 - gutter) <= _ALIGN
        ):
            j += 1
        body = rows[i : j + 1]
        if gutter is None or len(body) < 3 or not _prose(body, gutter):
            i += 1
            continue
        left_edge = min(row.runs[0].x0 for row in body)
        right_edge = max(row.runs[1].x1 for row in body)
        measure = (gutter - left_edge) / max(right_edge - left_edge, 1.0)
        lines = [
            Line(text=row.runs[side].text, size=size, y=row.bottom + 1, measure=measure)
            for side in (0, 1)
            for row in body
        ]
        used.update(range(i, j + 1))
        regions.append(Region(top=body[0].top + 1, bottom=body[-1].bottom - 1, lines=lines))
        i = j + 1
    return regions


def _prose(body: list[_Row], gutter: float) -> bool:
    """Both sides are running text: the left runs fill most of their column."""
    left_edge = min(row.runs[0].x0 for row in body)
    fill = statistics.median(
        (row.runs[0].x1 - left_edge) / max(gutter - left_edge, 1.0) for row in body
    )
    words = statistics.median(
        min(len(row.runs[0].text.split()), len(row.runs[1].text.split())) for row in body
    )
    return fill >= 0.6 and words >= 3


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def apply_regions(lines: list[Line], regions: list[Region]) -> list[Line]:
    """The page's pypdf lines with each region's lines put in place of those inside it.

    A region's lines take the font size of the first pypdf line they replace.
    """
    if not regions:
        return lines

    def region_of(line: Line) -> int | None:
        return next(
            (
                n
                for n, region in enumerate(regions)
                if line.y is not None and region.bottom <= line.y <= region.top
            ),
            None,
        )

    # A region must keep every word of the lines it replaces (a wrapped table cell that
    # fell outside its rows would otherwise be lost): else the page keeps pypdf's lines.
    covered: dict[int, set[str]] = {}
    for line in lines:
        n = region_of(line)
        if n is not None:
            covered.setdefault(n, set()).update(_words(line.text))
    lossy = {
        n
        for n, words in covered.items()
        if not words <= set().union(*(_words(new.text) for new in regions[n].lines))
    }
    result: list[Line] = []
    placed: set[int] = set()
    for line in lines:
        inside = region_of(line)
        if inside in lossy:
            inside = None
        if inside is None:
            result.append(line)
            continue
        if inside not in placed:
            placed.add(inside)
            for new in regions[inside].lines:
                new.size = line.size or new.size
                new.bold = 0.0
                result.append(new)
    return result

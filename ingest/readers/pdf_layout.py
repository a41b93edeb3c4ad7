"""PDF layout: a page's physical lines (text, font size, boldness, position) into paragraphs.

pypdf gives text per text-showing operation; it has no notion of paragraphs, headings or
hard-wrapped lines, so this module rebuilds them from font sizes and baselines (own code:
neither pypdf nor pypdfium2 offers paragraph or heading detection).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pypdf

from ingest.normalise import collapse
from ingest.words import is_dutch_word

_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demibold|demi\b|,b$|-b$", re.IGNORECASE)
_BULLET = re.compile(r"^(?:[-–—•●▪■◦○·*]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s")
_SYMBOL_BULLET = re.compile(r"^[-–—•●▪■◦○·*]\s")
_TIME = re.compile(r"^\d{1,2}[:.]\d{2}\b")
_VOWELS = set("aeiouy")
_TOKEN = re.compile(r"\w+(?:-\w+)*")
# First parts that Dutch joins with a hyphen: "oud-wethouder", "ex-partner", "niet-roker".
_HYPHEN_PREFIXES = frozenset({"oud", "ex", "niet", "non", "pro", "anti", "co", "vice", "adjunct"})


@dataclass
class Line:
    """One physical text line of a PDF page, with what the layout tells about it."""

    text: str
    size: float = 0.0  # dominant effective font size; 0 when unknown
    bold: float = 0.0  # share of characters set in a bold font
    y: float | None = None  # baseline, user space (larger is higher on the page)
    heading: bool = False
    standalone: bool = False  # a table row: never joined with the lines around it
    measure: float | None = None  # a column's share of the text width, for wrapped lines


def page_lines(page: pypdf.PageObject) -> list[Line]:
    """Lines of one page with font size, boldness and position, from pypdf's text visitor."""
    pieces: list[tuple[str, float, bool, float | None]] = []
    bold_cache: dict[int, bool] = {}

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], font: Any, size: float) -> None:
        if not text:
            return
        key = id(font)
        if key not in bold_cache:
            bold_cache[key] = _font_is_bold(font)
        # Text space to user space: the text matrix times the current transformation matrix.
        c = tm[2] * cm[0] + tm[3] * cm[2]
        d = tm[2] * cm[1] + tm[3] * cm[3]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = (c * c + d * d) ** 0.5 or 1.0
        pieces.append((text, float(size or 0) * scale, bold_cache[key], y))

    raw = page.extract_text(visitor_text=visit)
    if "".join(piece[0] for piece in pieces) != raw:
        # The visitor did not see what extract_text returned: keep the text, lose the style.
        return [Line(text=collapse(line)) for line in raw.split("\n") if collapse(line)]

    lines: list[Line] = []
    parts: list[str] = []
    weights: Counter[tuple[float, bool]] = Counter()
    first_y: list[float | None] = [None]

    def close() -> None:
        text = collapse("".join(parts))
        if text:
            total = sum(weights.values())
            if total:
                size = Counter({s: w for (s, _b), w in weights.items()}).most_common(1)[0][0]
                bold = sum(w for (_s, b), w in weights.items() if b) / total
            else:
                size, bold = 0.0, 0.0
            lines.append(Line(text=text, size=size, bold=bold, y=first_y[0]))
        parts.clear()
        weights.clear()
        first_y[0] = None

    for text, size, bold, y in pieces:
        segments = text.split("\n")
        for number, segment in enumerate(segments):
            if number > 0:
                close()
            if segment:
                parts.append(segment)
                visible = sum(1 for ch in segment if not ch.isspace())
                if visible:
                    weights[(round(size * 2) / 2, bold)] += visible
                    if first_y[0] is None:
                        first_y[0] = y
    close()
    return lines


def _font_is_bold(font: Any) -> bool:
    try:
        if not font:
            return False
        name = str(font.get("/BaseFont", "")).split("+", 1)[-1]
        if _BOLD_NAME.search(name):
            return True
        descriptor = _resolved(font, "/FontDescriptor")
        descendants = _resolved(font, "/DescendantFonts")
        if descriptor is None and descendants:
            descriptor = _resolved(descendants[0].get_object(), "/FontDescriptor")
        if descriptor is None:
            return False
        weight = descriptor.get("/FontWeight")
        if weight is not None and float(weight) >= 600:
            return True
        flags = descriptor.get("/Flags")
        return flags is not None and bool(int(flags) & (1 << 18))  # ForceBold
    except Exception:
        return False


def _resolved(dictionary: Any, key: str) -> Any:
    value = dictionary.get(key)
    return value.get_object() if value is not None else None


@dataclass(frozen=True)
class _Stats:
    body_size: float  # 0 when the PDF gave no sizes
    body_bold: bool
    line_gap: float | None  # typical baseline distance between body lines
    full_line: int  # characters in a typical full body line


def _document_stats(pages: list[list[Line]]) -> _Stats:
    sizes: Counter[float] = Counter()
    bold_chars = 0
    all_chars = 0
    for lines in pages:
        for line in lines:
            if line.size:
                sizes[line.size] += len(line.text)
    body_size = sizes.most_common(1)[0][0] if sizes else 0.0
    gaps: list[float] = []
    lengths: list[int] = []
    for lines in pages:
        previous: Line | None = None
        for line in lines:
            is_body = not body_size or abs(line.size - body_size) < 0.6
            if is_body:
                lengths.append(len(line.text))
                bold_chars += round(line.bold * len(line.text))
                all_chars += len(line.text)
            if (
                is_body
                and previous is not None
                and previous.y is not None
                and line.y is not None
                and abs(previous.size - line.size) < 0.6
            ):
                gap = previous.y - line.y
                if 0 < gap < 3 * (line.size or 12):
                    gaps.append(gap)
            previous = line if is_body else None
    lengths.sort()
    full_line = lengths[int(0.9 * (len(lengths) - 1))] if lengths else 80
    return _Stats(
        body_size=body_size,
        body_bold=all_chars > 0 and bold_chars / all_chars > 0.5,
        line_gap=statistics.median(gaps) if gaps else None,
        full_line=max(full_line, 30),
    )


def _is_heading(line: Line, stats: _Stats) -> bool:
    text = line.text
    if not stats.body_size or not line.size:
        return False
    if len(text) > 120 or len(text.split()) > 16 or _SYMBOL_BULLET.match(text):
        return False
    if not any(ch.isalpha() for ch in text):
        return False
    if line.size >= stats.body_size * 1.12:
        return True
    return line.bold >= 0.8 and not stats.body_bold and not text.endswith((".", ",", ";"))


def _merge_heading_lines(lines: list[Line]) -> list[Line]:
    """Join a heading that wrapped onto a second line back into one line."""
    merged: list[Line] = []
    for line in lines:
        previous = merged[-1] if merged else None
        if (
            line.heading
            and previous is not None
            and previous.heading
            and abs(previous.size - line.size) < 0.6
            and (previous.bold >= 0.5) == (line.bold >= 0.5)
            and (
                previous.text.endswith((",", ";", ":", "-", "–", "&"))
                or line.text[:1].islower()
                or line.text[:1] in "(&"
            )
            and (previous.y is None or line.y is None or 0 < previous.y - line.y < 2 * line.size)
        ):
            merged[-1] = Line(
                text=f"{previous.text} {line.text}",
                size=line.size,
                bold=line.bold,
                y=line.y,
                heading=True,
            )
        else:
            merged.append(line)
    return merged


def _join_wrapped(
    previous: str, physical: Line, text: str, stats: _Stats, vocabulary: frozenset[str]
) -> str | None:
    """The paragraph line with ``text`` joined on, or None when ``text`` starts a new line.

    ``previous`` is the logical line so far; ``physical`` the last physical line in it;
    ``vocabulary`` the document's own words (lower case), for line-end hyphens.
    """
    if _BULLET.match(text) or _TIME.match(text):
        return None
    if physical.text.endswith("\u00ad") and text[:1].isalnum():
        return previous.removesuffix("\u00ad") + text  # a soft hyphen: always a word break
    hyphen = re.search(r"(\w+)-$", physical.text)
    if hyphen and text[:1].isalnum():
        first_word = text.split()[0].rstrip(",.;:")
        if text[:1].islower() and first_word in {"en", "of", "tot", "en/of", "t/m"}:
            return f"{previous} {text}"  # "zorg- en veiligheidshuis"
        if hyphen_is_break(hyphen.group(1), re.match(r"\w*", text).group(), vocabulary):
            return previous[:-1] + text  # a hyphenated word: "samen-\nwerking"
        return previous + text  # "Noord-Holland", "oud-wethouder", "e-mailadres": keep it
    full_line = stats.full_line
    if physical.size and stats.body_size:
        full_line *= stats.body_size / physical.size  # larger type, fewer characters a line
    if physical.measure:
        full_line *= physical.measure  # a column holds fewer characters a line
    if len(physical.text) < 0.7 * full_line:
        return None  # the previous line ended early: it closed an item or paragraph
    return f"{previous} {text}"


def hyphen_is_break(left: str, right: str, vocabulary: frozenset[str] = frozenset()) -> bool:
    """Whether a line-end hyphen between ``left`` and ``right`` only broke the word.

    Args:
        left: the word part before the hyphen (``"samen"`` in "samen-\\nwerking").
        right: the word part that starts the next line.
        vocabulary: the document's own words in lower case; hyphenated compounds it uses
            elsewhere ("oud-wethouder") count as evidence too.

    Returns:
        True to join without the hyphen ("samenwerking"), False to keep it ("Noord-Holland",
        "e-mailadres", "oud-wethouder", "2024-2027").
    """
    if not left or not right:
        return False
    before, after = left[-1], right[0]
    if not (after.islower() and before.islower()) or len(left) == 1:
        return False  # capitals, digits, abbreviations, single letters ("e-mail") keep it
    joined = (left + right).lower()
    if f"{left}-{right}".lower() in vocabulary:
        return False  # the document writes this compound with a hyphen elsewhere
    if joined in vocabulary:
        return True
    if is_dutch_word(joined):
        return True
    if left.lower() in _HYPHEN_PREFIXES:
        return False
    return not (before in _VOWELS and after in _VOWELS)  # "zee-egel", "privacy-eisen"


def layout(pages: list[list[Line]]) -> list[tuple[str, list[str]]]:
    """Turn each page's physical lines into normalised text and the headings on it."""
    stats = _document_stats(pages)
    vocabulary = frozenset(
        word.lower()
        for lines in pages
        for line in lines
        for word in _TOKEN.findall(line.text.removesuffix("-"))
    )
    result: list[tuple[str, list[str]]] = []
    for lines in pages:
        for line in lines:
            line.heading = _is_heading(line, stats)
        _unmark_styled_paragraphs(lines)
        lines = _merge_heading_lines(lines)
        blocks: list[str] = []
        headings: list[str] = []
        paragraph: list[str] = []
        physical = Line(text="")
        joinable = False
        previous: Line | None = None
        for line in lines:
            if line.heading:
                if paragraph:
                    blocks.append("\n".join(paragraph))
                paragraph = [line.text]
                headings.append(line.text)
                joinable = False
                previous = line
                continue
            if (
                previous is not None
                and not previous.heading
                and (
                    _paragraph_break(previous, line, stats)
                    or previous.standalone != line.standalone
                )
            ):
                blocks.append("\n".join(paragraph))
                paragraph = []
            joined = (
                _join_wrapped(paragraph[-1], physical, line.text, stats, vocabulary)
                if paragraph and joinable and not line.standalone
                else None
            )
            if joined is None:
                paragraph.append(line.text)
            else:
                paragraph[-1] = joined
            physical = line
            joinable = not line.standalone
            previous = line
        if paragraph:
            blocks.append("\n".join(paragraph))
        result.append(("\n\n".join(b for b in blocks if b).strip(), headings))
    return result


def _paragraph_break(previous: Line, line: Line, stats: _Stats) -> bool:
    if stats.line_gap is None or previous.y is None or line.y is None:
        return False
    gap = previous.y - line.y
    if gap < -1:
        return True  # moved up: a new column or a text box
    # Compare leading relative to the font size, so a paragraph set larger stays one.
    if line.size and stats.body_size:
        return gap / line.size > 1.3 * stats.line_gap / stats.body_size
    return gap > 1.3 * stats.line_gap


def _unmark_styled_paragraphs(lines: list[Line], longest_heading: int = 3) -> None:
    """Four or more heading-styled lines in a row are a paragraph set large or bold."""
    run: list[Line] = []
    for line in [*lines, None]:
        same_style = (
            line is not None
            and line.heading
            and (
                not run
                or (
                    abs(run[-1].size - line.size) < 0.6
                    and (run[-1].bold >= 0.5) == (line.bold >= 0.5)
                )
            )
        )
        if same_style:
            run.append(line)
            continue
        if len(run) > longest_heading:
            for member in run:
                member.heading = False
        run = [line] if line is not None and line.heading else []

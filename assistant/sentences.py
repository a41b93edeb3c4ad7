"""Sentence splitting with verbatim spans, for answers and for passage text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd

_BULLET_OR_BREAK = re.compile(r"\n\s*\n|\n(?=\s*(?:[-•*▪]|\d+[.)]|[a-z][.)])\s)")
_LIST_ITEM = re.compile(r"(?:[-•*▪·–]\s|\d{1,2}[.)]\s?(?=[^\W\d])|[a-z][.)]\s)")
_MARKER = re.compile(r"\s*\[(\d{1,2})(?:\s*[,;]\s*\d{1,2})*\]")
_MARKER_NUMS = re.compile(r"\d{1,2}")
# pysbd's Dutch rules end a sentence after some titles and abbreviations ("de heer drs. ing.
# | G.J. Braas"); a segment that ends in one runs on into the next.
_RUNS_ON = re.compile(r"\b(?:drs|ing|ir|mr|dr|prof|mevr|dhr|ds|bc|jhr|art|nr)\.$", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """A sentence and where it stands in its text."""

    text: str
    start: int
    end: int


@lru_cache(maxsize=4)
def _segmenter(language: str) -> pysbd.Segmenter:
    try:
        return pysbd.Segmenter(language=language, clean=False)
    except ValueError:
        return pysbd.Segmenter(language="nl", clean=False)


def split_spans(text: str, language: str = "nl") -> list[Span]:
    """Sentences of a text as verbatim spans (bullets and blank lines also break).

    Args:
        text: passage or answer text.
        language: ISO code for the sentence rules.
    """
    spans: list[Span] = []
    pos = 0
    for block in _BULLET_OR_BREAK.split(text):
        start = text.find(block, pos)
        if start < 0:
            continue
        pos = start + len(block)
        offset = start
        pending: Span | None = None
        for sent in _segmenter(language).segment(block):
            s = sent.strip()
            if not s:
                offset += len(sent)
                continue
            at = text.find(s, offset)
            if at < 0:
                continue
            offset = at + len(s)
            span = Span(s, at, offset)
            if pending is not None:
                span = Span(text[pending.start : span.end], pending.start, span.end)
            pending = span if _RUNS_ON.search(span.text) else None
            if pending is None:
                spans.append(span)
        if pending is not None:
            spans.append(pending)
    return spans


def sentence_units(text: str, language: str = "nl") -> list[Span]:
    """Sentences as spans, except that a line ending in ':' is kept with the list items
    under it: "Voor Dronten zijn dat:" is read with its bullets, and a model's "The
    themes are: [1]" with the themes it lists.

    Args:
        text: passage or answer text.
        language: ISO code for the sentence rules.
    """
    spans = split_spans(text, language)
    units: list[Span] = []
    i = 0
    while i < len(spans):
        j = i
        if strip_markers(spans[i].text)[0].endswith(":"):
            while j + 1 < len(spans) and _LIST_ITEM.match(spans[j + 1].text):
                j += 1
        start, end = spans[i].start, spans[j].end
        units.append(Span(text[start:end], start, end))
        i = j + 1
    return units


def strip_markers(sentence: str) -> tuple[str, list[int]]:
    """Remove [n] markers from a sentence; return the clean text and the numbers."""
    nums: list[int] = []
    for m in _MARKER.finditer(sentence):
        nums.extend(int(x) for x in _MARKER_NUMS.findall(m.group(0)))
    clean = _MARKER.sub("", sentence).strip()
    return clean, nums

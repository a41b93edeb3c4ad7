"""Letterhead: lines that frame a document and never answer a question about it.

A title, a heading, a running header or footer, a page number, a table-of-contents entry,
a letter's address block or reference line, a notice that a table or text goes on
overleaf ("Wordt vervolgd op de volgende pagina…", "z.o.z."): the PDF reader leaves most of
them out, but not all ("Pagina 1 van 4 - Vertrouwelijk - versie 0.3", "2 van 7", "Kenmerk",
"Cardan, Burgemeester Brokxlaan 32 5041 SB Tilburg"). The extractive answer never quotes
such a line, whatever the reader left in. The classifier reads the line itself: a page
number, a continuation notice, dotted leaders, a postal address, a bare label, all
capitals, or a short line that starts like a title and has no predicate (no finite verb, no
closing punctuation, no value besides a section number). A line repeated on several pages
of one document is a running header or footer (`repeated_lines`). Rules of our own: no
library classifies Dutch letterhead, and a tagger for finite verbs would be a heavy
dependency for one check.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from assistant.analysis import fold

MAX_HEADING_WORDS = 8

_PAGE = re.compile(
    r"^\W*(?:(?:pagina|page|blz|pag|p)\.?\s*)?(?:\d{1,4}|[ivxlc]{1,6})"
    r"(?:\s*(?:van|of|/|-)\s*\d{1,4})?\W*$",
    re.IGNORECASE,
)
_PAGE_OF = re.compile(r"\b(?:pagina|page|blz)\.?\s*\d+\s*(?:van|of|/)\s*\d+\b", re.IGNORECASE)
# A notice that the text or table goes on overleaf, the whole line: page furniture, never
# content ("Wordt vervolgd op de volgende pagina…", "Vervolg op volgende blz.", "z.o.z.",
# "Zie ommezijde", "Continued on next page"). A sentence that merely says something will
# be continued ("Het overleg wordt vervolgd in maart") does not match: the line must be
# the notice alone.
_NEXT_PAGE = r"(?:de\s+|the\s+)?(?:volgende|next|following)\s+(?:pagina|blz\.?|bladzijde|page)"
_CONTINUATION = re.compile(
    rf"^\W*(?:(?:dit\s+)?wordt\s+vervolgd(?:\s+op\s+{_NEXT_PAGE})?"
    rf"|(?:zie\s+)?vervolg\s+(?:op|zie)\s+{_NEXT_PAGE}"
    rf"|(?:zie\s+|lees\s+verder\s+op\s+)(?:ommezijde|{_NEXT_PAGE})"
    rf"|z\.?\s?o\.?\s?z\.?"
    rf"|(?:to\s+be\s+)?continued(?:\s+(?:on\s+{_NEXT_PAGE}|overleaf))?"
    rf"|please\s+turn\s+over|p\.\s?t\.\s?o\.?)\W*$",
    re.IGNORECASE,
)
_LEADERS = re.compile(r"(?:\.\s?){4,}|…{2,}|_{4,}|(?:\s\.){3,}")
# A postcode is two capitals ("8251 AG Dronten"): case matters, or "2027 in totaal" is one.
_POSTAL = re.compile(r"\b(?i:postbus\s+\d+|retouradres)\b|\b\d{4}\s?[A-Z]{2}\s+[A-Z][a-z]+")
_POSTCODE = re.compile(r"\b\d{4}\s?[A-Z]{2}\b")
_LABELS = frozenset(
    {
        "datum", "kenmerk", "uw kenmerk", "ons kenmerk", "onderwerp", "betreft", "bijlage",
        "bijlagen", "bijlage(n)", "contactpersoon", "inlichtingen", "telefoon", "e-mail",
        "verzonden", "retouradres", "inhoud", "inhoudsopgave", "colofon", "concept",
        "vertrouwelijk",
    }
)  # fmt: skip
_SEPARATORS = re.compile(r"\s[|·•]\s")
_HEADING_START = re.compile(
    r"^(?:(?:hoofdstuk|paragraaf|bijlage|deel|afdeling|titel)\s+)?"
    r"(?:\d+(?:\.\d+)*\.?|[IVX]{1,4}\.)?\s*",
    re.IGNORECASE,
)
_CONTACT_VALUE = re.compile(
    r"[\w.+-]+@[\w-]+\.\w|\b(?:www\.|https?://)|(?:\+31|\b0\d{1,3})[\s-]?\d{6,}"
)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
# Finite verbs that make a short line a sentence ("Er is niets bekend"); the commonest
# Dutch and English forms. A heading names a topic and has none of them.
_FINITE = frozenset(
    [
        "is",
        "zijn",
        "was",
        "waren",
        "wordt",
        "worden",
        "werd",
        "werden",
        "heeft",
        "hebben",
        "had",
        "hadden",
        "kan",
        "kunnen",
        "kon",
        "konden",
        "moet",
        "moeten",
        "moest",
        "mag",
        "mogen",
        "mocht",
        "zal",
        "zullen",
        "zou",
        "zouden",
        "wil",
        "willen",
        "wilde",
        "gaat",
        "gaan",
        "ging",
        "komt",
        "komen",
        "kwam",
        "staat",
        "staan",
        "stond",
        "doet",
        "doen",
        "deed",
        "geldt",
        "gelden",
        "blijft",
        "blijven",
        "krijgt",
        "krijgen",
        "geeft",
        "geven",
        "levert",
        "leveren",
        "neemt",
        "nemen",
        "maakt",
        "maken",
        "telt",
        "tellen",
        "daalde",
        "steeg",
        "stijgt",
        "daalt",
        "besluit",
        "besloot",
        "stelt",
        "stelden",
        "vindt",
        "vinden",
        "werkt",
        "werken",
        "zorgt",
        "is",
        "are",
        "was",
        "were",
        "has",
        "have",
        "had",
        "can",
        "could",
        "must",
        "may",
        "will",
        "would",
        "shall",
        "should",
        "does",
        "do",
    ]
)


def is_continuation(line: str) -> bool:
    """Whether a line is only a notice that the text goes on overleaf ("Wordt vervolgd op
    de volgende pagina…", "z.o.z."): page furniture, for the PDF reader and the answer."""
    return bool(_CONTINUATION.match(line.strip()))


def _words(line: str) -> list[str]:
    return _WORD.findall(line)


def is_letterhead(line: str, keep_contact: bool = False, wrapped: bool = False) -> bool:
    """Whether one line is letterhead (title, heading, running header or footer, page
    number, table-of-contents entry, address block or bare label), never an answer.

    Args:
        line: one line of a passage (no newline).
        keep_contact: keep a line with a phone number, e-mail address or web address (a
            question for contact details is answered by the letterhead's contact line).
        wrapped: the line is part of a sentence that runs on (the next line starts in
            lower case, or this one ends a sentence begun above): then it is no heading.
    """
    text = line.strip()
    if not _words(text):
        return True
    if is_continuation(text):
        return True
    if keep_contact and _CONTACT_VALUE.search(text):
        return False
    folded = fold(text).strip(" :>")
    if _PAGE.match(text) or _PAGE_OF.search(text) or _LEADERS.search(text):
        return True
    if folded in _LABELS or _POSTAL.search(text) or _CONTACT_VALUE.search(text):
        # A letter's address and contact block; a sentence with an address has a verb.
        return not _has_predicate(text)
    if len(_SEPARATORS.findall(text)) >= 2:
        return True  # "Gemeente X | Uitvoeringsplan ... | CONCEPT"
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        return True
    return not wrapped and _is_heading(text)


def _has_predicate(text: str) -> bool:
    return any(w.lower() in _FINITE for w in _words(text))


def _is_heading(text: str) -> bool:
    """A short line that starts like a title and has no predicate and no value."""
    words = _words(text)
    if len(words) > MAX_HEADING_WORDS or text[-1] in ".!?;:,":
        return False
    if ":" in text or ("–" in text and _NUMBER.search(text)):
        return False  # "Contactpersoon: L. Jonker", a table row "Urk – Woninginbraken 2023: 37"
    numbered = _HEADING_START.match(text)
    body = text[numbered.end() :] if numbered else text
    if len(_NUMBER.findall(body)) > 1 or not body[:1].isupper():
        return False  # a table row or a list item
    return not _has_predicate(text)


def repeated_lines(pages: Iterable[tuple[str, str]], min_pages: int = 2) -> set[str]:
    """Lines that stand on several pages of one document: running headers and footers.

    Args:
        pages: (page label, text) of passages of one document.
        min_pages: on how many different pages a line must stand.
    """
    seen: dict[str, set[str]] = defaultdict(set)
    for label, text in pages:
        for line in text.splitlines():
            key = " ".join(fold(line).split())
            if len(key) >= 8:
                seen[key].add(label)
    return {key for key, labels in seen.items() if len(labels) >= min_pages}


def content_bounds(
    text: str, start: int, end: int, keep_contact: bool = False, repeated: Sequence[str] = ()
) -> tuple[int, int] | None:
    """The part of text[start:end] left when its leading and trailing letterhead lines are
    cut off, as (start, end) in text; None when nothing but letterhead is left.

    Args:
        text: the passage.
        start: where the sentence starts in it.
        end: where it ends.
        keep_contact: see `is_letterhead`.
        repeated: folded lines known to repeat on several pages (`repeated_lines`).
    """
    lines: list[tuple[int, int]] = []
    pos = start
    for piece in text[start:end].split("\n"):
        lines.append((pos, pos + len(piece)))
        pos += len(piece) + 1

    def head(i: int, first: bool) -> bool:
        a, b = lines[i]
        line = text[a:b]
        if first:  # a leading line runs on when the next one starts in lower case
            nxt = text[lines[i + 1][0] : lines[i + 1][1]].lstrip() if i + 1 < len(lines) else ""
            wrapped = nxt[:1].islower()
        else:  # a trailing line ends a sentence when the line before it did not
            prev = text[lines[i - 1][0] : lines[i - 1][1]].rstrip() if i > 0 else "."
            wrapped = prev[-1:] not in ".!?:;"
        if " ".join(fold(line).split()) in repeated:
            return True
        return is_letterhead(line, keep_contact, wrapped)

    while lines and head(0, True):
        lines.pop(0)
    while lines and head(len(lines) - 1, False):
        lines.pop()
    if not lines:
        return None
    a, b = lines[0][0], lines[-1][1]
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return (a, b) if a < b else None

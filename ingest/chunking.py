"""Structure-aware chunking: Dutch document structure first, then size with overlap.

A page is cut into sections at heading lines: Markdown headings (``#``..``######``, with or
without a space after the hashes; in md and docx documents), Dutch structure lines
("Hoofdstuk 3", "Afdeling 2.1", "Paragraaf 4", "§ 4", "Artikel 13b", "Titel 4.1",
"Eerste afdeling", ...), short numbered headings ("2.3 Planning"; in PDF and text files)
and the headings the PDF loader found from the layout. Each section is then split by size
with LangChain's ``RecursiveCharacterTextSplitter`` (paragraph, bullet, line, sentence,
word). A section that fits in ``chunk_size`` is exactly one chunk, starting at its heading.

A chunk's text is a verbatim substring of the page text it names, so a citation's page is
exact; the one exception is a sentence that runs over a page break: the last chunk of the
page (or, when that would grow too long, a chunk of its last sentence) takes the next
page's words up to the sentence end, joined by one space, and names both pages
(``page_end``, cited as "p. 2–3"). The heading path is carried across pages, so text at
the top of a page still knows its section. Sections that hold nothing but headings yield no
chunk; their headings live on in the ``section`` path of the chunks that follow.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.types import Chunk, Document, Page

SECTION_SEPARATOR = " > "

# Paragraph, then a line that starts a bullet, then any line, then sentence, then word.
# Zero-width look-arounds keep the separators out of the pieces' edges, so every chunk is a
# verbatim slice of the page.
_SEPARATORS = [
    r"\n[ \t]*\n",
    r"\n(?=[ \t]*(?:[-–•●▪◦*·]|\d{1,2}[.)]|[a-z][.)])\s)",
    r"\n",
    r"(?<=[^\s.]{2}[.!?;:])\s+",  # not after "1." or "a." (list numbers) or "m.v." (d.m.v.)
    r"\s+",
    "",
]

_KEYWORD_RANK = {
    "boek": 10,
    "deel": 11,
    "hoofdstuk": 12,
    "bijlage": 12,
    "lijst": 12,
    "titel": 13,
    "afdeling": 14,
    "afdeeling": 14,
    "paragraaf": 15,
    "§": 15,
    "artikel": 16,
}
_UNNUMBERED_RANK = 21  # a layout heading without number or keyword: a top-level section
_NUMBERED_RANK = 20  # plus the depth: "2" -> 21, "2.3" -> 22

_MD_HEADING = re.compile(r"^(#{1,6})(?!#)[ \t]*(\S.*?)[ \t]*$")
_NUMBER = r"(?:\d+[a-z]{0,3}(?:[.:]\d+[a-z]{0,3})*|[IVXLCDM]+|[A-Z]{1,2})"
_ORDINAL = (
    r"(?:eerste|tweede|derde|vierde|vijfde|zesde|zevende|achtste|negende|tiende|elfde"
    r"|twaalfde|\w+tiende|twintigste|\w+ste)"
)
_STRUCTURE_WORDS = "boek|deel|hoofdstuk|titel|afdeling|afdeeling|paragraaf|artikel|bijlage|lijst"
# In a Markdown heading any structure word counts; the heading markup says it is a heading.
_KEYWORD_START = re.compile(
    rf"^(?:(?P<kw>(?i:{_STRUCTURE_WORDS}))(?=\s+{_NUMBER}\b)|(?P<par>§)"
    rf"|(?i:{_ORDINAL})\s+(?P<ordkw>(?i:{_STRUCTURE_WORDS}))\b)"
)
# On a plain line it must look like a heading: keyword, number, optional capitalised title.
_STRUCTURE_LINE = re.compile(
    rf"^(?:(?P<kw>(?i:boek|deel|hoofdstuk|titel|afdeling|afdeeling|paragraaf|artikel|bijlage))"
    rf"\s+{_NUMBER}|§\s*{_NUMBER}|(?i:{_ORDINAL})\s+(?i:afdeling|afdeeling|titel|hoofdstuk"
    rf"|boek|deel|paragraaf))\.?(?:\s*[-–:.]?\s+(?P<title>\S.*))?$"
)
_NUMBERED_LINE = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?P<title>\S.*)$")
_SPACES = re.compile(r"\s+")
_EMPHASIS = re.compile(r"^([*_]{1,3})(\S(?:.*\S)?)\1$")


@dataclass
class _Heading:
    label: str
    rank: int
    md_level: int | None  # 1..6 for a Markdown heading
    keyword: bool  # a Dutch structure unit (Hoofdstuk, Artikel, ...)
    titled: bool = False  # a title line has been joined onto the label


@dataclass(frozen=True)
class _Segment:
    heading: _Heading | None  # None: the text before a page's first heading
    start: int  # offset in the page text: the heading's text (after any #), or 0
    end: int
    has_body: bool  # anything besides heading lines


def chunk_document(doc: Document, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Cut a document into chunks that follow its structure and name their exact pages.

    Args:
        doc: the parsed document (its meta should be completed, see ``load_document``).
        chunk_size: maximum characters per chunk.
        chunk_overlap: characters shared between consecutive chunks of one section.

    Returns:
        The chunks in reading order. ``Chunk.id`` is ``"{doc_id}:{hash12}:{ordinal:05d}"``
        with the document's content hash, so ids are stable per document version.
    """
    splitter = _splitter(chunk_size, chunk_overlap)
    markdown = doc.format in ("md", "docx")
    numbered = doc.format in ("pdf", "txt")
    path: list[_Heading] = []
    chunks: list[Chunk] = []
    pending = False  # the last section held only headings
    for number, page in enumerate(doc.pages):
        if number and chunks:
            _bridge_page_break(doc, doc.pages[number - 1], page, chunks, chunk_size, markdown)
        pending_start: int | None = None
        pending_lines = 0
        for segment in _segments(page, markdown=markdown, numbered=numbered):
            start = segment.start
            heading = segment.heading
            heading_lines = 0 if heading is None else 1
            if heading is not None:
                top = path[-1] if path else None
                if pending and top is not None and _is_title_of(heading, top):
                    # "### Hoofdstuk 1" + "####Algemene bepalingen": one unit, one label.
                    top.label = f"{top.label} {heading.label}"
                    top.titled = True
                    if pending_start is not None:
                        start = pending_start
                        heading_lines = pending_lines + 1
                else:
                    _push(path, heading)
            if not segment.has_body:
                if heading is not None:
                    pending, pending_start, pending_lines = True, start, heading_lines
                continue
            pending = False
            pending_start = None
            section = SECTION_SEPARATOR.join(h.label for h in path)
            text = page.text[start : segment.end].strip()
            pieces = _split_section(text, heading_lines, splitter, chunk_size, chunk_overlap)
            for piece in _merge_fragments(text, [p for p in pieces if _has_text(p)], chunk_size):
                chunks.append(_make_chunk(doc, page, piece, len(chunks), section))
    return chunks


# A sentence ends at . ! or ? after two characters that are not a space or a dot (not after
# "1." or "d.m.v."), before white space or the end of the text.
_SENTENCE_STOP = re.compile(r"(?<=[^\s.]{2}[.!?])(?=[\s\"'”’)]|$)")
_CLOSED = ".!?:;”’\"'"
_PAGE_NUMBER_LINE = re.compile(
    r"(?:(?:pagina|blz\.?|p\.)\s*)?\d{1,4}(?:\s*(?:van|/)\s*\d{1,4})?", re.IGNORECASE
)
_BULLET_LINE = re.compile(r"^(?:[-–•●▪◦*·]|\d{1,2}[.)]|[a-z][.)])\s")
# A printed page number at the very end of a page ("… 4 van 7", "Pagina 3"): a footer the
# reader left in, not a sentence going on.
_PAGE_NUMBER_END = re.compile(
    r"(?:^|\s)(?:(?:pagina|blz\.?|p\.)\s*)?(\d{1,4})(?:\s*(?:van|/)\s*\d{1,4})?$", re.IGNORECASE
)


def _bridge_page_break(
    doc: Document, page: Page, nxt: Page, chunks: list[Chunk], size: int, markdown: bool
) -> None:
    """Keep a sentence that runs from ``page`` onto ``nxt`` whole in one chunk.

    Only where the page's text ends inside a sentence (no closing punctuation, a last line
    of several words, not a heading) and the next page goes on with it (its first line is
    no heading and starts in lower case or with a digit, or the page ended on a comma or
    hyphen), and that sentence ends within half a chunk (not a table or a running
    header). A page that ends in a list item or its printed page number does not go on.
    The next page's words up to the first sentence end are appended to the
    page's last chunk; when that chunk would grow past ``size``, a chunk of just the last
    sentence and its continuation is added after it instead. The next page's own chunks
    still start at its top, so a search for words on that page finds them there too.
    """
    last = chunks[-1]
    tail = page.text.rstrip()
    if last.page_end != page.index or not tail or not tail.endswith(last.text.rstrip()):
        return
    if tail[-1] in _CLOSED or not (tail[-1].isalnum() or tail[-1] in ",-–"):
        return
    number = _PAGE_NUMBER_END.search(tail)
    if number and number.group(1) in (page.label, str(page.index + 1)):
        return
    last_line = tail.rsplit("\n", 1)[-1].strip()
    known = {heading_label(h) for h in page.headings}
    if (
        len(last_line.split()) < 4
        or _BULLET_LINE.match(last_line)  # a list item without a full stop
        or _classify(last_line, known, markdown=markdown, numbered=True)[0]
    ):
        return
    head = nxt.text.lstrip()
    first_line = head.split("\n", 1)[0].strip()
    next_known = {heading_label(h) for h in nxt.headings}
    if (
        not first_line
        or _PAGE_NUMBER_LINE.fullmatch(first_line)  # a running header the reader left in
        or _classify(first_line, next_known, markdown=markdown, numbered=True)[0]
    ):
        return
    if not (first_line[0].islower() or first_line[0].isdigit() or tail[-1] in ",-–"):
        return
    paragraph = re.split(r"\n[ \t]*\n", head, maxsplit=1)[0]
    stop = _SENTENCE_STOP.search(paragraph)
    if stop is None or stop.end() > size // 2:  # no sentence end soon: a table, a header
        return
    end = stop.end()
    continuation = " ".join(paragraph[:end].split())
    joiner = "" if tail[-1] == "-" and tail[-2:-1].isalpha() and continuation[0].islower() else " "
    text = last.text.rstrip() + joiner + continuation
    spans = {"page_end": nxt.index, "page_label_end": nxt.label}
    if len(text) <= size:
        chunks[-1] = last.model_copy(update={**spans, "text": text, "content_hash": _sha(text)})
        return
    starts = [m.end() for m in _SENTENCE_STOP.finditer(last.text)]
    sentence = last.text[starts[-1] :].strip() if starts else last.text.strip()
    room = size - len(continuation) - len(joiner)
    if len(sentence) > room:  # a very long sentence: its last words
        cut = sentence.find(" ", len(sentence) - room)
        sentence = sentence[cut + 1 :] if cut >= 0 else sentence[-room:]
    text = sentence + joiner + continuation
    ordinal = len(chunks)
    chunks.append(
        last.model_copy(
            update={**spans, "text": text, "content_hash": _sha(text), "ordinal": ordinal,
                    "id": f"{doc.doc_id}:{doc.content_hash[:12]}:{ordinal:05d}"}
        )
    )  # fmt: skip


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def heading_label(text: str) -> str:
    """Normalise a heading for the section path: no Markdown hashes, single spaces.

    Args:
        text: a heading line as it appears in the text.

    Returns:
        The label, e.g. ``"###Artikel  13b "`` becomes ``"Artikel 13b"``; emphasis around
        the whole heading (``*...*``) is dropped.
    """
    label = _SPACES.sub(" ", re.sub(r"^#{1,6}", "", text.strip())).strip()
    return _EMPHASIS.sub(r"\2", label)  # "*Deel Markttoegang*" -> "Deel Markttoegang"


def _splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=min(chunk_overlap, max(chunk_size - 1, 0)),
        separators=_SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",
        strip_whitespace=True,
    )


def _split_section(
    text: str,
    heading_lines: int,
    splitter: RecursiveCharacterTextSplitter,
    size: int,
    overlap: int,
) -> list[str]:
    """Split one section by size; a heading stays glued to the text that follows it.

    Splitting the whole section could leave the heading line alone in a chunk of its own.
    Instead the body is split a heading's length smaller and the heading is put back in
    front of the first piece, which still gives a verbatim slice of the page.
    """
    text = text.strip()
    if len(text) <= size or heading_lines == 0:
        return splitter.split_text(text)
    body = text
    for _ in range(heading_lines):
        newline = body.find("\n")
        if newline < 0:
            return splitter.split_text(text)
        body = body[newline:].lstrip()
    prefix = text[: len(text) - len(body)]
    if len(prefix) > size // 2:  # a heading this long: splitting as a whole does better
        return splitter.split_text(text)
    pieces = _splitter(size - len(prefix), overlap).split_text(body)
    if pieces and body.startswith(pieces[0]):
        pieces[0] = prefix + pieces[0]
    return pieces


# A piece shorter than this is a fragment, not a passage: one short sentence is about 100
# characters (15 Dutch words of 6.5 characters with their space), and below that a piece
# is a table's last row, a "(vervolg)" line or a footnote that the splitter left over when
# the text before it filled a chunk. Alone its vector matches questions by chance and it
# answers none. A quarter of the chunk size at most, so small chunk sizes keep working.
MIN_CHUNK_CHARS = 100


def _merge_fragments(text: str, pieces: list[str], size: int) -> list[str]:
    """The pieces of one section on one page, with no piece below the minimum size.

    A short piece is merged with its neighbour in ``text`` (the previous one, else the
    next) when the two fit in ``size``; when they do not, it starts earlier in the previous
    piece (or, the first piece, ends later in the next), at a line or sentence boundary,
    until it holds ``MIN_CHUNK_CHARS``: it then repeats some of its neighbour's words, as
    an overlap does. A section's only piece stays as it is, however short (a short article
    is whole). Every result is still a verbatim slice of ``text``.
    """
    least = min(MIN_CHUNK_CHARS, size // 4)
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        at = text.find(piece, cursor)
        if at < 0:  # not a slice (cannot happen): leave the pieces as the splitter made them
            return pieces
        spans.append((at, at + len(piece)))
        cursor = at + 1
    i = 0
    while len(spans) > 1 and i < len(spans):
        start, end = spans[i]
        if end - start >= least:
            i += 1
            continue
        if i > 0 and end - spans[i - 1][0] <= size:
            spans[i - 1 : i + 1] = [(spans[i - 1][0], end)]
            i -= 1  # the merged piece is long enough now, or is checked again
        elif i + 1 < len(spans) and spans[i + 1][1] - start <= size:
            spans[i : i + 2] = [(start, spans[i + 1][1])]
        elif i > 0:
            spans[i] = (_boundary_before(text, end - least, max(0, end - size)), end)
            i += 1
        else:
            spans[i] = (start, _boundary_after(text, start + least, min(len(text), start + size)))
            i += 1
    return [text[a:b] for a, b in spans]


def _boundary_before(text: str, latest: int, earliest: int) -> int:
    """The start of a line, else of a sentence, else of a word, at or before ``latest``
    and not before ``earliest``."""
    for kind in (r"\n\s*", r"(?<=[^\s.]{2}[.!?;:])\s+", r"\s+"):
        starts = [m.end() for m in re.finditer(kind, text[earliest:latest])]
        if starts:
            start = earliest + starts[-1]
            return start + len(text[start:]) - len(text[start:].lstrip())
    return earliest


def _boundary_after(text: str, earliest: int, latest: int) -> int:
    """The end of a line, else of a sentence, else of a word, at or after ``earliest``
    and not after ``latest``."""
    for kind in (r"\s*\n", r"(?<=[^\s.]{2}[.!?;:])\s", r"\s"):
        match = re.compile(kind).search(text, earliest, latest)
        if match:
            return match.start()
    return latest


def _make_chunk(doc: Document, page: Page, text: str, ordinal: int, section: str) -> Chunk:
    meta = doc.meta
    return Chunk(
        id=f"{doc.doc_id}:{doc.content_hash[:12]}:{ordinal:05d}",
        doc_id=doc.doc_id,
        source=doc.source,
        title=meta.title,
        text=text,
        ordinal=ordinal,
        page_start=page.index,
        page_end=page.index,
        page_label_start=page.label,
        page_label_end=page.label,
        section=section,
        municipality=meta.municipality,
        doc_type=meta.doc_type,
        date=meta.date or "",
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        doc_hash=doc.content_hash,
    )


def _segments(page: Page, *, markdown: bool, numbered: bool) -> Iterator[_Segment]:
    """Cut one page's text at its heading lines."""
    text = page.text
    known = {heading_label(h) for h in page.headings}
    found: list[tuple[int, int, _Heading]] = []  # (line start, text start, heading)
    offset = 0
    previous_blank = True
    previous_heading = False
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n")
        heading, skip = _classify(
            content,
            known,
            markdown=markdown,
            numbered=numbered and (previous_blank or previous_heading),
        )
        if heading is not None:
            found.append((offset, offset + skip, heading))
        previous_blank = not content.strip()
        previous_heading = heading is not None
        offset += len(line)

    if not found:
        yield _Segment(None, 0, len(text), _has_text(text))
        return
    first_line_start = found[0][0]
    if text[:first_line_start].strip():
        yield _Segment(None, 0, first_line_start, _has_text(text[:first_line_start]))
    for number, (_line_start, start, heading) in enumerate(found):
        end = found[number + 1][0] if number + 1 < len(found) else len(text)
        body_start = text.find("\n", start)
        body = "" if body_start < 0 or body_start >= end else text[body_start:end]
        yield _Segment(heading, start, end, _has_text(body))


def _classify(
    line: str, known: set[str], *, markdown: bool, numbered: bool
) -> tuple[_Heading | None, int]:
    """The heading on this line (if any) and where its text starts within the line."""
    stripped = line.strip()
    if not stripped:
        return None, 0
    if markdown:
        match = _MD_HEADING.match(line)
        if match:
            label = heading_label(match.group(2))
            if label:
                rank = _keyword_rank(label)
                return (
                    _Heading(label, rank or 0, len(match.group(1)), rank is not None),
                    match.start(2),
                )
    label = heading_label(stripped) if not stripped.startswith("#") else _SPACES.sub(" ", stripped)
    lead = len(line) - len(line.lstrip())
    structure = _STRUCTURE_LINE.match(label)
    if structure and _plausible_title(structure.group("title")) and len(label) <= 100:
        return _Heading(label, _keyword_rank(label) or _UNNUMBERED_RANK, None, True), lead
    if label in known:
        rank = _keyword_rank(label) or _numbered_rank(label) or _UNNUMBERED_RANK
        return _Heading(label, rank, None, _keyword_rank(label) is not None), lead
    if numbered:
        match = _NUMBERED_LINE.match(label)
        if (
            match
            and _plausible_title(match.group("title"))
            and len(label) <= 80
            and len(label.split()) <= 10
            and not re.search(r"\.{3,}|…", label)
        ):
            return _Heading(label, _numbered_rank(label) or _UNNUMBERED_RANK, None, False), lead
    return None, 0


def _plausible_title(title: str | None) -> bool:
    """A heading's title: absent, or capitalised and not ending like a sentence part."""
    if title is None:
        return True
    return title[:1].isupper() and not title.rstrip().endswith((".", ",", ";", ":", "?", "!"))


def _keyword_rank(label: str) -> int | None:
    match = _KEYWORD_START.match(label)
    if not match:
        return None
    if match.group("par"):
        return _KEYWORD_RANK["§"]
    word = (match.group("kw") or match.group("ordkw")).lower()
    return _KEYWORD_RANK[word]


def _numbered_rank(label: str) -> int | None:
    match = _NUMBERED_LINE.match(label)
    if not match:
        return None
    return _NUMBERED_RANK + match.group("num").count(".") + 1


def _push(path: list[_Heading], heading: _Heading) -> None:
    while path and _replaces(heading, path[-1]):
        path.pop()
    path.append(heading)


def _replaces(new: _Heading, old: _Heading) -> bool:
    """Whether ``new`` closes ``old`` (a sibling or a higher unit) rather than nesting in it."""
    if new.md_level is not None and old.md_level is not None:
        if new.md_level != old.md_level:
            return new.md_level < old.md_level
        if new.keyword and old.keyword:  # "### Hoofdstuk 1" then "### Artikel 1": nested
            return new.rank <= old.rank
        return True
    if new.md_level is not None:
        return True  # Markdown structure outranks a structure line inside it
    if old.md_level is not None:
        return False
    return new.rank <= old.rank


def _is_title_of(heading: _Heading, top: _Heading) -> bool:
    """A plain heading right under a structure unit that has no text yet is its title."""
    if heading.keyword or not top.keyword or top.titled:
        return False
    if heading.md_level is not None and top.md_level is not None:
        return heading.md_level > top.md_level
    return True


def _has_text(text: str) -> bool:
    return any(ch.isalnum() for ch in text)

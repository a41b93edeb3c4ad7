"""Parsing source files into Documents: one parsing function per format, behind a small registry.

Every problem a user can cause (empty, too big, wrong type, corrupt, encrypted, scanned,
a zip bomb) raises :class:`~ingest.errors.IngestError` with a Dutch message that names the
file; ``load_document`` wraps any other exception into one as well.

Adding a format is adding one ``parse_*`` function and one entry in ``_REGISTRY``.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import re
import statistics
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import docx
import pypdf
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from pypdf import PasswordType

from assistant.settings import Settings
from assistant.types import Document, DocumentMeta, Page
from ingest.errors import IngestError
from ingest.manifest import complete_meta
from ingest.ocr import read_scanned_pages

Format = Literal["pdf", "docx", "md", "txt"]

MAX_DOCX_ENTRIES = 10_000
DOCX_BOMB_RATIO = 20
DOCX_BOMB_MIN_BYTES = 100 * 1024 * 1024
_MB = 1024 * 1024


@dataclass(frozen=True)
class Parsed:
    """What a parsing function returns: the pages, and the title the file carries itself."""

    pages: list[Page]
    title: str | None = None


Parser = Callable[[bytes, str, Settings], Parsed]


# --------------------------------------------------------------------------- public API


def read_bytes_checked(path: Path, settings: Settings) -> bytes:
    """Read a file after the checks that need no parsing: type, size and magic bytes.

    Args:
        path: the file to read.
        settings: supplies ``max_file_mb``.

    Returns:
        The file's bytes.

    Raises:
        IngestError: unsupported extension, missing, empty, too large, or content that does
            not match the extension.
    """
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in _REGISTRY:
        raise IngestError(name, _unsupported_reason(suffix))
    try:
        if not path.is_file():
            if path.exists():
                raise IngestError(name, "is geen gewoon bestand; geef een bestand op, geen map")
            raise IngestError(name, "bestaat niet; controleer het pad")
        size = path.stat().st_size
        if size == 0:
            raise IngestError(name, "is leeg (0 bytes); lever het bestand opnieuw aan")
        limit = settings.max_file_mb * _MB
        if size > limit:
            raise IngestError(
                name,
                f"is te groot ({size / _MB:.1f} MB, maximaal {settings.max_file_mb:g} MB); "
                "splits het document of verhoog max_file_mb",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(
            name,
            f"kan niet worden gelezen ({exc.strerror or exc}); "
            "controleer de rechten op het bestand",
        ) from exc
    if not data:
        raise IngestError(name, "is leeg (0 bytes); lever het bestand opnieuw aan")
    _check_magic(data, suffix, name)
    return data


def load_document(path: Path, meta: DocumentMeta, settings: Settings) -> Document:
    """Parse one file into a Document with pages, and complete its metadata.

    Calls :func:`ingest.manifest.complete_meta`, so the returned ``document.meta`` has a
    title and (unless the manifest set it) an inferred municipality.

    Args:
        path: the source file; its extension picks the parser.
        meta: metadata from the manifest or sidecar (see :func:`ingest.manifest.discover`).
        settings: limits (``max_file_mb``, ``max_pages``).

    Returns:
        The parsed document; ``content_hash`` is the sha256 of the file's bytes.

    Raises:
        IngestError: for every problem, including unexpected parser failures.
    """
    name = str(path)
    try:
        data = read_bytes_checked(path, settings)
        fmt, parser = _REGISTRY[path.suffix.lower()]
        parsed = parser(data, name, settings)
        if not any(page.text.strip() for page in parsed.pages):
            raise IngestError(name, "bevat geen tekst; controleer of het bestand inhoud heeft")
        document = Document(
            meta=meta,
            source=name,
            format=fmt,
            pages=parsed.pages,
            content_hash=hashlib.sha256(data).hexdigest(),
        )
        completed = complete_meta(meta, document, pdf_title=parsed.title)
        return document.model_copy(update={"meta": completed})
    except IngestError:
        raise
    except Exception as exc:  # the promise: nothing but IngestError leaves this function
        raise IngestError(
            name,
            f"kon niet worden verwerkt door een onverwachte fout ({type(exc).__name__}); "
            "controleer of het bestand heel is, sla het opnieuw op en probeer het nog eens",
        ) from exc


def parse_pdf(data: bytes, source: str, settings: Settings) -> Parsed:
    """Parse a PDF: one Page per PDF page, labels from the PDF, headings from the layout.

    Text is normalised: runs of spaces collapsed, hard-wrapped lines inside a paragraph
    joined (hyphenation at line ends repaired where safe), paragraph breaks kept from the
    vertical spacing, bullets and headings on lines of their own. A heading is a short line
    set larger than the body text, or bold when the body is not.

    Args:
        data: the file's bytes.
        source: the file name, for error messages.
        settings: supplies ``max_pages``.

    Returns:
        The pages and the PDF's /Title (if any).

    Raises:
        IngestError: corrupt, encrypted, too many pages, or no text layer.
    """
    with _pypdf_log() as log:
        try:
            reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        except Exception as exc:
            raise _corrupt_pdf(source, exc) from exc

        encrypted = reader.is_encrypted
        if encrypted:
            try:
                decrypted = reader.decrypt("") != PasswordType.NOT_DECRYPTED
            except Exception:  # e.g. an AES method pypdf lacks a crypto library for
                decrypted = False
            if not decrypted:
                raise IngestError(source, _ENCRYPTED)

        # Check the declared page count before touching the page tree (a "PDF bomb" can
        # declare millions of pages); check again after flattening, which cannot lie.
        declared = _declared_page_count(reader)
        if declared is not None and declared > settings.max_pages:
            raise _too_many_pages(source, declared, settings.max_pages)
        try:
            page_count = len(reader.pages)
        except Exception as exc:
            raise _corrupt_pdf(source, exc) from exc
        if page_count > settings.max_pages:
            raise _too_many_pages(source, page_count, settings.max_pages)
        if page_count == 0:
            raise IngestError(source, "bevat geen pagina's; exporteer de PDF opnieuw")
        if log.recovered:
            raise IngestError(
                source,
                "is beschadigd: de paginastructuur ontbreekt en zou moeten worden geraden, "
                "waardoor paginanummers niet kloppen; exporteer of download de PDF opnieuw",
            )

        labels = _page_labels(reader, page_count)
        raw_pages: list[list[_Line]] = []
        for page in reader.pages:
            try:
                raw_pages.append(_page_lines(page))
            except Exception as exc:
                if encrypted:
                    raise IngestError(source, _ENCRYPTED) from exc
                raise _corrupt_pdf(source, exc) from exc
        title = _pdf_title(reader)

    laid_out = _layout(raw_pages)
    pages = [
        Page(index=i, label=labels[i], text=text, headings=headings)
        for i, (text, headings) in enumerate(laid_out)
    ]
    pages = read_scanned_pages(data, pages, settings)  # scans: OCR, or marked unread
    if not any(page.text.strip() for page in pages):
        if encrypted:
            raise IngestError(source, _ENCRYPTED)
        why = next((p.unread for p in pages if p.unread), "")
        raise IngestError(
            source,
            "bevat geen tekst (gescande afbeelding?); OCR is nodig voordat het kan worden "
            "opgenomen" + (f"; {why}" if why else ""),
        )
    return Parsed(pages=pages, title=title)


def parse_docx(data: bytes, source: str, settings: Settings) -> Parsed:
    """Parse a Word document into one Page of Markdown-like text.

    Paragraphs in a Heading (Kop) or Title style become ``#``-headings, list paragraphs
    become ``- `` bullets, and each table row becomes one ``cell | cell`` line.

    Args:
        data: the file's bytes.
        source: the file name, for error messages.
        settings: unused; part of the parser signature.

    Returns:
        One page (index 0, label "1") and the document's core title (if any).

    Raises:
        IngestError: not a docx, a zip bomb, or unreadable.
    """
    del settings
    _check_docx_container(data, source)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise IngestError(
            source,
            f"is een onleesbaar Word-bestand ({type(exc).__name__}); open het in Word en sla "
            "het opnieuw op als .docx",
        ) from exc

    blocks: list[str] = []
    headings: list[str] = []
    bullets: list[str] = []

    def flush_bullets() -> None:
        if bullets:
            blocks.append("\n".join(bullets))
            bullets.clear()

    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            level = _docx_heading_level(item)
            flat = _collapse(item.text.replace("\n", " "))
            if not flat:
                continue
            if level:
                flush_bullets()
                blocks.append(f"{'#' * level} {flat}")
                headings.append(flat)
            elif _docx_is_list(item):
                bullets.append(f"- {flat}")
            else:
                flush_bullets()
                blocks.append("\n".join(_collapse(line) for line in item.text.splitlines()).strip())
        elif isinstance(item, Table):
            flush_bullets()
            rows = _docx_table_lines(item)
            if rows:
                blocks.append("\n".join(rows))
    flush_bullets()

    title = None
    try:
        title = _collapse(document.core_properties.title or "") or None
    except Exception:  # a broken core.xml should not cost us the body text
        title = None
    text = "\n\n".join(block for block in blocks if block)
    return Parsed(pages=[Page(index=0, label="1", text=text, headings=headings)], title=title)


def parse_markdown(data: bytes, source: str, settings: Settings) -> Parsed:
    """Parse a Markdown file into one Page; heading lines are normalised to ``### Text``.

    Relative links keep only their text (``[artikel 3](../x.md)`` becomes ``artikel 3``).

    Args:
        data: the file's bytes (UTF-8, with or without BOM, or UTF-16 with BOM).
        source: the file name, for error messages.
        settings: unused; part of the parser signature.

    Returns:
        One page (index 0, label "1") with the Markdown headings listed in ``headings``.

    Raises:
        IngestError: the bytes are not text in a supported encoding.
    """
    del settings
    text = _RELATIVE_LINK.sub(r"\1", _normalise_plain(_decode_text(data, source)))
    lines: list[str] = []
    headings: list[str] = []
    for line in text.split("\n"):
        match = _MD_HEADING.match(line)
        if match:
            heading = _collapse(re.sub(r"\s+#+\s*$", "", match.group(2)))
            if heading:
                line = f"{match.group(1)} {heading}"
                headings.append(heading)
        lines.append(line)
    return Parsed(pages=[Page(index=0, label="1", text="\n".join(lines), headings=headings)])


def parse_text(data: bytes, source: str, settings: Settings) -> Parsed:
    """Parse a plain-text file into one Page.

    Args:
        data: the file's bytes (UTF-8, with or without BOM, or UTF-16 with BOM).
        source: the file name, for error messages.
        settings: unused; part of the parser signature.

    Returns:
        One page (index 0, label "1").

    Raises:
        IngestError: the bytes are not text in a supported encoding.
    """
    del settings
    text = _normalise_plain(_decode_text(data, source))
    return Parsed(pages=[Page(index=0, label="1", text=text)])


_REGISTRY: dict[str, tuple[Format, Parser]] = {
    ".pdf": ("pdf", parse_pdf),
    ".docx": ("docx", parse_docx),
    ".md": ("md", parse_markdown),
    ".markdown": ("md", parse_markdown),
    ".txt": ("txt", parse_text),
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_REGISTRY)


# --------------------------------------------------------------------------- checks

_ENCRYPTED = "is versleuteld; lever een versie zonder wachtwoord aan"


def _unsupported_reason(suffix: str) -> str:
    if suffix == ".doc":
        return "is een oud Word-bestand (.doc); sla het in Word op als .docx en lever dat aan"
    shown = suffix or "(geen extensie)"
    return (
        f"bestandstype {shown} wordt niet ondersteund; lever het aan als PDF, Word (.docx), "
        "Markdown (.md) of tekst (.txt)"
    )


def _check_magic(data: bytes, suffix: str, name: str) -> None:
    if suffix == ".pdf" and b"%PDF-" not in data[:1024]:
        raise IngestError(
            name,
            "is geen PDF (de kop %PDF- ontbreekt); controleer het bestand of exporteer het "
            "opnieuw als PDF",
        )
    if suffix == ".docx":
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise IngestError(
                name,
                "is versleuteld of in het oude Word-formaat; sla het in Word op als .docx "
                "zonder wachtwoord",
            )
        if not data.startswith(b"PK\x03\x04"):
            raise IngestError(
                name,
                "is geen Word-bestand (.docx); open het in Word en sla het op als .docx",
            )


def _check_docx_container(data: bytes, source: str) -> None:
    """Refuse zip bombs and non-Word zips before python-docx decompresses anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise IngestError(
            source,
            "is een beschadigd Word-bestand (geen geldig zip-archief); open het in Word en "
            "sla het opnieuw op als .docx",
        ) from exc
    if len(infos) > MAX_DOCX_ENTRIES:
        raise IngestError(
            source,
            f"bevat {len(infos)} onderdelen (maximaal {MAX_DOCX_ENTRIES}) en lijkt een "
            "zip-bom; lever een normaal opgeslagen .docx aan",
        )
    unpacked = sum(info.file_size for info in infos)
    if unpacked > DOCX_BOMB_RATIO * len(data) and unpacked > DOCX_BOMB_MIN_BYTES:
        raise IngestError(
            source,
            f"pakt uit tot {unpacked / _MB:.0f} MB en lijkt een zip-bom; lever een normaal "
            "opgeslagen .docx aan",
        )
    if "word/document.xml" not in {info.filename for info in infos}:
        raise IngestError(
            source,
            "is geen Word-document (word/document.xml ontbreekt); open het in Word en sla het "
            "op als .docx",
        )


def _corrupt_pdf(source: str, exc: Exception) -> IngestError:
    return IngestError(
        source,
        f"is een beschadigde of onvolledige PDF ({type(exc).__name__}); download of "
        "exporteer de PDF opnieuw",
    )


def _too_many_pages(source: str, count: int, limit: int) -> IngestError:
    return IngestError(
        source,
        f"heeft {count} pagina's (maximaal {limit}); splits het document of verhoog max_pages",
    )


# --------------------------------------------------------------------------- text files

_META_LINE = re.compile(
    r"^[ \t]*<meta\s+http-equiv[^>]*>[ \t]*(?:\n|$)", re.IGNORECASE | re.MULTILINE
)
_MD_HEADING = re.compile(r"^(#{1,6})(?!#)[ \t]*(\S.*)$")
# "[artikel 3](../../../../wet/BWBR0001941/README.md)": the statutes link into a tree we do
# not have; keep the words, drop the target. Absolute (http) links are kept as they are.
_RELATIVE_LINK = re.compile(r"!?\[([^\]\n]*)\]\((?![a-z][a-z0-9+.-]*:)[^()\s]*(?:\s+\"[^\"]*\")?\)")
_HSPACE = re.compile(r"[ \t\u00a0\u2007\u202f]+")


def _decode_text(data: bytes, source: str) -> str:
    try:
        if data.startswith(codecs.BOM_UTF8):
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IngestError(source, "is geen UTF-8-tekst; sla het bestand op als UTF-8") from exc
    if "\x00" in text:
        raise IngestError(
            source, "is geen tekstbestand (bevat binaire gegevens); sla het op als UTF-8-tekst"
        )
    return text


def _normalise_plain(text: str) -> str:
    """Line endings to \\n, the statutes' <meta> line removed, spaces collapsed within lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _META_LINE.sub("", text)
    lines = []
    for line in text.split("\n"):
        stripped = line.lstrip(" \t")
        indent = line[: len(line) - len(stripped)]
        lines.append(indent + _HSPACE.sub(" ", stripped).rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def _collapse(text: str) -> str:
    return _HSPACE.sub(" ", text).strip()


# --------------------------------------------------------------------------- docx details

_DOCX_HEADING_STYLE = re.compile(r"^(?:heading|kop)\s*([1-9])$", re.IGNORECASE)
_DOCX_TITLE_STYLE = re.compile(r"^(?:title|titel)$", re.IGNORECASE)


def _docx_heading_level(paragraph: Paragraph) -> int:
    style = paragraph.style
    names = [getattr(style, "name", None) or "", getattr(style, "style_id", None) or ""]
    for name in names:
        match = _DOCX_HEADING_STYLE.match(name.strip())
        if match:
            return min(int(match.group(1)), 6)
        if _DOCX_TITLE_STYLE.match(name.strip()):
            return 1
    outline = paragraph._p.xpath("./w:pPr/w:outlineLvl/@w:val")
    if outline and str(outline[0]).isdigit() and int(outline[0]) < 9:
        return min(int(outline[0]) + 1, 6)
    return 0


def _docx_is_list(paragraph: Paragraph) -> bool:
    if paragraph._p.xpath("./w:pPr/w:numPr"):
        return True
    name = (getattr(paragraph.style, "name", None) or "").lower()
    return name.startswith(("list", "lijst"))


def _docx_table_lines(table: Table) -> list[str]:
    """One ``cell | cell`` line per row; a nested table's rows are folded into its cell."""
    lines: list[str] = []
    for tr in table._tbl.tr_lst:
        cells: list[str] = []
        for tc in tr.tc_lst:  # the XML cells: a merged cell counts once, not once per column
            cell = _Cell(tc, table)
            parts = [paragraph.text for paragraph in cell.paragraphs]
            parts += [" / ".join(_docx_table_lines(inner)) for inner in cell.tables]
            text = _collapse(" ".join(parts))
            if text:
                cells.append(text)
        if cells:
            lines.append(" | ".join(cells))
    return lines


# --------------------------------------------------------------------------- PDF details

_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demibold|demi\b|,b$|-b$", re.IGNORECASE)
_BULLET = re.compile(r"^(?:[-–—•●▪■◦○·*]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s")
_SYMBOL_BULLET = re.compile(r"^[-–—•●▪■◦○·*]\s")
_TIME = re.compile(r"^\d{1,2}[:.]\d{2}\b")
_RECOVERY_MARKERS = ("Invalid Root object", "Searching object with", "Possible root found")
_VOWELS = set("aeiouy")


@dataclass
class _Line:
    """One physical text line of a PDF page, with what the layout tells about it."""

    text: str
    size: float = 0.0  # dominant effective font size; 0 when unknown
    bold: float = 0.0  # share of characters set in a bold font
    y: float | None = None  # baseline, user space (larger is higher on the page)
    heading: bool = False


class _PypdfLog(logging.Handler):
    """Collects pypdf's warnings for the current thread, to notice silent structure repair."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.recovered = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            message = record.getMessage()
            if any(marker in message for marker in _RECOVERY_MARKERS):
                self.recovered = True


@contextmanager
def _pypdf_log() -> Iterator[_PypdfLog]:
    logger = logging.getLogger("pypdf")
    handler = _PypdfLog()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _declared_page_count(reader: pypdf.PdfReader) -> int | None:
    try:
        count = reader.trailer["/Root"]["/Pages"]["/Count"]
        return int(count)
    except Exception:
        return None


def _page_labels(reader: pypdf.PdfReader, count: int) -> list[str]:
    try:
        labels = [str(label) for label in reader.page_labels]
    except Exception:
        labels = []
    if len(labels) != count:
        labels = [str(i + 1) for i in range(count)]
    return [label.strip() or str(i + 1) for i, label in enumerate(labels)]


def _pdf_title(reader: pypdf.PdfReader) -> str | None:
    try:
        metadata = reader.metadata
        title = metadata.title if metadata is not None else None
    except Exception:
        return None
    if not title:
        return None
    return _collapse(str(title)) or None


def _page_lines(page: pypdf.PageObject) -> list[_Line]:
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
        return [_Line(text=_collapse(line)) for line in raw.split("\n") if _collapse(line)]

    lines: list[_Line] = []
    parts: list[str] = []
    weights: Counter[tuple[float, bool]] = Counter()
    first_y: list[float | None] = [None]

    def close() -> None:
        text = _collapse("".join(parts))
        if text:
            total = sum(weights.values())
            if total:
                size = Counter({s: w for (s, _b), w in weights.items()}).most_common(1)[0][0]
                bold = sum(w for (_s, b), w in weights.items() if b) / total
            else:
                size, bold = 0.0, 0.0
            lines.append(_Line(text=text, size=size, bold=bold, y=first_y[0]))
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


def _document_stats(pages: list[list[_Line]]) -> _Stats:
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
        previous: _Line | None = None
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


def _is_heading(line: _Line, stats: _Stats) -> bool:
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


def _merge_heading_lines(lines: list[_Line]) -> list[_Line]:
    """Join a heading that wrapped onto a second line back into one line."""
    merged: list[_Line] = []
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
            merged[-1] = _Line(
                text=f"{previous.text} {line.text}",
                size=line.size,
                bold=line.bold,
                y=line.y,
                heading=True,
            )
        else:
            merged.append(line)
    return merged


def _join_wrapped(previous: str, physical: _Line, text: str, stats: _Stats) -> str | None:
    """The paragraph line with ``text`` joined on, or None when ``text`` starts a new line.

    ``previous`` is the logical line so far; ``physical`` the last physical line in it.
    """
    if _BULLET.match(text) or _TIME.match(text):
        return None
    hyphen = re.search(r"(\w)-$", physical.text)
    if hyphen and text[:1].isalnum():
        before, after = hyphen.group(1), text[0]
        first_word = text.split()[0].rstrip(",.;:")
        if after.islower() and first_word in {"en", "of", "tot", "en/of", "t/m"}:
            return f"{previous} {text}"  # "zorg- en veiligheidshuis"
        if after.islower() and before.islower() and not (before in _VOWELS and after in _VOWELS):
            return previous[:-1] + text  # a hyphenated word: "samen-\nwerking"
        return previous + text  # "Noord-Holland", "2024-2027", "zee-egel": keep the hyphen
    full_line = stats.full_line
    if physical.size and stats.body_size:
        full_line *= stats.body_size / physical.size  # larger type, fewer characters a line
    if len(physical.text) < 0.7 * full_line:
        return None  # the previous line ended early: it closed an item or paragraph
    return f"{previous} {text}"


def _layout(pages: list[list[_Line]]) -> list[tuple[str, list[str]]]:
    """Turn each page's physical lines into normalised text and the headings on it."""
    stats = _document_stats(pages)
    result: list[tuple[str, list[str]]] = []
    for lines in pages:
        for line in lines:
            line.heading = _is_heading(line, stats)
        _unmark_styled_paragraphs(lines)
        lines = _merge_heading_lines(lines)
        blocks: list[str] = []
        headings: list[str] = []
        paragraph: list[str] = []
        physical = _Line(text="")
        joinable = False
        previous: _Line | None = None
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
                and _paragraph_break(previous, line, stats)
            ):
                blocks.append("\n".join(paragraph))
                paragraph = []
            joined = (
                _join_wrapped(paragraph[-1], physical, line.text, stats)
                if paragraph and joinable
                else None
            )
            if joined is None:
                paragraph.append(line.text)
            else:
                paragraph[-1] = joined
            physical = line
            joinable = True
            previous = line
        if paragraph:
            blocks.append("\n".join(paragraph))
        result.append(("\n\n".join(b for b in blocks if b).strip(), headings))
    return result


def _paragraph_break(previous: _Line, line: _Line, stats: _Stats) -> bool:
    if stats.line_gap is None or previous.y is None or line.y is None:
        return False
    gap = previous.y - line.y
    if gap < -1:
        return True  # moved up: a new column or a text box
    # Compare leading relative to the font size, so a paragraph set larger stays one.
    if line.size and stats.body_size:
        return gap / line.size > 1.3 * stats.line_gap / stats.body_size
    return gap > 1.3 * stats.line_gap


def _unmark_styled_paragraphs(lines: list[_Line], longest_heading: int = 3) -> None:
    """Four or more heading-styled lines in a row are a paragraph set large or bold."""
    run: list[_Line] = []
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

"""Reader for PDF files: pypdf's text with font sizes and positions, laid out into paragraphs."""

from __future__ import annotations

import io
import logging
import re
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

import pypdf
import pypdfium2 as pdfium
from pypdf import PasswordType
from pypdf.errors import DependencyError

from assistant.settings import Settings
from assistant.types import Page
from ingest.errors import IngestError, Reason
from ingest.normalise import clean_text, clean_title
from ingest.ocr import read_scanned_pages
from ingest.readers.base import Parsed
from ingest.readers.pdf_glyphs import glyph_map, replace_glyphs
from ingest.readers.pdf_layout import Line, layout, page_lines
from ingest.readers.pdf_regions import apply_regions, find_regions, page_runs
from ingest.readers.pdf_running import is_running, running_lines, strip_running


def read_pdf(data: bytes, source: str, settings: Settings) -> Parsed:
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

        if reader.is_encrypted:
            _decrypt(reader, source)

        page_count = _checked_page_count(reader, source, settings.max_pages)
        if log.recovered:
            raise IngestError(source, Reason.PDF_DAMAGED)

        labels = _page_labels(reader, page_count)
        raw_pages: list[list[Line]] = []
        heights: list[float] = []
        for page in reader.pages:
            try:
                raw_pages.append(page_lines(page))
                heights.append(float(page.mediabox.height))
            except Exception as exc:
                raise _corrupt_pdf(source, exc) from exc
        title = _pdf_title(reader)

    glyphs = glyph_map(line.text for lines in raw_pages for line in lines)
    _clean_lines(raw_pages, glyphs)
    running = running_lines(raw_pages, heights)
    raw_pages = _with_regions(data, raw_pages, running)
    _clean_lines(raw_pages, glyphs)  # the lines pypdfium2 gave for columns and tables
    raw_pages = [
        strip_running(lines, height, running)[0]
        for lines, height in zip(raw_pages, heights, strict=True)
    ]
    laid_out = layout(raw_pages)
    pages = [
        Page(index=i, label=labels[i], text=text, headings=headings)
        for i, (text, headings) in enumerate(laid_out)
    ]
    pages = read_scanned_pages(data, pages, settings)  # scans: OCR, or marked unread
    if not any(page.text.strip() for page in pages):
        why = next((p.unread_reason for p in pages if p.unread_reason), None)
        if why is None:
            raise IngestError(source, Reason.PDF_SCANNED)
        raise IngestError(source, Reason.PDF_SCANNED_UNREAD, why=why)
    return Parsed(pages=pages, title=_document_title(title, pages))


def _checked_page_count(reader: pypdf.PdfReader, source: str, max_pages: int) -> int:
    """The number of pages, refused when it is over ``max_pages``, zero or unreadable.

    Raises:
        IngestError: too many pages, none, or a corrupt page tree.
    """
    # Check the declared page count before touching the page tree (a "PDF bomb" can
    # declare millions of pages); check again after flattening, which cannot lie.
    declared = _declared_page_count(reader)
    if declared is not None and declared > max_pages:
        raise _too_many_pages(source, declared, max_pages)
    try:
        page_count = len(reader.pages)
    except Exception as exc:
        raise _corrupt_pdf(source, exc) from exc
    if page_count > max_pages:
        raise _too_many_pages(source, page_count, max_pages)
    if page_count == 0:
        raise IngestError(source, Reason.PDF_NO_PAGES)
    return page_count


def _decrypt(reader: pypdf.PdfReader, source: str) -> None:
    """Open an encrypted PDF with the empty user password (RC4, AES-128, AES-256).

    Raises:
        IngestError: a password is needed, or the encryption cannot be read.
    """
    try:
        opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except DependencyError as exc:  # AES needs the cryptography package (a dependency)
        raise IngestError(source, Reason.PDF_AES_MISSING) from exc
    except Exception as exc:
        raise _corrupt_pdf(source, exc) from exc
    if not opened:
        raise IngestError(source, Reason.PDF_ENCRYPTED)


def _with_regions(data: bytes, pages: list[list[Line]], running: set[str]) -> list[list[Line]]:
    """Pages with columns read column by column and table rows carrying their headers,
    found from pypdfium2's text boxes; pages as pypdf read them where pypdfium2 cannot open
    the file (the pypdf text is still right, only in its line order)."""
    try:
        document = pdfium.PdfDocument(data, password="")
    except Exception:
        return pages
    try:
        result = []
        for index, lines in enumerate(pages):
            try:
                runs = page_runs(document[index].get_textpage())
            except Exception:
                result.append(lines)
                continue
            regions = find_regions(runs, 0.0, skip=lambda text: is_running(text, running))
            result.append(apply_regions(lines, regions))
        return result
    finally:
        document.close()


def _clean_lines(pages: list[list[Line]], mapping: dict[str, str]) -> None:
    """Normalise each line's text in place: ligatures and private-use glyphs to letters,
    invisible characters out; a soft hyphen at a line end is kept for the line joiner."""
    for lines in pages:
        for line in lines:
            soft_break = line.text.rstrip().endswith("\u00ad")
            text = clean_text(replace_glyphs(line.text, mapping)).rstrip()
            line.text = text + "\u00ad" if soft_break and text else text


def _plain(text: str) -> str:
    """Lower case without diacritics, so "Financiele" matches "Financiële"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _document_title(metadata_title: str | None, pages: list[Page]) -> str | None:
    """The PDF's /Title when the first pages bear it out, else the first page's heading.

    A /Title is often left over from a template ("Aandachtspuntenlijst ... 2008" on a 2015
    decision list): it counts only when half its words and all its years occur in the
    first three pages.
    """
    first = _plain(" ".join(page.text for page in pages[:3]))
    if metadata_title:
        words = [w for w in re.findall(r"\w+", _plain(metadata_title)) if len(w) >= 3]
        present = sum(1 for w in words if w in first)  # "veiligheid" in "veiligheidsbeleid"
        years = re.findall(r"\b(?:19|20)\d\d\b", metadata_title)
        if all(year in first for year in years) and (not words or present >= 0.5 * len(words)):
            return metadata_title
    for page in pages[:2]:
        if page.headings:
            return page.headings[0]
    return None


def _corrupt_pdf(source: str, exc: Exception) -> IngestError:
    return IngestError(source, Reason.PDF_CORRUPT, error=type(exc).__name__)


def _too_many_pages(source: str, count: int, limit: int) -> IngestError:
    return IngestError(source, Reason.PDF_TOO_MANY_PAGES, count=count, limit=limit)


_RECOVERY_MARKERS = ("Invalid Root object", "Searching object with", "Possible root found")


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
    return clean_title(str(title))

"""Reader for PDF files: pypdf's text with font sizes and positions, laid out into paragraphs."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pypdf
from pypdf import PasswordType

from assistant.settings import Settings
from assistant.types import Page
from ingest.errors import IngestError
from ingest.normalise import collapse
from ingest.readers.base import Parsed
from ingest.readers.pdf_layout import Line, layout, page_lines


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
        raw_pages: list[list[Line]] = []
        for page in reader.pages:
            try:
                raw_pages.append(page_lines(page))
            except Exception as exc:
                if encrypted:
                    raise IngestError(source, _ENCRYPTED) from exc
                raise _corrupt_pdf(source, exc) from exc
        title = _pdf_title(reader)

    laid_out = layout(raw_pages)
    pages = [
        Page(index=i, label=labels[i], text=text, headings=headings)
        for i, (text, headings) in enumerate(laid_out)
    ]
    if not any(page.text.strip() for page in pages):
        if encrypted:
            raise IngestError(source, _ENCRYPTED)
        raise IngestError(
            source,
            "bevat geen tekst (gescande afbeelding?); OCR is nodig voordat het kan worden "
            "opgenomen",
        )
    return Parsed(pages=pages, title=title)


_ENCRYPTED = "is versleuteld; lever een versie zonder wachtwoord aan"


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
    return collapse(str(title)) or None

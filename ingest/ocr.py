"""Read PDF pages that have no text layer (scans) with Tesseract's Dutch model.

Runs inside the parse sandbox (``ingest/sandbox.py``), so the worker's memory cap also
holds for Tesseract (a child process inherits the limit) and the document's parse time
limit covers OCR: pages still waiting when the OCR share of that limit is spent are
named as unread instead of failing the whole document.

Each page is rendered with pypdfium2 (already used for PDFs) and read with pytesseract;
a page that stays unread keeps empty text and says why in ``Page.unread_reason``, so the
ingest report can name it while the document is added with its other pages.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from dataclasses import dataclass
from typing import Any

from assistant.settings import Settings
from assistant.types import Page
from ingest.errors import Message, Reason

log = logging.getLogger("ivb.ocr")

LANGUAGE = "nld"  # Debian package tesseract-ocr-nld
DPI = 300  # Tesseract reads body text best at about 300 dpi
MAX_PIXELS = 40_000_000  # a page larger than A3 at 300 dpi is rendered at a lower dpi
OCR_SHARE = 0.8  # share of parse_timeout_s that OCR of one document may use
MIN_PAGE_SECONDS = 5.0  # a page is not started with less time than this left

_HEADING_MAX_WORDS = 10
_SENTENCE_END = ".!?:;"


@dataclass(frozen=True)
class OcrEngine:
    """Whether OCR can run here, and why not when it cannot.

    Attributes:
        ok: Tesseract and its Dutch model are installed and OCR is switched on.
        reason: why a page is left unread (None when ``ok``).
    """

    ok: bool
    reason: Message | None = None


def engine(settings: Settings) -> OcrEngine:
    """Check once per document whether pages can be read by OCR.

    Args:
        settings: ``ocr`` ("auto" or "off").

    Returns:
        The engine state; never raises.
    """
    if settings.ocr == "off":
        return OcrEngine(False, Message(Reason.OCR_OFF))
    try:
        import pytesseract
    except ImportError:
        return OcrEngine(False, Message(Reason.OCR_NO_PYTESSERACT))
    try:
        languages = pytesseract.get_languages(config="")
    except Exception:  # TesseractNotFoundError, or a broken installation
        return OcrEngine(False, Message(Reason.OCR_NO_TESSERACT))
    if LANGUAGE not in languages:
        return OcrEngine(False, Message(Reason.OCR_NO_DUTCH))
    return OcrEngine(True)


def read_scanned_pages(data: bytes, pages: list[Page], settings: Settings) -> list[Page]:
    """Fill in the pages that have no text layer, by OCR where it is available.

    A page without text and without any image is left alone (an empty page). Every other
    page without text is read by OCR (``Page.ocr`` true) or, when that is not possible,
    keeps empty text with the reason in ``Page.unread_reason``.

    Args:
        data: the PDF's bytes (already opened once by the text reader).
        pages: the pages as the text reader found them, one per PDF page, in order.
        settings: ``ocr`` and ``parse_timeout_s``.

    Returns:
        The pages, with OCR'd text and flags filled in; the same list when every page
        has text. Never raises: a page that cannot be read is marked unread.
    """
    blank = [p.index for p in pages if not p.text.strip()]
    if not blank:
        return pages
    try:
        import pypdfium2 as pdfium
    except ImportError:  # a declared dependency; only a broken installation lacks it
        return _mark(pages, blank, "pypdfium2 ontbreekt")
    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as exc:
        return _mark(pages, blank, Message(Reason.OCR_RENDER_FAILED, {"error": type(exc).__name__}))
    try:
        with_image = [i for i in blank if i < len(pdf) and _has_image(pdf[i])]
        if not with_image:
            return pages
        state = engine(settings)
        if state.reason is not None:
            return _mark(pages, with_image, state.reason)
        budget = settings.parse_timeout_s * OCR_SHARE
        started = time.monotonic()
        out = list(pages)
        for i in with_image:
            left = budget - (time.monotonic() - started)
            if left < MIN_PAGE_SECONDS:
                reason = Message(Reason.OCR_TIME_UP, {"seconds": budget})
                out[i] = out[i].model_copy(update={"unread_reason": reason})
                continue
            text, reason = _ocr_page(pdf[i], left)
            if text:
                out[i] = out[i].model_copy(update={"text": text, "ocr": True})
            else:
                out[i] = out[i].model_copy(update={"unread_reason": reason})
        return out
    finally:
        pdf.close()


def unread_warning(page: Page) -> Message:
    """The warning for a page that was not read, naming its page label."""
    return Message(Reason.PAGE_UNREAD, {"page": page.label, "why": page.unread_reason})


def tidy_ocr_text(raw: str) -> str:
    """Tesseract's lines into the loader's text shape: one line per paragraph.

    Tesseract separates paragraphs by a blank line and breaks lines where the scan does.
    A line is joined to the next one unless it looks like a heading (short, no closing
    punctuation, and the next line starts with a capital); a line-end hyphen before a
    lower-case word is joined without a space and kept, so no real hyphen is lost.

    Args:
        raw: Tesseract's output.

    Returns:
        Paragraphs separated by one blank line.
    """
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", raw.replace("\f", "\n")):
        lines = [" ".join(line.split()) for line in block.splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            continue
        out = [lines[0]]
        for line in lines[1:]:
            prev = out[-1]
            if _looks_like_heading(prev) and line[:1].isupper():
                out.append(line)
            elif prev.endswith("-") and prev[-2:-1].isalpha() and line[:1].islower():
                out[-1] = prev + line
            else:
                out[-1] = f"{prev} {line}"
        paragraphs.append("\n".join(out))
    return "\n\n".join(paragraphs)


def _looks_like_heading(line: str) -> bool:
    return (
        len(line.split()) <= _HEADING_MAX_WORDS
        and line[-1:] not in _SENTENCE_END + ","
        and (line[:1].isupper() or line[:1].isdigit())
    )


def _has_image(page: Any) -> bool:
    import pypdfium2.raw as pdfium_c

    try:
        return (
            next(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3), None)
            is not None
        )
    except Exception:  # unreadable page objects: let OCR try the rendered page
        return True


def _ocr_page(page: Any, seconds_left: float) -> tuple[str, Message | None]:
    """(text, None) or ("", reason) for one rendered page."""
    import pytesseract

    try:
        width, height = page.get_size()  # PDF points
        scale = DPI / 72
        pixels = width * scale * height * scale
        if pixels > MAX_PIXELS:
            scale *= math.sqrt(MAX_PIXELS / pixels)
        image = page.render(scale=scale, grayscale=True).to_pil()
    except MemoryError:
        return "", Message(Reason.OCR_PAGE_TOO_LARGE)
    except Exception as exc:
        return "", Message(Reason.OCR_RENDER_FAILED, {"error": type(exc).__name__})
    # One Tesseract thread: the worker already shares the CPUs with embedding.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        raw = pytesseract.image_to_string(image, lang=LANGUAGE, timeout=seconds_left)
    except RuntimeError:  # pytesseract's timeout
        return "", Message(Reason.OCR_TIMEOUT, {"seconds": seconds_left})
    except Exception as exc:
        log.warning("OCR failed: %s", exc)
        return "", Message(Reason.OCR_FAILED, {"error": type(exc).__name__})
    text = tidy_ocr_text(raw)
    if not any(ch.isalnum() for ch in text):
        return "", Message(Reason.OCR_NO_TEXT)
    return text, None


def _mark(pages: list[Page], indexes: list[int], reason: Message) -> list[Page]:
    out = list(pages)
    for i in indexes:
        out[i] = out[i].model_copy(update={"unread_reason": reason})
    return out

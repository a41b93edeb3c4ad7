"""Loading one file: the checks that need no parsing, the format's reader, the metadata."""

from __future__ import annotations

import hashlib
from pathlib import Path

from assistant.settings import Settings
from assistant.types import Document, DocumentMeta
from ingest.errors import IngestError, Reason
from ingest.manifest import complete_meta
from ingest.normalise import clean_text, clean_title
from ingest.readers.base import MB, FileFormat, Parsed
from ingest.readers.registry import FORMATS, format_for


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
    fmt = format_for(suffix)
    if fmt is None:
        raise _unsupported(name, suffix)
    try:
        if not path.is_file():
            if path.exists():
                raise IngestError(name, Reason.NOT_A_FILE)
            raise IngestError(name, Reason.NOT_FOUND)
        size = path.stat().st_size
        if size == 0:
            raise IngestError(name, Reason.EMPTY)
        limit = settings.max_file_mb * MB
        if size > limit:
            raise IngestError(name, Reason.TOO_LARGE, size=size / MB, limit=settings.max_file_mb)
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(name, Reason.UNREADABLE_FILE, error=exc.strerror or str(exc)) from exc
    if not data:
        raise IngestError(name, Reason.EMPTY)
    _check_magic(data, fmt, name)
    return data


def load_document(path: Path, meta: DocumentMeta, settings: Settings) -> Document:
    """Parse one file into a Document with pages, and complete its metadata.

    Calls :func:`ingest.manifest.complete_meta`, so the returned ``document.meta`` has a
    title and (unless the manifest set it) an inferred municipality.

    Args:
        path: the source file; its extension picks the reader.
        meta: metadata from the manifest or sidecar (see :func:`ingest.manifest.discover`).
        settings: limits (``max_file_mb``, ``max_pages``).

    Returns:
        The parsed document; ``content_hash`` is the sha256 of the file's bytes.

    Raises:
        IngestError: for every problem, including unexpected reader failures.
    """
    name = str(path)
    try:
        data = read_bytes_checked(path, settings)
        fmt = format_for(path.suffix)
        assert fmt is not None  # read_bytes_checked refused unknown suffixes
        parsed = _cleaned(fmt.reader(data, name, settings))
        if not any(page.text.strip() for page in parsed.pages):
            raise IngestError(name, Reason.NO_TEXT)
        document = Document(
            meta=meta,
            source=name,
            format=fmt.name,
            pages=parsed.pages,
            content_hash=hashlib.sha256(data).hexdigest(),
        )
        completed = complete_meta(meta, document, pdf_title=parsed.title)
        return document.model_copy(update={"meta": completed})
    except IngestError:
        raise
    except Exception as exc:  # the promise: nothing but IngestError leaves this function
        raise IngestError(name, Reason.UNEXPECTED, error=type(exc).__name__) from exc


def _cleaned(parsed: Parsed) -> Parsed:
    """Every reader's text and title through the same normalisation (ligatures, soft
    hyphens, control characters, no-break spaces)."""
    pages = [
        page.model_copy(
            update={
                "text": clean_text(page.text),
                "headings": [h for h in (clean_title(h) for h in page.headings) if h],
            }
        )
        for page in parsed.pages
    ]
    return Parsed(pages=pages, title=clean_title(parsed.title))


def _unsupported(name: str, suffix: str) -> IngestError:
    if suffix == ".doc":
        return IngestError(name, Reason.OLD_WORD)
    if not suffix:
        return IngestError(name, Reason.NO_EXTENSION, formats=FORMATS)
    return IngestError(name, Reason.UNSUPPORTED_TYPE, suffix=suffix, formats=FORMATS)


def _check_magic(data: bytes, fmt: FileFormat, name: str) -> None:
    if fmt.check is not None:
        fmt.check(data, name)
    if not fmt.magic:
        return
    found = (
        fmt.magic in data[: fmt.magic_window] if fmt.magic_window else data.startswith(fmt.magic)
    )
    if not found and fmt.magic_error is not None:
        raise IngestError(name, fmt.magic_error)

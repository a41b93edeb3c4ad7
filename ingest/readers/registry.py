"""The one list of supported file formats: suffix, magic bytes, upload type, label, reader."""

from __future__ import annotations

from ingest.errors import Reason
from ingest.readers.base import FileFormat
from ingest.readers.docx import check_docx, read_docx
from ingest.readers.pdf import read_pdf
from ingest.readers.text import read_markdown, read_text

FORMATS: tuple[FileFormat, ...] = (
    FileFormat(
        name="pdf",
        suffixes=(".pdf",),
        label="PDF",
        reader=read_pdf,
        magic=b"%PDF-",
        magic_window=1024,
        magic_error=Reason.NOT_PDF,
    ),
    FileFormat(
        name="docx",
        suffixes=(".docx",),
        label="Word (.docx)",
        reader=read_docx,
        magic=b"PK\x03\x04",
        magic_error=Reason.NOT_DOCX,
        check=check_docx,
    ),
    FileFormat(
        name="md", suffixes=(".md", ".markdown"), label="Markdown (.md)", reader=read_markdown
    ),
    FileFormat(
        name="txt",
        suffixes=(".txt",),
        label="tekst (.txt)",
        reader=read_text,
        label_en="text (.txt)",
    ),
)

_BY_SUFFIX: dict[str, FileFormat] = {s: f for f in FORMATS for s in f.suffixes}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_BY_SUFFIX)
UPLOAD_TYPES: tuple[str, ...] = tuple(f.suffixes[0] for f in FORMATS)
"""The suffixes offered for upload: each format's first suffix."""
UPLOAD_LABEL: str = (
    ", ".join(f.label for f in FORMATS[:-1]) + f" of {FORMATS[-1].label}"
    if len(FORMATS) > 1
    else FORMATS[0].label
)
"""The formats in words, for messages and the upload field: "PDF, Word (.docx), ... of ..."."""


def format_for(suffix: str) -> FileFormat | None:
    """The format registered for a lower-case suffix with its dot (".pdf"), or None."""
    return _BY_SUFFIX.get(suffix.lower())

"""Reading source files into Documents: one reader module per format, one registry of formats.

Every problem a user can cause (empty, too big, wrong type, corrupt, encrypted, scanned,
a zip bomb) raises :class:`~ingest.errors.IngestError` with a reason (Dutch or English) that
names the file; :func:`load_document` wraps any other exception into one as well.

Adding a format is adding one reader module and one entry in
:data:`ingest.readers.registry.FORMATS`.
"""

from ingest.readers.base import FileFormat, Parsed, Reader
from ingest.readers.load import load_document, read_bytes_checked
from ingest.readers.registry import (
    FORMATS,
    SUPPORTED_SUFFIXES,
    UPLOAD_LABEL,
    UPLOAD_TYPES,
    format_for,
)

__all__ = [
    "FORMATS",
    "SUPPORTED_SUFFIXES",
    "UPLOAD_LABEL",
    "UPLOAD_TYPES",
    "FileFormat",
    "Parsed",
    "Reader",
    "format_for",
    "load_document",
    "read_bytes_checked",
]

"""What every reader shares: the result type, the reader signature and a format's entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from assistant.settings import Settings
from assistant.types import Page
from ingest.errors import Reason

MB = 1024 * 1024


@dataclass(frozen=True)
class Parsed:
    """What a reader returns: the pages, and the title the file carries itself."""

    pages: list[Page]
    title: str | None = None


class Reader(Protocol):
    """Parses one file's bytes into pages.

    Args:
        data: the file's bytes (already checked for size and magic bytes).
        source: the file name, for error messages.
        settings: limits such as ``max_pages``.

    Raises:
        IngestError: with a reason naming ``source`` for every problem a user causes.
    """

    def __call__(self, data: bytes, source: str, settings: Settings) -> Parsed: ...


@dataclass(frozen=True)
class FileFormat:
    """One supported file format: everything the app needs to know about it, in one place.

    Attributes:
        name: the value stored as ``Document.format`` ("pdf", "docx", ...).
        suffixes: lower-case extensions with the dot; the first is the one offered for upload.
        label: Dutch name shown to users, e.g. "Word (.docx)".
        label_en: the English name, where it differs (`text` gives the one for a language).
        magic: bytes the file must contain within its first ``magic_window`` bytes
            (empty: no check).
        magic_error: the reason given when the magic bytes are missing.
        reader: parses the bytes into pages.
        check: optional extra check on the raw bytes before the magic check (raises
            IngestError with a more specific reason).
        magic_window: how far into the file the magic bytes may start (0: at the start).
    """

    name: str
    suffixes: tuple[str, ...]
    label: str
    reader: Reader
    magic: bytes = b""
    magic_error: Reason | None = None
    check: Callable[[bytes, str], None] | None = None
    magic_window: int = 0
    label_en: str = ""

    def text(self, lang: str | None = None) -> str:
        """The format's name in a language ("en": English, else Dutch), for messages."""
        return (self.label_en or self.label) if lang == "en" else self.label

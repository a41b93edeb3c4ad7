"""What ingestion says about a file, as codes: `Reason` names each message, `Message` is
one with its values, and `IngestError` / `FieldError` are the exceptions that carry one for
input a user can fix.

The texts themselves are in the interface's catalogue (web/i18n_ingest.py, looked up
by web.i18n_texts.text, key ``"ingest_<code>"``, Dutch and English), so that the staff page, the
API and the CLI show the same line in the reader's language. ``str()`` of a message or
error is its Dutch text (the CLI's, the logs').
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from assistant.domain import or_list
from web.i18n_texts import text as catalogue_text

DEFAULT_LANGUAGE = "nl"


class Reason(StrEnum):
    """Every message ingestion gives about a file, a folder or an upload field."""

    # a file's type, size and bytes (ingest.readers.load)
    NOT_FOUND = "not_found"
    NOT_A_FILE = "not_a_file"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    UNREADABLE_FILE = "unreadable_file"
    OLD_WORD = "old_word"
    UNSUPPORTED_TYPE = "unsupported_type"
    NO_EXTENSION = "no_extension"
    NOT_PDF = "not_pdf"
    NOT_DOCX = "not_docx"
    NO_TEXT = "no_text"
    UNEXPECTED = "unexpected"
    # PDF (ingest.readers.pdf)
    PDF_DAMAGED = "pdf_damaged"
    PDF_CORRUPT = "pdf_corrupt"
    PDF_ENCRYPTED = "pdf_encrypted"
    PDF_AES_MISSING = "pdf_aes_missing"
    PDF_NO_PAGES = "pdf_no_pages"
    PDF_TOO_MANY_PAGES = "pdf_too_many_pages"
    PDF_SCANNED = "pdf_scanned"
    PDF_SCANNED_UNREAD = "pdf_scanned_unread"
    # Word (ingest.readers.docx)
    DOCX_OLD_OR_ENCRYPTED = "docx_old_or_encrypted"
    DOCX_UNREADABLE = "docx_unreadable"
    DOCX_BAD_ZIP = "docx_bad_zip"
    DOCX_TOO_MANY_PARTS = "docx_too_many_parts"
    DOCX_BOMB = "docx_bomb"
    DOCX_NOT_WORD = "docx_not_word"
    # text files (ingest.normalise)
    NOT_UTF8 = "not_utf8"
    BINARY_TEXT = "binary_text"
    # the parse sandbox (ingest.sandbox)
    PARSE_MEMORY = "parse_memory"
    PARSE_TIMEOUT = "parse_timeout"
    PARSER_CRASHED = "parser_crashed"
    # indexing (ingest.pipeline, ingest.duplicates)
    NO_USABLE_TEXT = "no_usable_text"
    ID_IN_USE = "id_in_use"
    ID_HELD = "id_held"
    DUPLICATE = "duplicate"
    # manifest.toml and sidecars (ingest.manifest); ENTRY and SIDECAR name the place
    TOML_INVALID = "toml_invalid"
    METADATA_UNREADABLE = "metadata_unreadable"
    MANIFEST_UNKNOWN_KEYS = "manifest_unknown_keys"
    MANIFEST_NOT_LIST = "manifest_not_list"
    ENTRY = "entry"
    SIDECAR = "sidecar"
    ENTRY_NOT_TABLE = "entry_not_table"
    ENTRY_NO_FILE = "entry_no_file"
    ENTRY_FILE_MISSING = "entry_file_missing"
    ENTRY_DUPLICATE_ID = "entry_duplicate_id"
    ENTRY_DUPLICATE_FILE = "entry_duplicate_file"
    ENTRY_UNKNOWN_KEYS = "entry_unknown_keys"
    ENTRY_EMPTY_TEXT = "entry_empty_text"
    ENTRY_INVALID_ID = "entry_invalid_id"
    ENTRY_INVALID_DATE = "entry_invalid_date"
    ENTRY_UNKNOWN_MUNICIPALITY = "entry_unknown_municipality"
    ENTRY_SUPERSEDES = "entry_supersedes"
    SAME_ID = "same_id"
    # files left out of a folder (ingest.skipping)
    FOLDER_UNREADABLE = "folder_unreadable"
    FOLDER_LINK = "folder_link"
    OUTSIDE_LINK = "outside_link"
    SPECIAL_FILE = "special_file"
    HOSTILE_NAME = "hostile_name"
    HIDDEN_FOLDER = "hidden_folder"
    HIDDEN_FILE = "hidden_file"
    # scanned pages (ingest.ocr)
    PAGE_UNREAD = "page_unread"
    OCR_OFF = "ocr_off"
    OCR_NO_PYTESSERACT = "ocr_no_pytesseract"
    OCR_NO_TESSERACT = "ocr_no_tesseract"
    OCR_NO_DUTCH = "ocr_no_dutch"
    OCR_TIME_UP = "ocr_time_up"
    OCR_PAGE_TOO_LARGE = "ocr_page_too_large"
    OCR_RENDER_FAILED = "ocr_render_failed"
    OCR_TIMEOUT = "ocr_timeout"
    OCR_FAILED = "ocr_failed"
    OCR_NO_TEXT = "ocr_no_text"
    # staff uploads and removals (ingest.uploads, ingest.upload_meta)
    CHOOSE_FILE = "choose_file"
    UPLOAD_TYPE = "upload_type"
    UPLOAD_NO_TYPE = "upload_no_type"
    UPLOAD_TOO_LARGE = "upload_too_large"
    INVALID_ID = "invalid_id"
    INVALID_DATE = "invalid_date"
    INVALID_SUPERSEDES = "invalid_supersedes"
    UPLOAD_BUSY = "upload_busy"
    UPLOAD_FAILED = "upload_failed"
    UPLOAD_DUPLICATE = "upload_duplicate"
    NOT_INGESTED = "not_ingested"
    NOTHING_INGESTED = "nothing_ingested"
    OLD_FILE_KEPT = "old_file_kept"
    CHOOSE_DOCUMENT = "choose_document"
    REMOVE_BUSY = "remove_busy"
    NOT_IN_INDEX = "not_in_index"
    FILE_KEPT = "file_kept"


@runtime_checkable
class Localised(Protocol):
    """A value that is written differently per language (a nested `Message`, a format)."""

    def text(self, lang: str | None = None) -> str: ...


@dataclass(frozen=True)
class Message:
    """One message: its `Reason` and the values of its placeholders.

    A value that is `Localised` is written in the message's language, and a tuple or list
    as "a, b or c" in that language; anything else as it is.

    Attributes:
        reason: which message.
        values: the placeholders' values, e.g. ``{"count": 12, "limit": 10}``.
    """

    reason: Reason
    values: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        """The message in a language ("nl" or "en"; Dutch for anything else)."""
        lang = lang or DEFAULT_LANGUAGE
        values = {key: _written(value, lang) for key, value in self.values.items()}
        return catalogue_text(f"ingest_{self.reason.value}", lang, **values)

    def __str__(self) -> str:
        return self.text(DEFAULT_LANGUAGE)


def _written(value: Any, lang: str) -> Any:
    if isinstance(value, Localised):
        return value.text(lang)
    if isinstance(value, list | tuple):
        return or_list([str(_written(v, lang)) for v in value] or [""], catalogue_text("or", lang))
    return value


class IngestError(Exception):
    """A file (or manifest) that cannot be ingested, with the reason that says what to do.

    ``str(error)`` is ``"<path>: <reason>"`` in Dutch, so the message always names the
    file; `text` gives it in another language.
    """

    def __init__(self, path: str, reason: Reason, /, **values: Any) -> None:
        """Create the error.

        Args:
            path: the file or manifest the problem is about, as the user gave it.
            reason: what is wrong with it (its text says what to do about it).
            values: the reason's placeholders.
        """
        self.path = str(path)
        self.message = Message(reason, values)
        super().__init__(self.path, reason)

    @property
    def reason(self) -> str:
        """The reason in Dutch, without the path."""
        return self.message.text(DEFAULT_LANGUAGE)

    def text(self, lang: str | None = None) -> str:
        """``"<path>: <reason>"`` in a language."""
        return f"{self.path}: {self.message.text(lang)}"

    def __str__(self) -> str:
        return self.text(DEFAULT_LANGUAGE)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the constructor's keywords across pickling (the parse worker's results).
        return (_rebuild, (self.path, self.message))


def _rebuild(path: str, message: Message) -> IngestError:
    return IngestError(path, message.reason, **message.values)


class FieldError(ValueError):
    """An upload's file or form field that is refused before anything is written.

    ``str(error)`` is the Dutch text; ``message`` gives it in another language.
    """

    def __init__(self, reason: Reason, /, **values: Any) -> None:
        self.message = Message(reason, values)
        super().__init__(reason)

    def __str__(self) -> str:
        return str(self.message)

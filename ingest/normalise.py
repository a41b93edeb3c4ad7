"""Text normalisation shared by every reader: decoding text files and tidying whitespace."""

from __future__ import annotations

import codecs
import re

from ingest.errors import IngestError, Reason

_META_LINE = re.compile(
    r"^[ \t]*<meta\s+http-equiv[^>]*>[ \t]*(?:\n|$)", re.IGNORECASE | re.MULTILINE
)
_HSPACE = re.compile(r"[ \t\u00a0\u2007\u202f]+")


def decode_text(data: bytes, source: str) -> str:
    try:
        if data.startswith(codecs.BOM_UTF8):
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IngestError(source, Reason.NOT_UTF8) from exc
    if "\x00" in text:
        raise IngestError(source, Reason.BINARY_TEXT)
    return text


def normalise_plain(text: str) -> str:
    """Line endings to \\n, the statutes' <meta> line removed, spaces collapsed within lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _META_LINE.sub("", text)
    lines = []
    for line in text.split("\n"):
        stripped = line.lstrip(" \t")
        indent = line[: len(line) - len(stripped)]
        lines.append(indent + _HSPACE.sub(" ", stripped).rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def collapse(text: str) -> str:
    return _HSPACE.sub(" ", text).strip()


# Presentation forms a PDF or a word processor leaves in text: each ligature to its letters.
_LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
}
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"  # soft hyphen, zero-width characters
_SPACES = "\u00a0\u2007\u202f\u2002\u2003\u2009"  # no-break and fixed-width spaces
_CLEAN_TABLE = str.maketrans(
    {
        **_LIGATURES,
        **dict.fromkeys(_INVISIBLE, ""),
        **dict.fromkeys(_SPACES, " "),
        # Control characters (a NUL in a PDF title, a form feed): none belongs in text.
        **{chr(c): "" for c in range(32) if chr(c) not in "\n\t\r"},
        "\x7f": "",
    }
)


def clean_text(text: str) -> str:
    """Text as a reader sees it: ligatures as letters, no soft hyphens, zero-width or control
    characters, no-break spaces plain.

    Line breaks and tabs are kept; private-use glyphs are left to the PDF reader, which
    knows the document's vocabulary (see ``ingest.readers.pdf_glyphs``).
    """
    return text.translate(_CLEAN_TABLE)


def clean_title(title: str | None) -> str | None:
    """A title cleaned like text, on one line with single spaces; None when nothing is left."""
    if title is None:
        return None
    return collapse(clean_text(title).replace("\n", " ").replace("\t", " ")) or None

"""Text normalisation shared by every reader: decoding text files and tidying whitespace."""

from __future__ import annotations

import codecs
import re

from ingest.errors import IngestError

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
        raise IngestError(source, "is geen UTF-8-tekst; sla het bestand op als UTF-8") from exc
    if "\x00" in text:
        raise IngestError(
            source, "is geen tekstbestand (bevat binaire gegevens); sla het op als UTF-8-tekst"
        )
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

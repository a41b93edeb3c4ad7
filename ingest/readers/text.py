"""Reader for Markdown and plain-text files: one Page each."""

from __future__ import annotations

import re

from assistant.settings import Settings
from assistant.types import Page
from ingest.normalise import collapse, decode_text, normalise_plain
from ingest.readers.base import Parsed

_MD_HEADING = re.compile(r"^(#{1,6})(?!#)[ \t]*(\S.*)$")
# "[artikel 3](../../../../wet/BWBR0001941/README.md)": the statutes link into a tree we do
# not have; keep the words, drop the target. Absolute (http) links are kept as they are.
_RELATIVE_LINK = re.compile(r"!?\[([^\]\n]*)\]\((?![a-z][a-z0-9+.-]*:)[^()\s]*(?:\s+\"[^\"]*\")?\)")


def read_markdown(data: bytes, source: str, settings: Settings) -> Parsed:
    """Parse a Markdown file into one Page; heading lines are normalised to ``### Text``.

    Relative links keep only their text (``[artikel 3](../x.md)`` becomes ``artikel 3``).

    Args:
        data: the file's bytes (UTF-8, with or without BOM, or UTF-16 with BOM).
        source: the file name, for error messages.
        settings: unused; part of the parser signature.

    Returns:
        One page (index 0, label "1") with the Markdown headings listed in ``headings``.

    Raises:
        IngestError: the bytes are not text in a supported encoding.
    """
    del settings
    text = _RELATIVE_LINK.sub(r"\1", normalise_plain(decode_text(data, source)))
    lines: list[str] = []
    headings: list[str] = []
    for line in text.split("\n"):
        match = _MD_HEADING.match(line)
        if match:
            heading = collapse(re.sub(r"\s+#+\s*$", "", match.group(2)))
            if heading:
                line = f"{match.group(1)} {heading}"
                headings.append(heading)
        lines.append(line)
    return Parsed(pages=[Page(index=0, label="1", text="\n".join(lines), headings=headings)])


def read_text(data: bytes, source: str, settings: Settings) -> Parsed:
    """Parse a plain-text file into one Page.

    Args:
        data: the file's bytes (UTF-8, with or without BOM, or UTF-16 with BOM).
        source: the file name, for error messages.
        settings: unused; part of the parser signature.

    Returns:
        One page (index 0, label "1").

    Raises:
        IngestError: the bytes are not text in a supported encoding.
    """
    del settings
    text = normalise_plain(decode_text(data, source))
    return Parsed(pages=[Page(index=0, label="1", text=text)])

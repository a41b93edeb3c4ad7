"""Reader for Word (.docx) files: one Page of Markdown-like text."""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from assistant.settings import Settings
from assistant.types import Page
from ingest.errors import IngestError, Reason
from ingest.normalise import collapse
from ingest.readers.base import MB, Parsed

MAX_DOCX_ENTRIES = 10_000
DOCX_BOMB_RATIO = 20
DOCX_BOMB_MIN_BYTES = 100 * 1024 * 1024


def check_docx(data: bytes, name: str) -> None:
    """Refuse an old or encrypted Word file (an OLE container) before the generic magic check.

    Raises:
        IngestError: the bytes are an OLE compound file, not a .docx zip.
    """
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError(name, Reason.DOCX_OLD_OR_ENCRYPTED)


def read_docx(data: bytes, source: str, settings: Settings) -> Parsed:
    """Parse a Word document into one Page of Markdown-like text.

    Paragraphs in a Heading (Kop) or Title style become ``#``-headings, list paragraphs
    become ``- `` bullets, and each table row becomes one ``cell | cell`` line.

    Args:
        data: the file's bytes.
        source: the file name, for error messages.
        settings: unused; part of the parser signature.

    Returns:
        One page (index 0, label "1") and the document's core title (if any).

    Raises:
        IngestError: not a docx, a zip bomb, or unreadable.
    """
    del settings
    _check_docx_container(data, source)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise IngestError(source, Reason.DOCX_UNREADABLE, error=type(exc).__name__) from exc

    blocks: list[str] = []
    headings: list[str] = []
    bullets: list[str] = []

    def flush_bullets() -> None:
        if bullets:
            blocks.append("\n".join(bullets))
            bullets.clear()

    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            level = _docx_heading_level(item)
            flat = collapse(item.text.replace("\n", " "))
            if not flat:
                continue
            if level:
                flush_bullets()
                blocks.append(f"{'#' * level} {flat}")
                headings.append(flat)
            elif _docx_is_list(item):
                bullets.append(f"- {flat}")
            else:
                flush_bullets()
                blocks.append("\n".join(collapse(line) for line in item.text.splitlines()).strip())
        elif isinstance(item, Table):
            flush_bullets()
            rows = _docx_table_lines(item)
            if rows:
                blocks.append("\n".join(rows))
    flush_bullets()

    title = None
    try:
        title = collapse(document.core_properties.title or "") or None
    except Exception:  # a broken core.xml should not cost us the body text
        title = None
    text = "\n\n".join(block for block in blocks if block)
    return Parsed(pages=[Page(index=0, label="1", text=text, headings=headings)], title=title)


def _check_docx_container(data: bytes, source: str) -> None:
    """Refuse zip bombs and non-Word zips before python-docx decompresses anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise IngestError(source, Reason.DOCX_BAD_ZIP) from exc
    if len(infos) > MAX_DOCX_ENTRIES:
        raise IngestError(
            source, Reason.DOCX_TOO_MANY_PARTS, count=len(infos), limit=MAX_DOCX_ENTRIES
        )
    unpacked = sum(info.file_size for info in infos)
    if unpacked > DOCX_BOMB_RATIO * len(data) and unpacked > DOCX_BOMB_MIN_BYTES:
        raise IngestError(source, Reason.DOCX_BOMB, size=unpacked / MB)
    if "word/document.xml" not in {info.filename for info in infos}:
        raise IngestError(source, Reason.DOCX_NOT_WORD)


# --------------------------------------------------------------------------- docx details

_DOCX_HEADING_STYLE = re.compile(r"^(?:heading|kop)\s*([1-9])$", re.IGNORECASE)
_DOCX_TITLE_STYLE = re.compile(r"^(?:title|titel)$", re.IGNORECASE)


def _docx_heading_level(paragraph: Paragraph) -> int:
    style = paragraph.style
    names = [getattr(style, "name", None) or "", getattr(style, "style_id", None) or ""]
    for name in names:
        match = _DOCX_HEADING_STYLE.match(name.strip())
        if match:
            return min(int(match.group(1)), 6)
        if _DOCX_TITLE_STYLE.match(name.strip()):
            return 1
    outline = paragraph._p.xpath("./w:pPr/w:outlineLvl/@w:val")
    if outline and str(outline[0]).isdigit() and int(outline[0]) < 9:
        return min(int(outline[0]) + 1, 6)
    return 0


def _docx_is_list(paragraph: Paragraph) -> bool:
    if paragraph._p.xpath("./w:pPr/w:numPr"):
        return True
    name = (getattr(paragraph.style, "name", None) or "").lower()
    return name.startswith(("list", "lijst"))


def _docx_table_lines(table: Table) -> list[str]:
    """One ``cell | cell`` line per row; a nested table's rows are folded into its cell."""
    lines: list[str] = []
    for tr in table._tbl.tr_lst:
        cells: list[str] = []
        for tc in tr.tc_lst:  # the XML cells: a merged cell counts once, not once per column
            cell = _Cell(tc, table)
            parts = [paragraph.text for paragraph in cell.paragraphs]
            parts += [" / ".join(_docx_table_lines(inner)) for inner in cell.tables]
            text = collapse(" ".join(parts))
            if text:
                cells.append(text)
        if cells:
            lines.append(" | ".join(cells))
    return lines

"""Builders for the fixture files the ingestion tests read: real PDFs, docx files and zips.

Each builder writes one file into a folder the test owns (``tmp_path``) and returns its path.
The PDFs are made with fpdf2 in DejaVu Sans when the font is installed (Dutch characters),
else in a core font with Latin-1 text.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import docx
from fpdf import FPDF
from PIL import Image, ImageDraw

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
HAS_DEJAVU = (DEJAVU_DIR / "DejaVuSans.ttf").is_file() and (
    DEJAVU_DIR / "DejaVuSans-Bold.ttf"
).is_file()

# Body lines are set one by one (no automatic wrapping), so the tests know exactly where a
# line ends: the loader has to join them back into paragraphs.
BODY_SIZE = 10.5
HEADING_SIZE = 13


@dataclass
class PdfPage:
    """What to put on one page: ("h", text) headings, ("p", [lines]) body blocks and
    ("lead", [lines]) blocks set in the heading size but not bold (an intro paragraph)."""

    blocks: list[tuple[str, str | list[str]]] = field(default_factory=list)


def _text(value: str) -> str:
    if HAS_DEJAVU:
        return value
    return value.replace("’", "'").encode("latin-1", "replace").decode("latin-1")


def _new_pdf(title: str | None = None) -> tuple[FPDF, str]:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    if title:
        pdf.set_title(_text(title))
    if HAS_DEJAVU:
        pdf.add_font("DejaVu", "", str(DEJAVU_DIR / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(DEJAVU_DIR / "DejaVuSans-Bold.ttf"))
        return pdf, "DejaVu"
    return pdf, "helvetica"


def make_text_pdf(
    path: Path,
    pages: list[PdfPage],
    *,
    title: str | None = None,
    roman_front_pages: int = 0,
) -> Path:
    """A text PDF with bold, larger headings, hard-wrapped body lines and page labels.

    Args:
        path: where to write the PDF.
        pages: the content, page by page.
        title: the PDF /Title metadata, if any.
        roman_front_pages: this many first pages are labelled i, ii, ...; the rest 1, 2, ...
    """
    pdf, family = _new_pdf(title)
    for number, page in enumerate(pages):
        pdf.add_page()
        if roman_front_pages and number == 0:
            pdf.set_page_label(label_style="r")
        if roman_front_pages and number == roman_front_pages:
            pdf.set_page_label(label_style="D", label_start=1)
        pdf.set_xy(20, 20)
        for kind, content in page.blocks:
            if kind == "h":
                pdf.ln(3)
                pdf.set_font(family, "B", HEADING_SIZE)
                pdf.cell(w=0, h=8, text=_text(str(content)), new_x="LMARGIN", new_y="NEXT")
            else:
                size = HEADING_SIZE if kind == "lead" else BODY_SIZE
                pdf.set_font(family, "", size)
                lines = [content] if isinstance(content, str) else content
                for line in lines:
                    pdf.cell(w=0, h=size * 0.53, text=_text(line), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2.5)
    path.write_bytes(bytes(pdf.output()))
    return path


def make_simple_pdf(path: Path, pages: int = 1, text: str = "Dit is een testpagina.") -> Path:
    """A plain PDF with one line of body text per page.

    Args:
        path: where to write the PDF.
        pages: number of pages.
        text: the line on each page (the page number is appended).
    """
    pdf, family = _new_pdf()
    for number in range(pages):
        pdf.add_page()
        pdf.set_font(family, "", BODY_SIZE)
        pdf.cell(w=0, h=6, text=_text(f"{text} Pagina {number + 1}."))
    path.write_bytes(bytes(pdf.output()))
    return path


def make_encrypted_pdf(path: Path, user_password: str = "geheim") -> Path:
    """A text PDF that opens only with a user password.

    Args:
        path: where to write the PDF.
        user_password: the password a reader must give.
    """
    pdf, family = _new_pdf()
    pdf.add_page()
    pdf.set_font(family, "", BODY_SIZE)
    pdf.cell(w=0, h=6, text="Vertrouwelijk: integraal veiligheidsbeleid.")
    pdf.set_encryption(owner_password="eigenaar", user_password=user_password)
    path.write_bytes(bytes(pdf.output()))
    return path


def make_scanned_pdf(path: Path) -> Path:
    """A PDF whose only page is an image of text, like a scan without OCR.

    Args:
        path: where to write the PDF.
    """
    image = Image.new("RGB", (600, 300), "white")
    draw = ImageDraw.Draw(image)
    for row in range(8):
        draw.text((30, 30 + row * 30), "Gescande tekst zonder tekstlaag", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(buffer, x=10, y=10, w=180)
    path.write_bytes(bytes(pdf.output()))
    return path


def make_truncated_pdf(path: Path, source: Path) -> Path:
    """The first half of a real PDF, as left by an interrupted download.

    Args:
        path: where to write the broken copy.
        source: a valid PDF to cut.
    """
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def make_corrupt_pdf(path: Path) -> Path:
    """A file with a PDF header followed by noise.

    Args:
        path: where to write it.
    """
    noise = bytes((i * 73 + 41) % 256 for i in range(4000))
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + noise)
    return path


def make_docx(path: Path) -> Path:
    """A Word document with a title, headings, a bulleted list and a table.

    Args:
        path: where to write the .docx.
    """
    document = docx.Document()
    document.core_properties.title = "Uitvoeringsprogramma veiligheid Urk"
    document.add_heading("Uitvoeringsprogramma veiligheid", level=1)
    document.add_paragraph(
        "Urk werkt samen met partners aan een veilige gemeente. Urk kiest drie thema’s."
    )
    document.add_heading("Thema’s", level=2)
    document.add_paragraph("Ondermijning", style="List Bullet")
    document.add_paragraph("Cybercrime en digitale veiligheid", style="List Bullet")
    document.add_paragraph("Maatschappelijke onrust", style="List Bullet")
    document.add_heading("Planning", level=2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Kwartaal"
    table.cell(0, 1).text = "Actie"
    table.cell(1, 0).text = "Q1 2024"
    table.cell(1, 1).text = "Vaststelling door de raad"
    document.add_paragraph("Na vaststelling volgt de uitvoering.")
    document.save(str(path))
    return path


def make_empty_docx(path: Path) -> Path:
    """A valid Word document without any text.

    Args:
        path: where to write the .docx.
    """
    document = docx.Document()
    document.add_paragraph("")
    document.save(str(path))
    return path


def make_broken_docx(path: Path) -> Path:
    """A zip that claims to be a Word document but whose XML is not XML.

    Args:
        path: where to write the .docx.
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"></Types>',
        )
        archive.writestr("word/document.xml", "<w:document>dit is geen geldige xml")
    return path


def make_ratio_bomb_docx(path: Path, unpacked_mb: int = 101) -> Path:
    """A .docx-named zip with one member that inflates to over 100 MB from a tiny file.

    Args:
        path: where to write it.
        unpacked_mb: uncompressed size of the member in MB.
    """
    block = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            for _ in range(unpacked_mb):
                member.write(block)
    return path


def make_entries_bomb_docx(path: Path, entries: int = 10_001) -> Path:
    """A .docx-named zip with more members than any Word document has.

    Args:
        path: where to write it.
        entries: number of members.
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        for number in range(entries):
            archive.writestr(f"word/media/x{number}.bin", b"")
    return path


# --------------------------------------------------------------------------- layout kinds


def make_running_pdf(
    path: Path, bodies: list[list[str]], *, header: str, footer: str, title: str | None = None
) -> Path:
    """A PDF whose pages repeat a header and a numbered footer around their body lines.

    Args:
        path: where to write the PDF.
        bodies: each page's body lines (one paragraph a page, lines set one by one).
        header: the running header, the same on every page.
        footer: the running footer; ``{n}`` and ``{total}`` become the page numbers.
        title: the PDF /Title, if any.
    """
    pdf, family = _new_pdf(title)
    for number, lines in enumerate(bodies, start=1):
        pdf.add_page()
        pdf.set_font(family, "", 8)
        pdf.set_xy(20, 10)
        pdf.cell(w=0, h=5, text=_text(header))
        pdf.set_xy(20, 40)
        pdf.set_font(family, "", BODY_SIZE)
        for line in lines:
            pdf.cell(w=0, h=BODY_SIZE * 0.53, text=_text(line), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 8)
        pdf.set_xy(20, 282)
        pdf.cell(w=0, h=5, text=_text(footer.format(n=number, total=len(bodies))))
    path.write_bytes(bytes(pdf.output()))
    return path


def make_two_column_pdf(path: Path, heading: str, left: list[str], right: list[str]) -> Path:
    """One page with a heading across the width and two columns of body lines below it.

    Each row's left and right line are written one after the other, so a reader that
    reads across the page interleaves the columns.
    """
    pdf, family = _new_pdf()
    pdf.add_page()
    pdf.set_font(family, "B", HEADING_SIZE)
    pdf.set_xy(20, 20)
    pdf.cell(w=0, h=8, text=_text(heading))
    pdf.set_font(family, "", BODY_SIZE)
    for row in range(max(len(left), len(right))):
        y = 35 + row * 6
        for x, column in ((20, left), (110, right)):
            if row < len(column):
                pdf.set_xy(x, y)
                pdf.cell(w=85, h=5, text=_text(column[row]))
    path.write_bytes(bytes(pdf.output()))
    return path


def make_table_pdf(
    path: Path, intro: str, header: list[list[str]], rows: list[list[str]], note: str
) -> Path:
    """One page with a sentence, a table (header lines stacked per column) and a note.

    Args:
        path: where to write the PDF.
        intro: a sentence above the table.
        header: per column, its header lines top to bottom (e.g. ["Inbraken", "2023"]).
        rows: the data rows; the first cell names the row, the others are right-aligned.
        note: a sentence below the table.
    """
    pdf, family = _new_pdf()
    pdf.add_page()
    pdf.set_font(family, "", BODY_SIZE)
    pdf.set_xy(20, 20)
    pdf.cell(w=0, h=6, text=_text(intro))
    widths = [50] + [40] * (len(header) - 1)
    depth = max(len(lines) for lines in header)
    y = 32
    for level in range(depth):
        x = 20
        for col, lines in enumerate(header):
            if level < len(lines):
                pdf.set_xy(x, y + level * 5)
                pdf.cell(
                    w=widths[col], h=5, text=_text(lines[level]), align="L" if col == 0 else "R"
                )
            x += widths[col]
    y += depth * 5 + 4
    for row in rows:
        x = 20
        for col, cell in enumerate(row):
            pdf.set_xy(x, y)
            pdf.cell(w=widths[col], h=5, text=_text(cell), align="L" if col == 0 else "R")
            x += widths[col]
        y += 7
    pdf.set_xy(20, y + 6)
    pdf.cell(w=0, h=6, text=_text(note))
    path.write_bytes(bytes(pdf.output()))
    return path


def make_aes_pdf(path: Path, user_password: str = "", *, algorithm: str = "AES-256") -> Path:
    """A text PDF encrypted with AES (pypdf); an empty user password opens it for anyone.

    Args:
        path: where to write the PDF.
        user_password: the password a reader must give ("" for none).
        algorithm: pypdf's name: "AES-128" or "AES-256".
    """
    from pypdf import PdfReader, PdfWriter

    plain = make_simple_pdf(path, text="Het beleid voor cameratoezicht in Urk.")
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password="eigenaar", algorithm=algorithm)
    with path.open("wb") as handle:
        writer.write(handle)
    return path

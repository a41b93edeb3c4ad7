"""Scanned pages: read by OCR (Tesseract, Dutch) inside the parse sandbox, or named as unread.

The cases in ../shared/cases/10-scanned are read as a user would, and a generated page
(Dutch text drawn into an image, embedded with fpdf2) checks the kind, not the example.
Tests that need Tesseract skip where it is not installed (scripts/bootstrap.sh installs it).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from assistant.answer import AnswerPipeline
from assistant.settings import Settings
from assistant.types import DocumentMeta
from ingest.ocr import engine, tidy_ocr_text
from ingest.pipeline import ingest_paths
from ingest.readers import load_document
from tests.conftest import SHARED

CASES = SHARED / "cases" / "10-scanned"
MIXED = CASES / "evenementenbeleid-gemengd.pdf"
ONLY_SCAN = CASES / "alleen-scan.pdf"
MELDPLICHT_Q = "Welke meldplicht geldt voor evenementen met meer dan 2.000 bezoekers?"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

needs_tesseract = pytest.mark.skipif(
    not engine(Settings(ocr="auto")).ok, reason="Tesseract with the Dutch model is not installed"
)
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/cases is not here")


def _scan_pdf(path: Path, pages: list[list[str] | None]) -> Path:
    """A PDF whose pages are images of Dutch text (None: a text page with a text layer)."""
    pdf = FPDF(format="A4")
    for number, lines in enumerate(pages, start=1):
        pdf.add_page()
        if lines is None:
            pdf.set_font("helvetica", size=11)
            pdf.set_xy(20, 20)
            pdf.cell(text=f"Tekstpagina {number} met een gewone tekstlaag.")
            continue
        image = Image.new("L", (1654, 2339), 255)  # A4 at 200 dpi
        draw = ImageDraw.Draw(image)
        font = ImageFont.truetype(str(FONT), 36) if FONT.is_file() else ImageFont.load_default(36)
        for row, line in enumerate(lines):
            draw.text((160, 200 + row * 60), line, fill=0, font=font)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        buffer.seek(0)
        pdf.image(buffer, x=0, y=0, w=210, h=297)
    path.write_bytes(bytes(pdf.output()))
    return path


SCAN_LINES = [
    "Hoofdstuk 4 Toezicht",
    "De gemeente Urk controleert kermissen",
    "twee keer per jaar op brandveiligheid.",
]


def _load(path: Path, **settings: object):
    return load_document(path, DocumentMeta(doc_id=path.stem, title=""), Settings(**settings))


@needs_tesseract
def test_generated_scan_page_is_read_by_ocr_with_its_label(tmp_path):
    pdf = _scan_pdf(tmp_path / "toezicht.pdf", [None, SCAN_LINES, None])
    doc = _load(pdf)
    assert [p.ocr for p in doc.pages] == [False, True, False]
    page = doc.pages[1]
    assert page.label == "2" and not page.unread
    flat = " ".join(page.text.split())
    # One sentence again, though the scan breaks it over two lines.
    assert "controleert kermissen twee keer per jaar op brandveiligheid" in flat, page.text
    assert page.text.startswith("Hoofdstuk 4 Toezicht\n")


def test_generated_scan_page_with_ocr_off_is_named_unread(tmp_path):
    pdf = _scan_pdf(tmp_path / "toezicht.pdf", [None, SCAN_LINES, None])
    doc = _load(pdf, ocr="off")
    assert [p.text == "" for p in doc.pages] == [False, True, False]
    assert "IVB_OCR=off" in doc.pages[1].unread
    assert not doc.pages[0].unread and not doc.pages[2].unread


def test_empty_page_is_not_a_scan(tmp_path):
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.cell(text="Alleen de eerste pagina heeft tekst.")
    pdf.add_page()  # blank: nothing to read, nothing to warn about
    (tmp_path / "leeg.pdf").write_bytes(bytes(pdf.output()))
    doc = _load(tmp_path / "leeg.pdf")
    assert [(p.ocr, p.unread) for p in doc.pages] == [(False, ""), (False, "")]


def test_tidy_ocr_text_joins_lines_and_keeps_headings_and_hyphens():
    raw = (
        "Hoofdstuk 2 Evenementen\nVoor evenementen met meer dan 2.000 bezoekers\n"
        "geldt een meldplicht.\n\nDe oud-\nwethouder en het e-mail-\nadres.\n\f"
    )
    assert tidy_ocr_text(raw) == (
        "Hoofdstuk 2 Evenementen\nVoor evenementen met meer dan 2.000 bezoekers geldt een "
        "meldplicht.\n\nDe oud-wethouder en het e-mail-adres."
    )


@needs_cases
@needs_tesseract
def test_mixed_case_page_two_is_read_and_answers(settings, embedder, tmp_path):
    report = ingest_paths([MIXED], settings, embedder=embedder)
    assert report.added == ["evenementenbeleid-gemengd"], report.failed
    assert report.ocr_pages == {"evenementenbeleid-gemengd": ["2"]}
    assert report.warnings == []
    assert report.as_dict()["ocr_pages"] == {"evenementenbeleid-gemengd": ["2"]}
    from assistant.service import get_service

    answer = AnswerPipeline(get_service(settings, embedder)).ask(MELDPLICHT_Q, backend="extractive")
    assert not answer.refused, answer.refusal_reason
    assert "twaalf weken" in answer.text
    assert any(c.page == "2" and "twaalf weken" in c.quote for c in answer.citations)


@needs_cases
def test_mixed_case_with_ocr_off_names_page_two_and_adds_the_rest(settings, embedder):
    settings = settings.model_copy(update={"ocr": "off"})
    report = ingest_paths([MIXED], settings, embedder=embedder)
    assert report.added == ["evenementenbeleid-gemengd"] and report.failed == []
    assert report.ocr_pages == {}
    assert [w["warning"] for w in report.warnings] == [
        "pagina 2 is niet gelezen: OCR staat uit (IVB_OCR=off)"
    ]
    assert report.warnings[0]["path"].endswith("evenementenbeleid-gemengd.pdf")


@needs_cases
@needs_tesseract
def test_image_only_case_is_read_not_refused(tmp_path):
    doc = _load(ONLY_SCAN)
    assert [p.ocr for p in doc.pages] == [True]
    assert "meldplicht van twaalf weken" in " ".join(doc.pages[0].text.split())


def test_image_only_pdf_without_tesseract_is_refused_with_the_reason(tmp_path, monkeypatch):
    # No Tesseract on the PATH: the stub is the missing program, the rest runs for real.
    pytesseract = pytest.importorskip("pytesseract")
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(tmp_path / "geen"))
    pdf = _scan_pdf(tmp_path / "scan.pdf", [SCAN_LINES])
    from ingest.errors import IngestError

    with pytest.raises(IngestError) as caught:
        _load(pdf)
    message = str(caught.value)
    assert str(pdf) in message and "OCR is nodig" in message
    assert "Tesseract is niet geïnstalleerd" in message


@needs_tesseract
def test_ocr_runs_inside_the_sandbox_with_its_memory_cap(settings, embedder, tmp_path):
    """The parse worker's memory cap also holds for Tesseract: OCR works within it."""
    folder = tmp_path / "in"
    folder.mkdir()
    _scan_pdf(folder / "toezicht.pdf", [SCAN_LINES])
    limited = settings.model_copy(update={"parse_memory_mb": 1024})
    report = ingest_paths([folder], limited, embedder=embedder)
    assert report.added == ["toezicht"], report.failed
    assert report.ocr_pages == {"toezicht": ["1"]}

"""Reading PDFs as a person reads them (issue 13): encryption, glyphs, hyphens, running
headers and footers, columns, tables and titles.

Each kind is tested twice: on a small generated PDF (so the kind is fixed, not the example)
and on the failing input in ../shared/cases with its right result; the real PDFs in
../shared/corpora/real-pdfs are checked as a whole.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.settings import REPO_ROOT, Settings
from assistant.types import Document, DocumentMeta
from ingest.chunking import chunk_document
from ingest.errors import IngestError
from ingest.normalise import clean_text, clean_title
from ingest.readers import load_document
from ingest.readers.pdf_layout import hyphen_is_break
from tests.pdf_factory import (
    PdfPage,
    make_aes_pdf,
    make_running_pdf,
    make_table_pdf,
    make_text_pdf,
    make_two_column_pdf,
)

SHARED = REPO_ROOT.parent / "shared"
CASES = SHARED / "cases"
REAL = SHARED / "corpora" / "real-pdfs"
BAD_GLYPH = re.compile("[\ufb00-\ufb06\ue000-\uf8ff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f]")


def _load(path: Path) -> Document:
    return load_document(path, DocumentMeta(doc_id=path.stem, title=""), Settings())


def _chunks(doc: Document) -> list:
    settings = Settings()
    return chunk_document(doc, settings.chunk_size, settings.chunk_overlap)


def _flat(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- encryption


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_aes_pdf_with_empty_password_opens(tmp_path: Path, algorithm: str) -> None:
    doc = _load(make_aes_pdf(tmp_path / "aes.pdf", "", algorithm=algorithm))
    assert "cameratoezicht in Urk" in doc.pages[0].text


def test_pdf_needing_a_password_says_so_and_names_the_file(tmp_path: Path) -> None:
    path = make_aes_pdf(tmp_path / "geheim.pdf", "geheim")
    with pytest.raises(IngestError) as caught:
        _load(path)
    message = str(caught.value)
    assert "geheim.pdf" in message
    assert "versleuteld met een wachtwoord: vraag een onbeveiligde versie" in message
    assert "beschadigd" not in message


# --------------------------------------------------------------------------- normalisation


def test_clean_text_maps_ligatures_and_removes_invisible_characters() -> None:
    assert clean_text("de \ufb01nanci\u00eble \ufb02exibele o\ufb03ci\u00eble") == (
        "de financiële flexibele officiële"
    )
    assert clean_text("inbraak\u00adpreventie\u00a0nu\x00\x07") == "inbraakpreventie nu"
    assert clean_text("regel een\nregel twee\tend") == "regel een\nregel twee\tend"
    assert (
        clean_title("Beleid\x00 \ufb01nanci\u00eble  paragraaf\n") == "Beleid financiële paragraaf"
    )
    assert clean_title("\x00 ") is None


LIGATURE_LINE = "De \ufb01nanci\u00eble gevolgen van de o\ufb03ci\u00eble inbraak\u00adpreventie."


def test_generated_pdf_with_ligatures_soft_hyphens_and_nul_title(tmp_path: Path) -> None:
    path = make_text_pdf(
        tmp_path / "ligaturen.pdf",
        [PdfPage([("p", [LIGATURE_LINE])])],
        title="Financi\u00eble\x00 paragraaf",
    )
    doc = _load(path)
    text = doc.pages[0].text
    assert "financiële gevolgen" in text and "officiële inbraakpreventie" in text
    assert not BAD_GLYPH.search(text)
    assert not BAD_GLYPH.search(doc.meta.title)


# --------------------------------------------------------------------------- hyphenation


@pytest.mark.parametrize(
    ("left", "right", "joined"),
    [
        ("samen", "werking", True),
        ("inbraak", "preventie", True),
        ("veiligheids", "beleid", True),
        ("oud", "wethouder", False),
        ("e", "mailadres", False),
        ("Noord", "Holland", False),
        ("zee", "egel", False),
        ("ICT", "toetsing", False),
    ],
)
def test_line_end_hyphen_joins_only_a_broken_word(left: str, right: str, joined: bool) -> None:
    assert hyphen_is_break(left, right) is joined


def test_documents_own_hyphenated_compound_keeps_its_hyphen() -> None:
    assert hyphen_is_break("straat", "coach") is True
    assert hyphen_is_break("straat", "coach", frozenset({"straat-coach"})) is False


def test_generated_pdf_keeps_compounds_and_joins_broken_words(tmp_path: Path) -> None:
    lines = [
        "De gemeenteraad heeft op voorstel van de burgemeester en de oud-",
        "wethouder besloten om de samenwerking met de politie in Noord-",
        "Holland te versterken. Meldingen kunnen via het e-",
        "mailadres van de gemeente en het veiligheidsbeleid wordt samen-",
        "werking genoemd in het jaarverslag van de gemeente Urk in 2025.",
    ]
    doc = _load(make_text_pdf(tmp_path / "afbreking.pdf", [PdfPage([("p", lines)])]))
    text = _flat(doc.pages[0].text)
    assert "oud-wethouder" in text
    assert "Noord-Holland" in text
    assert "e-mailadres" in text
    assert "samenwerking genoemd" in text


# --------------------------------------------------------------------------- running lines


def test_generated_running_header_footer_and_page_numbers_stay_out(tmp_path: Path) -> None:
    places = ["Swifterbant", "Biddinghuizen", "Dronten-Noord", "het centrum", "de haven"]
    bodies = [[f"De gemeente zet in op toezicht in {place}."] for place in places]
    path = make_running_pdf(
        tmp_path / "kop.pdf",
        bodies,
        header="Gemeente Dronten | Uitvoeringsplan | CONCEPT",
        footer="Pagina {n} van {total} - Vertrouwelijk",
    )
    doc = _load(path)
    for page in doc.pages:
        assert "CONCEPT" not in page.text and "Vertrouwelijk" not in page.text
        assert "toezicht in" in page.text
    for chunk in _chunks(doc):
        assert not chunk.text.split()[-1].isdigit()


def test_continuation_notices_stay_out(tmp_path: Path) -> None:
    """A notice that a table goes on overleaf is page furniture wherever it stands on the
    page, also when it does not recur in the header or footer band of three pages."""
    rows = [f"{n}. Cameratoezicht in wijk {n} van Dronten" for n in range(1, 5)]
    notices = ["Wordt vervolgd op de volgende pagina", "z.o.z.", "Vervolg op volgende pagina"]
    pages = [
        PdfPage([("h", "Tabel 1 Camera's"), ("p", rows[:2]), ("p", [notices[0]])]),
        PdfPage([("p", rows[2:3]), ("p", [notices[1]])]),
        PdfPage([("p", rows[3:]), ("p", [notices[2]]), ("p", ["Einde van de tabel."])]),
    ]
    doc = _load(make_text_pdf(tmp_path / "tabel.pdf", pages))
    text = "\n".join(page.text for page in doc.pages)
    for row in rows:
        assert row in text
    for notice in notices:
        assert notice not in text
    assert "Einde van de tabel." in text
    assert not [c.text for c in _chunks(doc) if "vervolg" in c.text.lower()]


@pytest.mark.skipif(not CASES.is_dir(), reason="shared cases not present")
def test_case_07_headers_footers() -> None:
    doc = _load(CASES / "07-headers-footers" / "uitvoeringsplan-nop.pdf")
    chunks = _chunks(doc)
    for chunk in chunks:
        assert "CONCEPT" not in chunk.text
        assert "Pagina" not in chunk.text
        assert "Vertrouwelijk" not in chunk.text
    answer = [c for c in chunks if "vier straatcoaches" in c.text]
    assert answer and answer[0].page_label_start == "3"


# --------------------------------------------------------------------------- columns


def test_generated_two_columns_read_column_by_column(tmp_path: Path) -> None:
    left = [
        "Noordoostpolder breidt in 2025 het",
        "aantal boa's in Emmeloord uit met",
        "twee voltijdse krachten voor de",
        "wijken rond het centrum en de haven.",
    ]
    right = [
        "Dronten verlengt de proef met de",
        "buurtapp voor inwoners van Swifterbant",
        "en Biddinghuizen met nog een jaar",
        "en evalueert die daarna met de raad.",
    ]
    doc = _load(make_two_column_pdf(tmp_path / "kolommen.pdf", "Nieuwsbrief", left, right))
    text = _flat(doc.pages[0].text)
    assert _flat(" ".join(left)) in text
    assert _flat(" ".join(right)) in text


@pytest.mark.skipif(not CASES.is_dir(), reason="shared cases not present")
def test_case_08_two_columns() -> None:
    doc = _load(CASES / "08-two-columns" / "nieuwsbrief-voorjaar.pdf")
    urk = (
        "De gemeente Urk investeert in 2025 extra in cameratoezicht op het haventerrein en "
        "bij de visafslag. Daarvoor is 45.000 euro beschikbaar."
    )
    chunks = _chunks(doc)
    assert any(urk in _flat(c.text) for c in chunks)
    dronten = "Dronten start een proef met flexibel cameratoezicht in het stadspark"
    assert any(dronten in _flat(c.text) for c in chunks)


# --------------------------------------------------------------------------- tables


def test_generated_table_rows_carry_their_headers(tmp_path: Path) -> None:
    path = make_table_pdf(
        tmp_path / "tabel.pdf",
        "Overzicht van meldingen per kern.",
        [["Kern"], ["Overlast", "2024"], ["Overlast", "2025"]],
        [["Emmeloord", "120", "98"], ["Marknesse", "14", "9"], ["Ens", "22", "25"]],
        "Bron: meldkamer.",
    )
    chunks = _chunks(_load(path))
    text = "\n".join(c.text for c in chunks)
    assert re.search(r"Marknesse – Overlast 2024: 14; Overlast 2025: 9", text)
    assert "Overzicht van meldingen per kern." in text and "Bron: meldkamer." in text
    row = next(c for c in chunks if "Ens –" in c.text)
    assert "Overlast 2025: 25" in row.text


@pytest.mark.skipif(not CASES.is_dir(), reason="shared cases not present")
def test_case_09_table() -> None:
    chunks = _chunks(_load(CASES / "09-table" / "veiligheidscijfers.pdf"))
    urk = [c for c in chunks if re.search(r"Urk – [^\n]*Woninginbraken 2023: 37", c.text)]
    assert urk and urk[0].page_label_start == "1"
    header = "Gemeente | Woninginbraken 2022 | Woninginbraken 2023 | Fietsendiefstal 2023"
    assert all("Urk – " in c.text for c in chunks if header in c.text)  # never a chunk alone


# --------------------------------------------------------------------------- ligatures case


@pytest.mark.skipif(not CASES.is_dir(), reason="shared cases not present")
def test_case_02_ligatures() -> None:
    chunks = _chunks(_load(CASES / "02-ligatures" / "financiele-paragraaf-urk.pdf"))
    text = " ".join(c.text for c in chunks)
    assert "financiële gevolgen" in text and "fietsendiefstallen bij de haven" in text
    assert not any(BAD_GLYPH.search(c.text) for c in chunks)


# --------------------------------------------------------------------------- titles


BODY = [
    "De raad besluit de agenda vast te stellen en het verslag van de vorige vergadering",
    "ongewijzigd goed te keuren. De motie over de verdeelsleutel wordt aangehouden.",
]


def test_stale_metadata_title_gives_way_to_the_first_heading(tmp_path: Path) -> None:
    path = make_text_pdf(
        tmp_path / "besluitenlijst.pdf",
        [PdfPage([("h", "Besluitenlijst raad 29 juni 2015"), ("p", BODY), ("p", BODY)])],
        title="Aandachtspuntenlijst commissie 3 november 2008",
    )
    assert _load(path).meta.title == "Besluitenlijst raad 29 juni 2015"


def test_metadata_title_that_the_text_bears_out_is_kept(tmp_path: Path) -> None:
    path = make_text_pdf(
        tmp_path / "plan.pdf",
        [
            PdfPage(
                [("h", "Inleiding"), ("p", ["Het veiligheidsplan voor Urk loopt tot 2027.", *BODY])]
            )
        ],
        title="Veiligheidsplan Urk",
    )
    assert _load(path).meta.title == "Veiligheidsplan Urk"


# --------------------------------------------------------------------------- real PDFs


@pytest.mark.skipif(not REAL.is_dir(), reason="shared real PDFs not present")
@pytest.mark.parametrize("path", sorted(REAL.glob("*.pdf")), ids=lambda p: p.stem)
def test_real_pdfs_read_cleanly(path: Path) -> None:
    from benchmarks.real_pdfs import header_only, running_lines

    doc = _load(path)
    chunks = _chunks(doc)
    running = running_lines(path)
    assert chunks
    assert not [c.text for c in chunks if header_only(c.text, running)]
    assert not [c.text for c in chunks if BAD_GLYPH.search(c.text)]
    assert not [c.text for c in chunks if c.text.split()[-1] == c.page_label_end]
    assert not BAD_GLYPH.search(doc.meta.title)
    if path.name.startswith("besluitenlijst"):
        assert "2015" in doc.meta.title and "2008" not in doc.meta.title
    if path.name.startswith("kiesraad"):
        assert len(doc.pages) == 51
        assert [p.label for p in doc.pages[:6]] == ["i", "ii", "iii", "iv", "v", "1"]
    if path.name.startswith("vws"):
        text = " ".join(c.text for c in chunks)
        assert "functiebeperking" in text and "heeft" in text


# --------------------------------------------------------------------------- end to end


@pytest.mark.skipif(not CASES.is_dir(), reason="shared cases not present")
def test_cases_through_ingest_and_keyword_search(tmp_path: Path, settings, embedder) -> None:
    """The cases ingested into a real store: the right passages are found by keywords, and
    no running header or glyph reaches the index."""
    import shutil

    from assistant.store import Store
    from ingest.pipeline import ingest_paths

    folder = tmp_path / "cases"
    folder.mkdir()
    for case in ("02-ligatures", "07-headers-footers", "08-two-columns", "09-table"):
        for pdf in (CASES / case).glob("*.pdf"):
            shutil.copy(pdf, folder / pdf.name)
    report = ingest_paths([folder], settings, embedder=embedder)
    assert report.ok, report.failed
    store = Store(settings)

    top = store.keyword_search("fietsendiefstallen haven", 3)
    assert top and "fietsendiefstallen bij de haven" in top[0][0].text
    top = store.keyword_search("inbraakpreventie", 3)
    assert top and "inbraakpreventie stimuleren" in top[0][0].text
    top = store.keyword_search("straatcoaches Emmeloord", 5)
    assert top and "vier straatcoaches" in top[0][0].text and top[0][0].page_label == "3"
    assert not any("Pagina" in c.text or "CONCEPT" in c.text for c, _ in top)
    top = store.keyword_search("woninginbraken 2023 Urk", 3)
    assert top and "Urk – Woninginbraken 2022: 41; Woninginbraken 2023: 37" in top[0][0].text
    for doc_id in [d.doc_id for d in store.documents()]:
        for chunk in store.current_chunks(doc_id):
            assert not BAD_GLYPH.search(chunk.text)

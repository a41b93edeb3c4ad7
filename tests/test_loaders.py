"""Loading real files: the seed PDF, generated PDFs and docx files, statutes, and bad input."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.settings import REPO_ROOT, Settings
from assistant.types import DocumentMeta
from ingest.errors import IngestError
from ingest.manifest import complete_meta, discover, infer_municipality, infer_title
from ingest.readers import SUPPORTED_SUFFIXES, load_document, read_bytes_checked
from tests.pdf_factory import (
    PdfPage,
    make_broken_docx,
    make_corrupt_pdf,
    make_docx,
    make_empty_docx,
    make_encrypted_pdf,
    make_entries_bomb_docx,
    make_ratio_bomb_docx,
    make_scanned_pdf,
    make_simple_pdf,
    make_text_pdf,
    make_truncated_pdf,
)

SHARED = REPO_ROOT.parent / "shared"
SEED_PDF = SHARED / "seed" / "toelichting-beeldvormende-vergadering-ivb-2024-2027.pdf"
OPIUMWET = SHARED / "corpora" / "nl-wetten-2017" / "BWBR0001941.md"

needs_seed = pytest.mark.skipif(not SEED_PDF.is_file(), reason="shared seed PDF not present")
needs_statutes = pytest.mark.skipif(not OPIUMWET.is_file(), reason="shared statutes not present")


def _meta(doc_id: str = "doc") -> DocumentMeta:
    return DocumentMeta(doc_id=doc_id, title="")


def _load(path: Path, settings: Settings | None = None):
    return load_document(path, _meta(path.stem), settings or Settings())


def _flat(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- the seed PDF


@needs_seed
def test_seed_pdf_pages_labels_and_hash() -> None:
    doc = _load(SEED_PDF)
    assert doc.format == "pdf"
    assert [p.index for p in doc.pages] == [0, 1, 2]
    assert [p.label for p in doc.pages] == ["1", "2", "3"]
    assert doc.content_hash == hashlib.sha256(SEED_PDF.read_bytes()).hexdigest()
    assert doc.source == str(SEED_PDF)


@needs_seed
def test_seed_pdf_themes_sentence_is_on_page_two() -> None:
    doc = _load(SEED_PDF)
    page = doc.pages[1]
    assert page.label == "2"
    flat = _flat(page.text)
    for theme in ("cybercrime en digitale veiligheid", "ondermijning", "maatschappelijke onrust"):
        assert theme in flat
    assert (
        "namelijk ‘cybercrime en digitale veiligheid’, ‘ondermijning’ en ‘maatschappelijke" in flat
    )
    assert "namelijk ‘cybercrime" not in _flat(doc.pages[0].text)


@needs_seed
def test_seed_pdf_headings_are_detected_and_kept_as_lines() -> None:
    doc = _load(SEED_PDF)
    headings = [h for page in doc.pages for h in page.headings]
    expected = [
        "Inleiding",
        "Doel beeldvormende vergadering",
        "Geprioriteerde veiligheidsthema’s",
        "Planning en proces",
        "Voorbereidende vragen",
        "Agenda beeldvormende vergadering 5 oktober",
    ]
    positions = [headings.index(h) for h in expected]
    assert positions == sorted(positions)
    # In this PDF two headings end a page: their text starts on the next one.
    assert "Geprioriteerde veiligheidsthema’s" in doc.pages[0].headings
    assert "Agenda beeldvormende vergadering 5 oktober" in doc.pages[1].headings
    for page in doc.pages:
        lines = page.text.splitlines()
        for heading in page.headings:
            assert heading in lines
    # Body text is not mistaken for a heading.
    assert not any(h.startswith(("In 2020", "Portefeuille", "•")) for h in headings)


@needs_seed
def test_seed_pdf_text_is_normalised() -> None:
    doc = _load(SEED_PDF)
    for page in doc.pages:
        assert "  " not in page.text
        assert "\n\n\n" not in page.text
    page1 = doc.pages[0].text
    # Hard-wrapped lines inside a paragraph are joined; paragraph breaks are kept.
    assert "voor het eerst de handen ineengeslagen en gezamenlijk" in page1
    assert "de krachten te bundelen.\n\nHet IVB 2024-2027 dient als kapstok" in page1
    assert "Inleiding\nIn 2020 hebben" in page1
    # Bullets stay on lines of their own.
    page2 = doc.pages[1].text
    bullets = [line for line in page2.splitlines() if line.startswith("• ")]
    assert len(bullets) == 8
    assert (
        "• 5 oktober ’23: ophalen input gemeenteraad d.m.v. beeldvormende vergadering." in bullets
    )


@needs_seed
def test_seed_pdf_agenda_speaker_is_on_page_three() -> None:
    doc = _load(SEED_PDF)
    assert "Tom Nauta" in doc.pages[2].text
    assert doc.pages[2].label == "3"
    assert all("Tom Nauta" not in page.text for page in doc.pages[:2])
    # Agenda rows stay rows; a wrapped row is joined.
    assert (
        "19:40 uur Toelichting politiecijfers door Tom Nauta, teamchef Basisteam Dronten, "
        "Noordoostpolder, Urk.\n19:55 uur" in doc.pages[2].text
    )


@needs_seed
def test_seed_pdf_meta_is_completed_from_the_file() -> None:
    doc = _load(SEED_PDF)
    assert (
        doc.meta.title
        == "Toelichting beeldvormende vergadering Integraal Veiligheidsbeleid 2024-2027"
    )
    assert doc.meta.municipality == "gezamenlijk"


# --------------------------------------------------------------------------- generated files


POLICY_LINES = [
    "De gemeente Dronten werkt al jaren met partners aan veiligheid en de samen-",
    "werking met politie en Openbaar Ministerie is de basis van dit beleid. Het",
    "college heeft daarom besloten de lijn voort te zetten in Noord-",
    "Holland en Flevoland, met informatie-",
    "uitwisseling als kern.",
]


def _policy_pdf(path: Path) -> Path:
    return make_text_pdf(
        path,
        [
            PdfPage([("p", "Voorwoord van de burgemeester van Dronten.")]),
            PdfPage(
                [
                    ("h", "1. Inleiding"),
                    ("p", POLICY_LINES),
                    ("h", "2. Thema’s"),
                    ("p", ["- Ondermijning", "- Cybercrime en digitale veiligheid"]),
                ]
            ),
            PdfPage(
                [
                    ("p", ["Vervolg zonder kop op de volgende pagina in de gemeente Dronten."]),
                    ("h", "Hoofdstuk 3 Handhaving"),
                    ("p", "Handhaving gebeurt samen met de politie."),
                ]
            ),
        ],
        title="Veiligheidsbeleid Dronten",
        roman_front_pages=1,
    )


def test_generated_pdf_labels_headings_and_hyphenation(tmp_path: Path) -> None:
    doc = _load(_policy_pdf(tmp_path / "beleid.pdf"))
    assert [p.label for p in doc.pages] == ["i", "1", "2"]
    assert doc.pages[0].headings == []
    assert doc.pages[1].headings == ["1. Inleiding", "2. Thema’s"]
    assert doc.pages[2].headings == ["Hoofdstuk 3 Handhaving"]
    text = doc.pages[1].text
    assert "en de samenwerking met politie" in text  # hyphenated word repaired
    assert "in Noord-Holland en Flevoland" in text  # real hyphen kept, before a capital
    assert "met informatie-uitwisseling als kern." in text  # Dutch vowel clash keeps hyphen
    assert "- Ondermijning\n- Cybercrime en digitale veiligheid" in text
    assert doc.meta.title == "Veiligheidsbeleid Dronten"
    assert doc.meta.municipality == "Dronten"


def test_large_intro_paragraph_is_not_a_heading(tmp_path: Path) -> None:
    intro = [
        "Dit beleid beschrijft hoe Dronten de komende jaren werkt aan",
        "een veilige gemeente, samen met inwoners, ondernemers en",
        "partners zoals politie, Openbaar Ministerie en de",
        "veiligheidsregio, met aandacht voor jeugd en zorg.",
    ]
    body = [
        "De gemeente Dronten kiest voor een aanpak waarin preventie en handhaving elkaar",
        "versterken en waarin partners vroeg worden betrokken bij nieuwe ontwikkelingen.",
    ]
    path = make_text_pdf(
        tmp_path / "intro.pdf",
        [PdfPage([("h", "Voorwoord"), ("lead", intro), ("p", body), ("p", body)])],
    )
    page = _load(path).pages[0]
    assert page.headings == ["Voorwoord"]
    assert " ".join(intro) in page.text  # one paragraph, joined


def test_docx_headings_lists_and_tables(tmp_path: Path) -> None:
    doc = _load(make_docx(tmp_path / "programma.docx"))
    assert doc.format == "docx"
    assert [(p.index, p.label) for p in doc.pages] == [(0, "1")]
    text = doc.pages[0].text
    assert "# Uitvoeringsprogramma veiligheid\n" in text
    assert "## Thema’s\n\n- Ondermijning\n- Cybercrime en digitale veiligheid\n" in text
    assert "Kwartaal | Actie\nQ1 2024 | Vaststelling door de raad" in text
    assert doc.pages[0].headings == ["Uitvoeringsprogramma veiligheid", "Thema’s", "Planning"]
    assert doc.meta.title == "Uitvoeringsprogramma veiligheid Urk"
    assert doc.meta.municipality == "Urk"


@needs_statutes
def test_statute_markdown_is_cleaned(tmp_path: Path) -> None:
    doc = _load(OPIUMWET)
    assert doc.format == "md"
    text = doc.pages[0].text
    assert not text.lstrip().startswith("<meta")
    assert "http-equiv" not in text
    assert "### Artikel 13b\n" in text
    assert "### Artikel 3c\n" in text  # "###Artikel  3c " in the source
    assert "Artikel 13b" in doc.pages[0].headings
    # Titled by its citation title, not its formal first heading.
    assert doc.meta.title == "Opiumwet"
    assert doc.pages[0].headings[0].startswith("Wet van 12 mei 1928, tot vaststelling")


def test_text_encodings(tmp_path: Path) -> None:
    body = "Artikel 1\n\nDe burgemeester van Urk is bevoegd. Café ’t Hoekje."
    utf8_bom = tmp_path / "bom.md"
    utf8_bom.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes(body.encode("utf-16"))  # with BOM
    for path in (utf8_bom, utf16):
        doc = _load(path)
        assert doc.pages[0].text == body
        assert [(p.index, p.label) for p in doc.pages] == [(0, "1")]
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(b"Regel  een\r\nRegel\ttwee   \r\n")
    assert _load(crlf).pages[0].text == "Regel een\nRegel twee"


def test_supported_suffixes() -> None:
    assert {".pdf", ".docx", ".md", ".markdown", ".txt"} == SUPPORTED_SUFFIXES


# --------------------------------------------------------------------------- bad input


def _write(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return build


def _seed_copy(name: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        return Path(shutil.copy(SEED_PDF, folder / name))

    return build


BAD_INPUTS: list[tuple[str, Callable[[Path], Path], str, dict]] = [
    ("empty-pdf", _write("leeg.pdf", b""), "is leeg", {}),
    ("empty-txt", _write("leeg.txt", b""), "is leeg", {}),
    ("whitespace-md", _write("spaties.md", b"  \n\n\t \n"), "bevat geen tekst", {}),
    ("unsupported", _write("begroting.xlsx", b"PK\x03\x04rest"), "niet ondersteund", {}),
    ("old-word", _write("notulen.doc", b"\xd0\xcf\x11\xe0rest"), ".docx", {}),
    ("no-extension", _write("README", b"tekst"), "niet ondersteund", {}),
    ("pdf-magic", _write("nep.pdf", b"Dit is geen PDF maar tekst."), "geen PDF", {}),
    ("docx-not-zip", _write("nep.docx", b"Dit is geen Word-bestand."), "geen Word-bestand", {}),
    (
        "docx-ole",
        _write("beveiligd.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
        "versleuteld",
        {},
    ),
    ("latin1-txt", _write("latin1.txt", "Café in Urk".encode("latin-1")), "geen UTF-8-tekst", {}),
    ("binary-md", _write("binair.md", b"abc\x00def"), "binaire", {}),
    ("corrupt-pdf", None, "beschadigd", {}),
    # Issue 13 asks for this wording (it used to be "is versleuteld; lever een versie zonder
    # wachtwoord aan"): say that a password is the problem and what to ask for.
    ("encrypted-pdf", None, "is versleuteld met een wachtwoord: vraag een onbeveiligde versie", {}),
    # With OCR off a scan is still refused (tests/test_scans.py: with OCR on it is read).
    ("scanned-pdf", None, "bevat geen tekst (gescande afbeelding?)", {"ocr": "off"}),
    ("too-many-pages", None, "pagina's (maximaal 2)", {"max_pages": 2}),
    ("ratio-bomb", None, "zip-bom", {}),
    ("entries-bomb", None, "zip-bom", {}),
    ("broken-docx", None, "onleesbaar Word-bestand", {}),
    ("empty-docx", None, "bevat geen tekst", {}),
]


def _build_bad(case: str, folder: Path) -> Path:
    builders: dict[str, Callable[[Path], Path]] = {
        "corrupt-pdf": lambda f: make_corrupt_pdf(f / "kapot.pdf"),
        "encrypted-pdf": lambda f: make_encrypted_pdf(f / "geheim.pdf"),
        "scanned-pdf": lambda f: make_scanned_pdf(f / "scan.pdf"),
        "too-many-pages": lambda f: make_simple_pdf(f / "dik.pdf", pages=3),
        "ratio-bomb": lambda f: make_ratio_bomb_docx(f / "bom.docx"),
        "entries-bomb": lambda f: make_entries_bomb_docx(f / "veel.docx"),
        "broken-docx": lambda f: make_broken_docx(f / "stuk.docx"),
        "empty-docx": lambda f: make_empty_docx(f / "leeg.docx"),
    }
    if case in builders:
        return builders[case](folder)
    for name, build, _reason, _settings in BAD_INPUTS:
        if name == case and build is not None:
            return build(folder)
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "reason", "overrides"),
    [(name, reason, overrides) for name, _build, reason, overrides in BAD_INPUTS],
    ids=[name for name, *_ in BAD_INPUTS],
)
def test_bad_input_raises_ingest_error_naming_the_file(
    tmp_path: Path, case: str, reason: str, overrides: dict
) -> None:
    path = _build_bad(case, tmp_path)
    with pytest.raises(IngestError) as caught:
        load_document(path, _meta(), Settings(**overrides))
    error = caught.value
    assert error.path == str(path)
    assert str(error) == f"{path}: {error.reason}"
    assert path.name in str(error)
    assert reason in error.reason


@needs_seed
def test_truncated_pdf_is_refused(tmp_path: Path) -> None:
    path = make_truncated_pdf(tmp_path / "half.pdf", SEED_PDF)
    with pytest.raises(IngestError, match=r"half\.pdf: is een beschadigde of onvolledige PDF"):
        _load(path)


@needs_seed
def test_pdf_with_damaged_structure_is_refused_not_renumbered(tmp_path: Path) -> None:
    # Overwrite the middle of the file: pypdf could guess the page tree back, but then the
    # first page goes missing and every page number after it would be wrong.
    data = bytearray(SEED_PDF.read_bytes())
    data[200:900] = b"x" * 700
    path = tmp_path / "geraden.pdf"
    path.write_bytes(bytes(data))
    with pytest.raises(IngestError, match=r"geraden\.pdf: is beschadigd"):
        _load(path)


@needs_seed
def test_too_large_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = _seed_copy("groot.pdf")(tmp_path)
    with pytest.raises(IngestError, match=r"groot\.pdf: is te groot .*maximaal 0\.01 MB"):
        read_bytes_checked(path, Settings(max_file_mb=0.01))


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"weg\.pdf: bestaat niet"):
        _load(tmp_path / "weg.pdf")


def test_owner_password_only_pdf_is_read(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.cell(text="Alleen een eigenaarswachtwoord, geen gebruikerswachtwoord.")
    pdf.set_encryption(owner_password="eigenaar")
    path = tmp_path / "open.pdf"
    path.write_bytes(bytes(pdf.output()))
    assert "eigenaarswachtwoord" in _load(path).pages[0].text


# --------------------------------------------------------------------------- metadata


def test_infer_municipality() -> None:
    assert infer_municipality("Dronten, Noordoostpolder en Urk werken samen.") == "gezamenlijk"
    assert infer_municipality("Urk kiest. Op Urk is het veilig.") == "Urk"
    assert infer_municipality("Urk kiest.") == "onbekend"  # once is not enough
    assert infer_municipality("Dronten en Urk, Dronten en Urk.") == "onbekend"
    assert infer_municipality("Urker vissers en Drontenaren.") == "onbekend"  # word boundaries


def test_infer_title() -> None:
    assert infer_title("tekst", "Beleidsplan", "x.pdf") == "Beleidsplan"
    assert infer_title("# Kop\ntekst", "Microsoft Word - x.docx", "x.pdf") == "Kop"
    assert infer_title("\n\nEerste regel\nTweede", None, "x.txt") == "Eerste regel"
    assert infer_title("..\nTekst", None, "mijn_notulen.txt") == "mijn notulen"
    long = infer_title("Wet van 1 mei 2000, " + "tot regeling van iets " * 10, None, "x.md")
    assert len(long) <= 120
    assert long.startswith("Wet van 1 mei 2000, tot regeling")
    assert long.endswith("…")
    assert infer_title("tekst", None, "x.pdf", headings=["Inleiding"]) == "Inleiding"


def test_manifest_sidecar_and_discovery(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.md").write_text("# Plan Urk\n\nUrk en Urk.", encoding="utf-8")
    (corpus / "sub" / "b.txt").write_text("Notulen Dronten", encoding="utf-8")
    (corpus / "sub" / "b.txt.meta.toml").write_text(
        'title = "Notulen"\ndate = 2024-03-01\nmunicipality = "dronten"\n', encoding="utf-8"
    )
    (corpus / "c d!.xlsx").write_bytes(b"PK")
    (corpus / ".verborgen.md").write_text("x", encoding="utf-8")
    (corpus / "manifest.toml").write_text(
        '[[document]]\nfile = "a.md"\nid = "plan-urk"\ndoc_type = "beleid"\n'
        'supersedes = ["plan-oud"]\n\n'
        '[[document]]\nfile = "sub/b.txt"\nid = "notulen-1"\ntitle = "Overschreven"\n'
        'doc_type = "sessieverslag"\n',
        encoding="utf-8",
    )
    found = discover([corpus])
    by_name = {path.name: meta for path, meta in found}
    assert set(by_name) == {"a.md", "b.txt", "c d!.xlsx"}
    assert by_name["a.md"].doc_id == "plan-urk"
    assert by_name["a.md"].supersedes == ["plan-oud"]
    assert by_name["a.md"].title == ""
    assert by_name["b.txt"].title == "Notulen"  # the sidecar wins
    assert by_name["b.txt"].doc_type == "sessieverslag"  # the manifest fills the rest
    assert by_name["b.txt"].date == "2024-03-01"
    assert by_name["b.txt"].municipality == "Dronten"
    assert by_name["c d!.xlsx"].doc_id == "c_d"

    settings = Settings()
    plan = load_document(corpus / "a.md", by_name["a.md"], settings)
    assert plan.meta.title == "Plan Urk"
    assert plan.meta.municipality == "Urk"
    notulen = load_document(corpus / "sub" / "b.txt", by_name["b.txt"], settings)
    assert notulen.meta.municipality == "Dronten"  # set by the sidecar, not inferred


def test_explicit_municipality_is_not_overridden(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_text("Dronten, Noordoostpolder en Urk.", encoding="utf-8")
    meta = DocumentMeta(doc_id="x", title="X", municipality="onbekend")
    doc = load_document(path, meta, Settings())
    assert doc.meta.municipality == "onbekend"
    assert complete_meta(_meta("x"), doc).municipality == "gezamenlijk"


def test_same_file_name_in_two_folders_gets_two_ids(tmp_path: Path) -> None:
    for folder in ("dronten", "urk"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notulen.md").write_text("x", encoding="utf-8")
    ids = sorted(meta.doc_id for _path, meta in discover([tmp_path]))
    assert ids == ["dronten.notulen", "urk.notulen"]


@pytest.mark.parametrize(
    "manifest",
    [
        "[[document]\nfile = ",  # not TOML
        '[[document]]\nid = "zonder-bestand"\n',
        '[[document]]\nfile = "ontbreekt.md"\n',
        '[[document]]\nfile = "a.md"\nmunicipality = "Lelystad"\n',
        '[[document]]\nfile = "a.md"\ndate = "maart 2024"\n',
        '[[document]]\nfile = "a.md"\nid = "met spatie"\n',
        '[[document]]\nfile = "a.md"\nauteur = "x"\n',
    ],
)
def test_invalid_manifest_names_the_manifest(tmp_path: Path, manifest: str) -> None:
    (tmp_path / "a.md").write_text("x", encoding="utf-8")
    (tmp_path / "manifest.toml").write_text(manifest, encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        discover([tmp_path])
    assert caught.value.path == str(tmp_path / "manifest.toml")
    assert "manifest.toml: " in str(caught.value)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("##Wet van 14 februari 1992\n\nArtikel 1\n...\nDeze wet kan worden aangehaald als: "
         "Gemeentewet.\n", "Gemeentewet"),
        ('Deze wet kan worden aangehaald onder de titel "Opiumwet".', "Opiumwet"),
        ("Deze wet wordt aangehaald als: Politiewet, met vermelding van het jaartal van het "
         "Staatsblad waarin zij wordt geplaatst.", "Politiewet"),
        ("Deze verordening wordt aangehaald als: Algemene plaatselijke verordening Urk 2022.",
         "Algemene plaatselijke verordening Urk 2022"),
        ("Dit besluit wordt aangehaald als: Besluit Bibob.", "Besluit Bibob"),
        ("Deze verordening wordt aangehaald als 'APV ’s-Hertogenbosch'.", "APV ’s-Hertogenbosch"),
        # A memo that mentions how some law is cited does not take that name.
        ("# Memo handhaving\n\nDe wet kan worden aangehaald als Opiumwet.", "Memo handhaving"),
    ],
)  # fmt: skip
def test_a_regulation_is_titled_by_its_citation_title(text: str, title: str) -> None:
    assert infer_title(text, None, "BWBR0005416.md", headings=[text.splitlines()[0]]) == title

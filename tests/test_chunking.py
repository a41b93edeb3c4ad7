"""Chunking real documents: pages stay exact, statutes split on article boundaries."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant.settings import REPO_ROOT, Settings
from assistant.types import Chunk, Document, DocumentMeta, Page
from ingest.chunking import MIN_CHUNK_CHARS, SECTION_SEPARATOR, chunk_document, heading_label
from ingest.readers import load_document
from tests.pdf_factory import PdfPage, make_docx, make_text_pdf

SHARED = REPO_ROOT.parent / "shared"
SEED_PDF = SHARED / "seed" / "toelichting-beeldvormende-vergadering-ivb-2024-2027.pdf"
STATUTES = SHARED / "corpora" / "nl-wetten-2017"
OPIUMWET = STATUTES / "BWBR0001941.md"

needs_seed = pytest.mark.skipif(not SEED_PDF.is_file(), reason="shared seed PDF not present")
needs_statutes = pytest.mark.skipif(not OPIUMWET.is_file(), reason="shared statutes not present")

SIZE = 900
OVERLAP = 150
ARTICLE_LINE = re.compile(r"^(?:#{1,6} )?Artikel \S+$")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _load(path: Path, **meta: object) -> Document:
    fields: dict = {"doc_id": path.stem, "title": ""}
    fields.update(meta)
    return load_document(path, DocumentMeta(**fields), Settings())


def _chunks(doc: Document) -> list[Chunk]:
    return chunk_document(doc, SIZE, OVERLAP)


def _assert_on_named_pages(doc: Document, chunks: list[Chunk]) -> None:
    pages = {page.index: page for page in doc.pages}
    for chunk in chunks:
        if chunk.page_end != chunk.page_start:  # a sentence over a page break
            _assert_spans_break(pages[chunk.page_start], pages[chunk.page_end], chunk)
            continue
        assert chunk.page_start == chunk.page_end
        page = pages[chunk.page_start]
        assert chunk.page_label_start == chunk.page_label_end == page.label
        assert chunk.text in page.text  # verbatim
        assert _flat(chunk.text) in _flat(page.text)


def _assert_spans_break(page: Page, nxt: Page, chunk: Chunk) -> None:
    """A chunk over a page break: the end of one page, then the start of the next, whole
    sentences, and it names both pages (tests/test_page_breaks.py)."""
    assert nxt.index == page.index + 1
    assert (chunk.page_label_start, chunk.page_label_end) == (page.label, nxt.label)
    assert chunk.page_label == f"{page.label}–{nxt.label}"
    head = page.text.rstrip()
    for cut in range(len(chunk.text), 0, -1):  # the longest start of the chunk that ends the page
        if head.endswith(chunk.text[:cut]):
            break
    else:
        raise AssertionError(("not at the end of its first page", chunk.text))
    rest = chunk.text[cut:].strip()
    assert rest and _flat(nxt.text).startswith(_flat(rest)), (rest, nxt.text[:200])
    assert chunk.text.rstrip()[-1] in ".!?", chunk.text


def _md_document(text: str, doc_id: str = "doc") -> Document:
    return Document(
        meta=DocumentMeta(doc_id=doc_id, title="Test"),
        source=f"{doc_id}.md",
        format="md",
        pages=[Page(index=0, label="1", text=text)],
        content_hash="0" * 64,
    )


def _md_file(folder: Path, text: str, name: str = "regeling.md") -> Document:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return _load(path)


# --------------------------------------------------------------------------- the seed PDF


@needs_seed
def test_seed_chunks_occur_on_the_page_they_name() -> None:
    doc = _load(SEED_PDF)
    chunks = _chunks(doc)
    assert chunks
    _assert_on_named_pages(doc, chunks)
    assert {c.page_label_start for c in chunks} == {"1", "2", "3"}
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert all(len(c.text) <= SIZE for c in chunks)


@needs_seed
def test_seed_sections_follow_headings_across_pages() -> None:
    chunks = _chunks(_load(SEED_PDF))
    # The sentence that starts on page 1 and ends on page 2 is also whole in a chunk that
    # names both pages (tests/test_page_breaks.py); here: the chunks of page 2 itself.
    spanning = [c for c in chunks if c.page_start != c.page_end]
    assert [c.page_label for c in spanning] == ["1–2"]
    assert "samen te werken op drie geprioriteerde thema’s, namelijk" in spanning[0].text
    themes = [c for c in chunks if "namelijk ‘cybercrime" in c.text and c not in spanning]
    assert len(themes) == 1
    assert themes[0].page_label == "2"
    # The heading is on page 1; its text continues on page 2 and keeps the section.
    assert themes[0].section == "Geprioriteerde veiligheidsthema’s"
    agenda = [c for c in chunks if "Tom Nauta" in c.text]
    assert [c.page_label for c in agenda] == ["3"]
    assert agenda[0].section == "Agenda beeldvormende vergadering 5 oktober"
    inleiding = [c for c in chunks if c.section == "Inleiding"]
    assert inleiding[0].text.startswith("Inleiding\nIn 2020 hebben")
    planning = [c for c in chunks if c.section == "Planning en proces"]
    assert len(planning) == 1  # the bullet list fits, so it stays together
    assert planning[0].text.count("• ") == 4


@needs_seed
def test_seed_chunk_metadata_is_copied_from_the_document() -> None:
    path = SEED_PDF
    doc = load_document(
        path,
        DocumentMeta(
            doc_id="ivb", title="IVB", municipality="gezamenlijk", doc_type="raadsinformatie"
        ),
        Settings(),
    )
    for chunk in _chunks(doc):
        assert chunk.doc_id == "ivb"
        assert chunk.title == "IVB"
        assert chunk.source == str(path)
        assert chunk.municipality == "gezamenlijk"
        assert chunk.doc_type == "raadsinformatie"
        assert chunk.date == ""
        assert chunk.doc_hash == doc.content_hash
        assert chunk.id == f"ivb:{doc.content_hash[:12]}:{chunk.ordinal:05d}"


# --------------------------------------------------------------------------- statutes


@needs_statutes
def test_opiumwet_article_13b_is_exactly_one_chunk() -> None:
    chunks = _chunks(_load(OPIUMWET))
    article = [c for c in chunks if c.section.endswith("Artikel 13b")]
    assert len(article) == 1
    chunk = article[0]
    assert chunk.section.startswith("Wet van 12 mei 1928, tot vaststelling van bepalingen")
    assert chunk.section.split(SECTION_SEPARATOR)[-1] == "Artikel 13b"
    assert chunk.text.startswith("Artikel 13b\n")
    assert "De burgemeester is bevoegd tot oplegging van een last onder bestuursdwang" in chunk.text
    assert "Artikel 14" not in chunk.text


@needs_statutes
def test_opiumwet_chunks_follow_article_boundaries() -> None:
    doc = _load(OPIUMWET)
    chunks = _chunks(doc)
    _assert_on_named_pages(doc, chunks)
    by_section: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        assert len(chunk.text) <= SIZE
        by_section.setdefault(chunk.section, []).append(chunk)
        article_lines = [line for line in chunk.text.splitlines() if ARTICLE_LINE.match(line)]
        # No chunk holds the heading of another article.
        assert article_lines in ([], [chunk.section.split(SECTION_SEPARATOR)[-1]])
    articles = [s for s in by_section if s.split(SECTION_SEPARATOR)[-1].startswith("Artikel ")]
    source = OPIUMWET.read_text(encoding="utf-8")
    assert len(articles) == len(re.findall(r"^#+ *Artikel", source, flags=re.MULTILINE)) == 35
    for section in articles:
        label = section.split(SECTION_SEPARATOR)[-1]
        assert by_section[section][0].text.startswith(label + "\n")
    # "###Artikel  3c " (no space after the hashes, two inside) is found and normalised.
    assert any(s.endswith(SECTION_SEPARATOR + "Artikel 3c") for s in articles)


@needs_statutes
def test_long_article_is_split_with_the_same_section() -> None:
    chunks = _chunks(_load(OPIUMWET))
    article_1 = [c for c in chunks if c.section.endswith(SECTION_SEPARATOR + "Artikel 1")]
    assert len(article_1) >= 3
    assert article_1[0].text.startswith("Artikel 1\n")
    ordinals = [c.ordinal for c in article_1]
    assert ordinals == list(range(ordinals[0], ordinals[0] + len(ordinals)))
    joined = _flat(" ".join(c.text for c in article_1))
    assert "onder vervaardigen begrepen raffineren en omzetten" in joined


@needs_statutes
def test_chapter_titles_join_the_structure_in_the_section_path() -> None:
    path = STATUTES / "BWBR0001830.md"
    if not path.is_file():
        pytest.skip("statute BWBR0001830 not present")
    chunks = _chunks(_load(path))

    def path_of(article: str) -> list[str]:
        found = [c for c in chunks if c.section.endswith(SECTION_SEPARATOR + article)]
        return found[0].section.split(SECTION_SEPARATOR)[1:]

    assert path_of("Artikel 1") == ["Hoofdstuk 1 Algemene bepalingen", "Artikel 1"]
    assert path_of("Artikel 2") == [
        "Hoofdstuk 2 Rechtspraak",
        "Afdeling 1 Algemene bepalingen",
        "Artikel 2",
    ]


@needs_statutes
def test_ids_are_stable_and_change_with_the_content(tmp_path: Path) -> None:
    first = _chunks(_load(OPIUMWET))
    second = _chunks(_load(OPIUMWET))
    assert [c.id for c in first] == [c.id for c in second]
    assert [c.content_hash for c in first] == [c.content_hash for c in second]
    assert all(re.fullmatch(r"BWBR0001941:[0-9a-f]{12}:\d{5}", c.id) for c in first)

    changed = Path(shutil.copy(OPIUMWET, tmp_path / "BWBR0001941.md"))
    changed.write_text(
        changed.read_text(encoding="utf-8").replace(
            "De burgemeester is bevoegd", "De burgemeester mag"
        ),
        encoding="utf-8",
    )
    third = _chunks(_load(changed))
    assert not {c.id for c in first} & {c.id for c in third}
    assert {c.doc_hash for c in third} != {c.doc_hash for c in first}
    # Only the edited article's text changed: the other chunks keep their content hash.
    changed_hashes = {c.content_hash for c in third} - {c.content_hash for c in first}
    assert len(changed_hashes) == 1


# --------------------------------------------------------------------------- structure rules


def test_markdown_headings_with_and_without_space(tmp_path: Path) -> None:
    doc = _md_file(
        tmp_path,
        "## Verordening\n\n###Hoofdstuk  1\n\n####Algemeen\n\n### Artikel  1\n\nTekst een.\n\n"
        "###Artikel 2 \n\nTekst twee.\n\n### Hoofdstuk 2\n\n### Artikel 3\n\nTekst drie.",
    )
    sections = [(c.section, c.text) for c in _chunks(doc)]
    assert sections == [
        ("Verordening > Hoofdstuk 1 Algemeen > Artikel 1", "Artikel 1\n\nTekst een."),
        ("Verordening > Hoofdstuk 1 Algemeen > Artikel 2", "Artikel 2\n\nTekst twee."),
        ("Verordening > Hoofdstuk 2 > Artikel 3", "Artikel 3\n\nTekst drie."),
    ]


def test_plain_text_structure_lines(tmp_path: Path) -> None:
    path = tmp_path / "verordening.txt"
    path.write_text(
        "Algemene plaatselijke verordening\n\n"
        "Hoofdstuk 2 Openbare orde\n\n"
        "Afdeling 1 Bestrijding van ongeregeldheden\n\n"
        "Artikel 2:1 Samenscholing\n"
        "1. Het is verboden deel te nemen aan een samenscholing.\n"
        "Artikel 2 van deze verordening is niet van toepassing op betogingen.\n\n"
        "§ 3 Evenementen\n\n"
        "Artikel 2:25 Evenement\n"
        "Het is verboden zonder vergunning een evenement te organiseren.\n",
        encoding="utf-8",
    )
    doc = _load(path)
    chunks = _chunks(doc)
    _assert_on_named_pages(doc, chunks)
    sections = [c.section for c in chunks]
    assert sections == [
        "",
        "Hoofdstuk 2 Openbare orde > Afdeling 1 Bestrijding van ongeregeldheden > "
        "Artikel 2:1 Samenscholing",
        "Hoofdstuk 2 Openbare orde > Afdeling 1 Bestrijding van ongeregeldheden > "
        "§ 3 Evenementen > Artikel 2:25 Evenement",
    ]
    # A sentence that starts with "Artikel 2 van ..." is not a heading.
    assert "Artikel 2 van deze verordening" in chunks[1].text


def test_numbered_headings_in_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "nota.txt"
    path.write_text(
        "1. Inleiding\nDe raad vroeg om een nota.\n\n"
        "1.1 Aanleiding\nHet aantal incidenten steeg.\n\n"
        "2. Aanpak\nWe werken samen.\n"
        "3. Dit is een genummerde zin en geen kop.\n",
        encoding="utf-8",
    )
    chunks = _chunks(_load(path))
    assert [c.section for c in chunks] == [
        "1. Inleiding",
        "1. Inleiding > 1.1 Aanleiding",
        "2. Aanpak",
    ]
    assert chunks[-1].text.endswith("3. Dit is een genummerde zin en geen kop.")


def test_generated_pdf_sections_carry_over_pages(tmp_path: Path) -> None:
    path = make_text_pdf(
        tmp_path / "nota.pdf",
        [
            PdfPage([("h", "Ondermijning"), ("p", ["Tekst over ondermijning in Dronten."])]),
            PdfPage([("p", ["Vervolg over ondermijning op pagina twee."]), ("h", "Zorg")]),
            PdfPage([("p", ["Tekst over zorg en veiligheid."])]),
        ],
        roman_front_pages=0,
    )
    doc = _load(path)
    chunks = _chunks(doc)
    _assert_on_named_pages(doc, chunks)
    assert [(c.page_label, c.section, c.text) for c in chunks] == [
        ("1", "Ondermijning", "Ondermijning\nTekst over ondermijning in Dronten."),
        ("2", "Ondermijning", "Vervolg over ondermijning op pagina twee."),
        ("3", "Zorg", "Tekst over zorg en veiligheid."),
    ]


def test_docx_headings_become_sections(tmp_path: Path) -> None:
    doc = _load(make_docx(tmp_path / "programma.docx"))
    chunks = _chunks(doc)
    _assert_on_named_pages(doc, chunks)
    assert [c.section for c in chunks] == [
        "Uitvoeringsprogramma veiligheid",
        "Uitvoeringsprogramma veiligheid > Thema’s",
        "Uitvoeringsprogramma veiligheid > Planning",
    ]


def test_size_split_prefers_paragraph_boundaries() -> None:
    paragraphs = [f"Alinea {n}. " + "Dit is een zin over veiligheid. " * 6 for n in range(12)]
    doc = _md_document("### Artikel 7\n\n" + "\n\n".join(p.strip() for p in paragraphs))
    chunks = chunk_document(doc, 500, 100)
    assert len(chunks) > 3
    assert {c.section for c in chunks} == {"Artikel 7"}
    assert chunks[0].text.startswith("Artikel 7\n\nAlinea 0.")
    for chunk in chunks:
        assert len(chunk.text) <= 500
        assert chunk.text in doc.pages[0].text
        assert chunk.text.startswith(("Artikel 7", "Alinea"))  # cut at paragraph starts


def test_no_chunk_is_a_short_fragment_of_a_section() -> None:
    """A short paragraph the splitter left alone after (or before) a full chunk of its
    section is merged with, or takes context from, its neighbour in the section; a whole
    short section stays one chunk. Sizes are the shipped ones (1000, overlap 150)."""
    long = " ".join(["De burgemeester kan een woning sluiten als daar drugs worden verkocht."] * 14)
    text = (
        f"## Artikel 1\n\n{long}\n\nZie tabel 2.\n\n"  # a trailing fragment
        "## Artikel 2\n\nVervallen.\n\n"  # a whole short article
        f"## Artikel 3\n\nKort lid.\n\n{long}\n"  # a leading fragment
    )
    doc = _md_document(text)
    chunks = chunk_document(doc, 1000, 150)
    by_section: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        assert chunk.text in doc.pages[0].text and len(chunk.text) <= 1000
        by_section.setdefault(chunk.section, []).append(chunk)
    assert [c.text for c in by_section["Artikel 2"]] == ["Artikel 2\n\nVervallen."]
    for section in ("Artikel 1", "Artikel 3"):
        assert all(len(c.text) >= MIN_CHUNK_CHARS for c in by_section[section]), section
    assert by_section["Artikel 1"][-1].text.endswith(
        "drugs worden verkocht.\n\nZie tabel 2."
    )  # the fragment with the sentence before it
    assert by_section["Artikel 3"][0].text.startswith("Artikel 3\n\nKort lid.\n\nDe burgemeester")


def test_punctuation_only_and_heading_only_sections_make_no_chunk() -> None:
    doc = _md_document("# Titel\n\n## Leeg\n\n---\n\n## Vol\n\nInhoud.\n\n## ...\n\n- \n")
    assert [(c.section, c.text) for c in _chunks(doc)] == [
        ("Titel > Vol", "Vol\n\nInhoud."),
    ]


def test_unnormalised_headings_keep_verbatim_text_and_clean_sections() -> None:
    doc = _md_document("###Artikel  13b  \n\n1. De burgemeester is bevoegd.")
    [chunk] = _chunks(doc)
    assert chunk.section == "Artikel 13b"
    assert chunk.text == "Artikel  13b  \n\n1. De burgemeester is bevoegd."
    assert chunk.text in doc.pages[0].text


def test_a_structure_title_is_joined_once() -> None:
    doc = _md_document(
        "### Hoofdstuk 4\n\n#### Toezicht\n\n#### Algemeen\n\nTekst.\n\n### Artikel 9\n\nNegen."
    )
    assert [c.section for c in _chunks(doc)] == [
        "Hoofdstuk 4 Toezicht > Algemeen",
        "Hoofdstuk 4 Toezicht > Artikel 9",
    ]


def test_heading_label_normalises_whitespace() -> None:
    assert heading_label("###Artikel  13b  ") == "Artikel 13b"
    assert heading_label("Hoofdstuk\t3   Handhaving") == "Hoofdstuk 3 Handhaving"
    assert heading_label("#### *Deel Markttoegang* ") == "Deel Markttoegang"

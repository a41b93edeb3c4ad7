"""A sentence that runs over a page break stays whole in one chunk that names both pages,
and is cited as "p. 2–3" (case ../shared/cases/17-page-span and generated PDFs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer import AnswerPipeline
from assistant.citations import citation_for
from assistant.evaluation.metrics import Located
from assistant.settings import Settings
from assistant.types import Chunk, DocumentMeta, Passage
from ingest.chunking import chunk_document
from ingest.pipeline import ingest_paths
from ingest.readers import load_document
from tests.conftest import SHARED
from tests.pdf_factory import PdfPage, make_text_pdf

CASE = SHARED / "cases" / "17-page-span" / "ondermijning-dronten.pdf"
ONDERMIJNING_Q = "Hoeveel geld trekt Dronten uit voor de aanpak van ondermijning?"
SIZE, OVERLAP = 900, 150


def _chunks(path: Path, size: int = SIZE) -> list[Chunk]:
    doc = load_document(path, DocumentMeta(doc_id=path.stem, title=""), Settings())
    return chunk_document(doc, size, OVERLAP)


def _haven_pdf(
    path: Path, first_line_next: str = "85.000 euro beschikbaar voor twee jaar."
) -> Path:
    pages = [
        PdfPage(blocks=[("h", "Toezicht op de haven"),
                        ("p", ["In 2025 zet de gemeente Urk extra handhavers in op de haven.",
                               "Voor deze handhavers stelt de raad in totaal"])]),
        PdfPage(blocks=[("p", [first_line_next, "Daarna volgt een evaluatie door het college."])]),
    ]  # fmt: skip
    return make_text_pdf(path, pages)


def test_generated_sentence_over_a_page_break_is_one_chunk(tmp_path):
    chunks = _chunks(_haven_pdf(tmp_path / "haven.pdf"))
    spanning = [c for c in chunks if c.page_start != c.page_end]
    assert len(spanning) == 1, [(c.page_label, c.text) for c in chunks]
    chunk = spanning[0]
    assert (chunk.page_start, chunk.page_end) == (0, 1)
    assert chunk.page_label == "1–2"
    flat = " ".join(chunk.text.split())
    assert flat.endswith("stelt de raad in totaal 85.000 euro beschikbaar voor twee jaar."), flat
    assert "evaluatie" not in flat  # only up to the end of the sentence


def test_generated_long_last_chunk_gets_a_chunk_of_its_last_sentence(tmp_path):
    chunks = _chunks(_haven_pdf(tmp_path / "haven.pdf"), size=150)
    spanning = [c for c in chunks if c.page_start != c.page_end]
    assert len(spanning) == 1
    flat = " ".join(spanning[0].text.split())
    assert flat == (
        "Voor deze handhavers stelt de raad in totaal 85.000 euro beschikbaar voor twee jaar."
    )
    # The page's own last chunk is still there, on page 1 only.
    assert any(c.page_label == "1" and "in totaal" in c.text for c in chunks)


@pytest.mark.parametrize(
    "next_line",
    ["Hoofdstuk 2 Evaluatie", "Daarna volgt een evaluatie."],
    ids=["next-page-heading", "next-page-new-sentence"],
)
def test_no_span_where_the_next_page_does_not_go_on(tmp_path, next_line):
    pages = [
        PdfPage(blocks=[("p", ["De raad stelt in totaal 85.000 euro beschikbaar voor twee jaar"])]),
        PdfPage(blocks=[("p", [next_line, "Het college rapporteert jaarlijks aan de raad."])]),
    ]
    chunks = _chunks(make_text_pdf(tmp_path / "los.pdf", pages))
    assert all(c.page_start == c.page_end for c in chunks), [c.page_label for c in chunks]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (["De raad stelt het volgende beschikbaar:", "• Extra pilots voor welstandsvrij bouwen"],
         ["en meer toezicht op de haven.", "Het college rapporteert jaarlijks."]),
    ],
    ids=["page-ends-in-list-item"],
)  # fmt: skip
def test_no_span_from_a_list_item_or_footer(tmp_path, first, second):
    pages = [PdfPage(blocks=[("p", first)]), PdfPage(blocks=[("p", second)])]
    chunks = _chunks(make_text_pdf(tmp_path / "los.pdf", pages))
    assert all(c.page_start == c.page_end for c in chunks), [c.text for c in chunks]


def test_a_page_number_line_is_left_out_and_the_sentence_joined(tmp_path):
    # The PDF reader drops the page-number line at the foot of page 1 (issue 13, item 4);
    # the sentence then runs on over the break and is kept whole (item 8).
    pages = [
        PdfPage(
            blocks=[("p", ["De raad stelt in totaal 85.000 euro beschikbaar", "Pagina 1 van 2"])]
        ),
        PdfPage(blocks=[("p", ["voor twee jaar.", "Het college rapporteert jaarlijks."])]),
    ]
    chunks = _chunks(make_text_pdf(tmp_path / "los.pdf", pages))
    assert not any("Pagina 1 van 2" in c.text for c in chunks), [c.text for c in chunks]
    spanning = [c for c in chunks if c.page_start != c.page_end]
    assert spanning and "beschikbaar voor twee jaar." in " ".join(spanning[0].text.split())


def test_no_span_into_a_running_header(tmp_path):
    pages = [
        PdfPage(blocks=[("p", ["De raad stelt in totaal 85.000 euro beschikbaar voor"])]),
        PdfPage(blocks=[("p", ["2 van 2"]), ("p", ["twee jaar.", "Het college rapporteert."])]),
    ]
    chunks = _chunks(make_text_pdf(tmp_path / "kop.pdf", pages))
    assert all("2 van 2" not in c.text or c.page_start == c.page_end for c in chunks)


def test_no_span_after_a_closed_sentence(tmp_path):
    chunks = _chunks(_haven_pdf(tmp_path / "haven.pdf", "wordt later besloten."))
    # "... in totaal" + "wordt later besloten." would span; a closed page does not:
    pages = [
        PdfPage(blocks=[("p", ["De raad stelt in totaal 85.000 euro beschikbaar."])]),
        PdfPage(blocks=[("p", ["daarna volgt een evaluatie.", "Het college rapporteert."])]),
    ]
    closed = _chunks(make_text_pdf(tmp_path / "dicht.pdf", pages))
    assert all(c.page_start == c.page_end for c in closed)
    assert any(c.page_start != c.page_end for c in chunks)


def test_range_label_in_citation_and_metrics():
    chunk = Chunk(
        id="d:v:00001", doc_id="d", source="d.pdf", title="T", text="Zin.", ordinal=1,
        page_start=1, page_end=2, page_label_start="2", page_label_end="3",
        content_hash="h", doc_hash="v",
    )  # fmt: skip
    citation = citation_for(1, Passage(chunk=chunk, score=1.0), "Zin.")
    assert citation.page == "2–3"
    assert Located.from_citation(citation).pages == {"2", "3"}
    assert Located.from_chunk(chunk).pages == {"2", "3"}


@pytest.mark.skipif(not CASE.is_file(), reason="../shared/cases is not here")
def test_case_page_span_answer_cites_pages_two_and_three(settings, embedder):
    report = ingest_paths([CASE], settings, embedder=embedder)
    assert report.added == ["ondermijning-dronten"], report.failed
    from assistant.service import get_service

    answer = AnswerPipeline(get_service(settings, embedder)).ask(
        ONDERMIJNING_Q, backend="extractive"
    )
    assert not answer.refused, answer.refusal_reason
    assert "1,2 miljoen" in answer.text
    cited = [c for c in answer.citations if "1,2 miljoen" in c.quote]
    assert cited and cited[0].page == "2–3", [(c.page, c.quote) for c in answer.citations]
    assert "Voor de aanpak van ondermijning" in cited[0].quote  # the whole sentence


def test_gold_page_range_matches_the_pages_it_spans():
    from assistant.evaluation.dataset import SourceRef
    from assistant.evaluation.metrics import matches

    where = Located("d", frozenset({"3"}))
    assert matches(where, SourceRef(doc_id="d", page="2–3"))
    assert not matches(where, SourceRef(doc_id="d", page="4–5"))
    assert matches(Located("d", frozenset({"2", "3"})), SourceRef(doc_id="d", page="2"))

"""The real-document gold set (eval/real-docs.jsonl) agrees with the PDFs it is about.

The set is about the five real PDFs in ../shared/corpora/real-pdfs and the case PDFs in
../shared/cases. These tests read the PDFs with pypdfium2 (a dependency already; it opens
the AES-encrypted Kiesraad report with its empty password) and check that every gold page
label exists, every key fact is on a gold page and in the reference answer, and every
doc_id is the id the ingest derives from the file name.
"""

from __future__ import annotations

import ctypes
import re
from functools import cache
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest

from assistant.domain import document_id as sanitise_id
from assistant.evaluation import load_dataset
from assistant.evaluation.dataset import fact_found
from assistant.settings import REPO_ROOT

SHARED = REPO_ROOT.parent / "shared"
PDFS = sorted((SHARED / "corpora" / "real-pdfs").glob("*.pdf")) + sorted(
    (SHARED / "cases").glob("*/*.pdf")
)
GOLD = REPO_ROOT / "eval" / "real-docs.jsonl"

pytestmark = pytest.mark.skipif(not PDFS, reason="shared real PDFs not present")

# Pages with no text layer (scans): their gold was read from the page image by a person.
SCANNED = {("evenementenbeleid-gemengd", "2"), ("alleen-scan", "1")}
# Some fonts draw ligatures with private-use glyphs that pdfium returns as such (U+E01E
# in "Fire\ue01eox" for "Firefox"), so pages are also compared without those glyphs and f.
_LIGATURE_LETTERS = re.compile(r"[f\ue000-\uf8ff]", re.IGNORECASE)


def _label(document: pdfium.PdfDocument, index: int) -> str:
    """The printed page label (pdfium's FPDF_GetPageLabel), or the 1-based number."""
    size = pdfium_raw.FPDF_GetPageLabel(document.raw, index, None, 0)
    if size <= 2:
        return str(index + 1)
    buffer = ctypes.create_string_buffer(size)
    pdfium_raw.FPDF_GetPageLabel(document.raw, index, buffer, size)
    return buffer.raw.decode("utf-16-le").rstrip("\x00").strip() or str(index + 1)


@cache
def _pages() -> dict[str, dict[str, str]]:
    """doc_id -> page label -> page text (white space folded)."""
    out: dict[str, dict[str, str]] = {}
    for path in PDFS:
        document = pdfium.PdfDocument(str(path), password="")
        pages = {}
        for i in range(len(document)):
            text = document[i].get_textpage().get_text_range()
            pages[_label(document, i)] = " ".join(text.split())
        out[sanitise_id(path.stem)] = pages
    return out


def _found(fact: str, text: str) -> bool:
    if fact_found(fact, text):
        return True
    if fact.startswith("re:"):
        return False
    return fact_found(_LIGATURE_LETTERS.sub("", fact), _LIGATURE_LETTERS.sub("", text))


def test_the_set_has_the_size_and_kinds_issue_13_asks_for():
    items = load_dataset(GOLD)
    answerable = [item for item in items if item.answerable]
    unanswerable = [item for item in items if not item.answerable]
    assert len(answerable) >= 40
    assert len(unanswerable) >= 10
    tags = {tag for item in items for tag in item.tags}
    for kind in ("table", "two-column", "scanned", "page-span", "encrypted", "header-footer"):
        assert kind in tags, kind
    assert all("unanswerable-hard" in item.tags for item in unanswerable)
    assert {item.audience for item in items} == {"raad", "inwoner"}
    assert {item.language for item in items} == {"nl", "en"}
    assert {s.doc_id for item in answerable for s in item.sources} == set(_pages())


def test_gold_pages_and_key_facts_agree_with_the_pdfs():
    pages = _pages()
    for item in load_dataset(GOLD):
        for source in item.sources:
            assert source.doc_id in pages, (item.id, source.doc_id)
            assert source.page in pages[source.doc_id], (item.id, source.page)
        if not item.answerable:
            assert not item.sources and not item.key_facts, item.id
            continue
        assert item.key_facts and item.reference_answer, item.id
        texts = [pages[s.doc_id][s.page] for s in item.sources if (s.doc_id, s.page) not in SCANNED]
        scanned = [s for s in item.sources if (s.doc_id, s.page) in SCANNED]
        for fact in item.key_facts:
            assert fact_found(fact, item.reference_answer), (item.id, fact)
            if texts:
                assert any(_found(fact, text) for text in texts), (item.id, fact)
        for source in scanned:
            assert pages[source.doc_id][source.page] == "", (item.id, "has a text layer now")


def test_roman_labels_of_the_encrypted_report():
    labels = list(_pages()["kiesraad-veritas-adviesvraag-abacus-2025"])
    assert labels[:6] == ["i", "ii", "iii", "iv", "v", "1"]
    assert labels[-1] == "46" and len(labels) == 51


def test_doc_ids_follow_the_ingest_rule():
    assert set(_pages()) == {sanitise_id(Path(p).stem) for p in PDFS}
    assert len(_pages()) == len(PDFS)  # no two files share an id

"""Fuzzing the readers: mutated PDFs, docx and text never crash a loader. The only
outcomes are a Document or an IngestError that names the file (bounded in time)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.settings import Settings
from assistant.types import DocumentMeta
from ingest.errors import IngestError
from ingest.readers import load_document
from tests import pdf_factory as pf
from tests.conftest import SEED_PDF

SEED = SEED_PDF.read_bytes()
SETTINGS = Settings(max_pages=50, max_file_mb=5)


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "splice"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[pos : pos + draw(st.integers(1, 4096))]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        else:
            start = draw(st.integers(0, max(0, len(base) - 1)))
            data[pos:pos] = base[start : start + draw(st.integers(1, 2048))]
    return bytes(data)


def _load(tmp: Path, name: str, data: bytes) -> None:
    path = tmp / name
    path.write_bytes(data)
    try:
        doc = load_document(path, DocumentMeta(doc_id="fuzz", title=""), SETTINGS)
    except IngestError as exc:
        assert name in str(exc)
        return
    assert doc.pages and all(p.text.strip() for p in doc.pages if p.text)


@pytest.mark.timeout(600)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=mutated(SEED))
def test_mutated_pdfs_never_crash(tmp_path, data):
    _load(tmp_path, "fuzz.pdf", data)


@pytest.mark.timeout(300)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=4096))
def test_random_bytes_never_crash(tmp_path, data):
    for name in ("random.pdf", "random.docx", "random.txt", "random.md"):
        _load(tmp_path, name, data)


def test_mutated_docx_never_crashes(tmp_path):
    base = pf.make_docx(tmp_path / "base.docx").read_bytes()

    @settings(max_examples=60, deadline=None)
    @given(data=mutated(base))
    def run(data: bytes) -> None:
        _load(tmp_path, "fuzz.docx", data)

    run()

"""Bad input through the real ingest pipeline: every bad file is reported by name, the run
goes on, the good files are indexed, and nothing already in the index is touched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.store import Store
from ingest.pipeline import ingest_paths
from tests import pdf_factory as pf
from tests.conftest import SEED_PDF

GOOD_NOTE = (
    "# Themasessie maatschappelijke onrust\n\n"
    "In Emmeloord spraken jongerenwerkers over polarisatie.\n"
)


def _bad_files(folder: Path) -> dict[str, str]:
    """file name → a word the error message must contain (Dutch, says what is wrong)."""
    folder.mkdir(parents=True, exist_ok=True)
    pf.make_corrupt_pdf(folder / "kapot.pdf")
    pf.make_truncated_pdf(folder / "afgebroken.pdf", SEED_PDF)
    pf.make_encrypted_pdf(folder / "versleuteld.pdf")
    pf.make_scanned_pdf(folder / "scan.pdf")
    (folder / "leeg.txt").write_bytes(b"")
    (folder / "presentatie.pptx").write_bytes(b"PK\x03\x04 not really")
    (folder / "nep.pdf").write_bytes(b"<html>dit is geen pdf</html>" * 10)
    pf.make_broken_docx(folder / "stuk.docx")
    pf.make_ratio_bomb_docx(folder / "bom.docx")
    (folder / "latin1.txt").write_bytes(
        "Caf\xe9 in Urk \xff\xfe\x00".encode("latin-1") + bytes([0x81, 0x8D])
    )
    return {
        "kapot.pdf": "pdf",
        "afgebroken.pdf": "pdf",
        "versleuteld.pdf": "versleuteld",
        "scan.pdf": "ocr",
        "leeg.txt": "leeg",
        "presentatie.pptx": "pptx",
        "nep.pdf": "pdf",
        "stuk.docx": "docx",
        "bom.docx": "docx",
        "latin1.txt": "utf-8",
    }


def test_bad_files_are_reported_and_good_files_indexed(settings, embedder, tmp_path):
    folder = tmp_path / "inbox"
    expected = _bad_files(folder)
    (folder / "goed.md").write_text(GOOD_NOTE, encoding="utf-8")
    report = ingest_paths([folder], settings, embedder=embedder)
    assert report.added == ["goed"]
    failed = {Path(f["path"]).name: f["error"] for f in report.failed}
    assert set(failed) == set(expected), failed
    for name, word in expected.items():
        message = failed[name]
        assert name in message, message  # the error names the file
        assert word.lower() in message.lower(), (name, message)
    store = Store(settings)
    assert [d.doc_id for d in store.documents()] == ["goed"]
    assert store.check()["consistent"]


def test_oversized_and_too_many_pages_are_refused(settings, embedder, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    pf.make_simple_pdf(folder / "veel-paginas.pdf", pages=6)
    (folder / "groot.txt").write_text("ondermijning " * 200_000, encoding="utf-8")
    tight = settings.model_copy(update={"max_pages": 5, "max_file_mb": 1.0})
    report = ingest_paths([folder], tight, embedder=embedder)
    failed = {Path(f["path"]).name: f["error"] for f in report.failed}
    assert set(failed) == {"veel-paginas.pdf", "groot.txt"}
    assert "5" in failed["veel-paginas.pdf"] and "MB" in failed["groot.txt"]
    assert Store(tight).documents() == []


def test_corrupt_replacement_keeps_the_old_version(settings, embedder, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    target = folder / "ivb.pdf"
    shutil.copy(SEED_PDF, target)
    first = ingest_paths([folder], settings, embedder=embedder)
    assert first.added == ["ivb"]
    store = Store(settings)
    before = [c.id for c in store.current_chunks("ivb")]
    pf.make_corrupt_pdf(target)  # staff overwrite the file with a broken one
    second = ingest_paths([folder], settings, embedder=embedder, prune=True)
    assert [Path(f["path"]).name for f in second.failed] == ["ivb.pdf"]
    assert second.removed == []  # the file is there; it is broken, not gone
    assert [c.id for c in store.current_chunks("ivb")] == before
    assert store.check()["consistent"]


def test_parse_timeout_kills_the_worker_and_the_run_goes_on(settings, embedder, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SEED_PDF, folder / "a-traag.pdf")
    (folder / "b-notitie.md").write_text(GOOD_NOTE, encoding="utf-8")
    # A time limit no real PDF parse meets stands in for a parser that hangs.
    impatient = settings.model_copy(update={"parse_timeout_s": 0.001})
    report = ingest_paths([folder], impatient, embedder=embedder)
    names = [Path(f["path"]).name for f in report.failed]
    assert "a-traag.pdf" in names
    assert any("afgebroken" in f["error"] for f in report.failed)
    # The worker was replaced; files after the killed one may also time out with such
    # a limit, but the run finished and reported every file.
    assert len(report.failed) + len(report.added) == 2


@pytest.mark.parametrize("name", ["../ontsnapt.md", "/etc/passwd", "a\x00b.md", "x" * 300 + ".md"])
def test_hostile_paths_on_the_command_line_are_reported(settings, embedder, tmp_path, name):
    report = ingest_paths([tmp_path / "nergens" / name], settings, embedder=embedder)
    assert report.failed and not report.added
    assert Store(settings).documents() == []

"""Bad input through the real ingest pipeline: every bad file is reported by name, the run
goes on, the good files are indexed, and nothing already in the index is touched."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.store import Store
from ingest.pipeline import ingest_paths
from tests import pdf_factory as pf
from tests.cli_in_process import run_ivb
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


@pytest.mark.both_stores
def test_bad_files_are_reported_and_good_files_indexed(settings, embedder, tmp_path):
    folder = tmp_path / "inbox"
    expected = _bad_files(folder)
    (folder / "goed.md").write_text(GOOD_NOTE, encoding="utf-8")
    # OCR off: the scan is then refused (tests/test_scans.py reads it with OCR on).
    settings = settings.model_copy(update={"ocr": "off"})
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


def test_bad_files_are_reported_in_english_for_the_staff_page(settings, embedder, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    pf.make_encrypted_pdf(folder / "versleuteld.pdf")
    pf.make_scanned_pdf(folder / "scan.pdf")
    (folder / "leeg.txt").write_bytes(b"")
    (folder / "presentatie.pptx").write_bytes(b"PK\x03\x04 not really")
    (folder / "latin1.txt").write_bytes("Caf\xe9 in Urk".encode("latin-1"))
    settings = settings.model_copy(update={"ocr": "off"})
    report = ingest_paths([folder], settings, embedder=embedder, lang="en")
    failed = {Path(f["path"]).name: f for f in report.failed}
    assert {name: f["code"] for name, f in failed.items()} == {
        "versleuteld.pdf": "pdf_encrypted", "scan.pdf": "pdf_scanned_unread", "leeg.txt": "empty",
        "presentatie.pptx": "unsupported_type", "latin1.txt": "not_utf8",
    }  # fmt: skip
    errors = {name: f["error"] for name, f in failed.items()}
    assert errors["scan.pdf"].endswith(
        "contains no text (a scanned image?); OCR is needed before it can be added; OCR is off "
        "(IVB_OCR=off)"
    )
    assert errors["presentatie.pptx"].endswith(
        "file type .pptx is not supported; deliver it as PDF, Word (.docx), Markdown (.md) or "
        "text (.txt)"
    )
    dutch = re.compile(r"\b(is geen|bestand|niet|wordt|lever|opnieuw|versleuteld|leeg|bevat)\b")
    for name, error in errors.items():
        path = f"{folder / name}: "
        assert error.startswith(path) and not dutch.search(error.removeprefix(path)), error
    # The CLI's report, and any caller that does not ask, stays Dutch.
    assert "is versleuteld met een wachtwoord" in str(
        ingest_paths([folder / "versleuteld.pdf"], settings, embedder=embedder).failed
    )


# One bad input per case: (file name, how it is made, what the error tells the user to do).
BAD_INPUTS = {
    "corrupt-pdf": ("kapot.pdf", pf.make_corrupt_pdf, "pdf opnieuw"),
    "encrypted-pdf": ("versleuteld.pdf", pf.make_encrypted_pdf, "zonder wachtwoord"),
    "scanned-pdf": ("scan.pdf", pf.make_scanned_pdf, "ocr is nodig"),
    "empty-file": ("leeg.txt", lambda p: p.write_bytes(b""), "opnieuw aan"),
    "wrong-extension": (
        "nep.pdf",
        lambda p: p.write_bytes(b"<html>dit is geen pdf</html>" * 10),
        "opnieuw als pdf",
    ),
    "unsupported-type": ("presentatie.pptx", lambda p: p.write_bytes(b"PK\x03\x04"), "lever"),
    "unreadable-docx": ("stuk.docx", pf.make_broken_docx, "opnieuw op als .docx"),
    "oversize-file": (
        "groot.txt",
        lambda p: p.write_text("ondermijning " * 200_000, encoding="utf-8"),  # 2.6 MB
        "splits het document",
    ),
}
# OCR off: a scan is then still refused (tests/test_scans.py reads it with OCR on).
LIMITS = {"IVB_MAX_FILE_MB": "1", "IVB_OCR": "off"}


def _ivb_ingest(*args: str | Path, human: bool = False) -> subprocess.CompletedProcess:
    # In this process (tests/cli_in_process.py): the same command, no new interpreter.
    args = (*args, *([] if human else ["--json"]))
    return run_ivb("ingest", *args, env={**LIMITS, "COLUMNS": "200"})


def _index_state(store_dir: Path) -> dict[str, object]:
    """What the index holds for the good document: chunk ids, Chroma ids, keyword rows."""
    store = Store(Settings(store_dir=store_dir))
    state = {
        "chunk_ids": [c.id for c in store.current_chunks("goed")],
        "chroma_ids": sorted(store.vectors.ids()),
        "fts_rows": store.keywords.count(),
        "documents": [(d.doc_id, d.doc_hash) for d in store.documents()],
    }
    store.close()
    return state


@pytest.fixture(scope="module")
def good_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, object]]:
    """A store that holds one good document, ingested once (by the real `ivb ingest`)."""
    root = tmp_path_factory.mktemp("good-store")
    good = root / "notities" / "goed.md"
    good.parent.mkdir()
    good.write_text(GOOD_NOTE, encoding="utf-8")
    proc = _ivb_ingest(good, "--store", root / "store")
    assert proc.returncode == 0, proc.stderr[-2000:]
    state = _index_state(root / "store")
    assert state["chunk_ids"] and state["fts_rows"] == len(state["chunk_ids"])
    return good, root / "store", state


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_beside_an_indexed_document(good_store, tmp_path, case):
    good, seeded, before = good_store
    name, make, remedy = BAD_INPUTS[case]
    store = tmp_path / "store"
    shutil.copytree(seeded, store)
    bad = tmp_path / "inbox" / name
    bad.parent.mkdir()
    make(bad)
    proc = _ivb_ingest(good, bad, "--store", store)
    assert proc.returncode == 1, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert [f["path"] for f in data["failed"]] == [str(bad)]
    error = data["failed"][0]["error"]
    assert str(bad) in error  # names the file
    assert remedy in error.lower(), error  # and says what to do
    assert data["unchanged"] == ["goed"] and data["chunks_embedded"] == 0
    assert data["added"] == data["updated"] == data["removed"] == []
    assert _index_state(store) == before  # the good document's index entries untouched


def test_human_output_prints_bracketed_names_as_they_are(tmp_path):
    inbox = tmp_path / "inbox"
    good = inbox / "verslag [concept].md"
    good.parent.mkdir()
    good.write_text(GOOD_NOTE, encoding="utf-8")
    # "notulen [" / "b].pdf": the path holds "[/b]", a closing tag to rich markup.
    (inbox / "notulen [").mkdir()
    bad = inbox / "notulen [" / "b].pdf"
    pf.make_corrupt_pdf(bad)
    proc = _ivb_ingest(inbox, "--store", tmp_path / "store", human=True)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "MarkupError" not in proc.stderr
    assert "Toegevoegd: 1" in proc.stdout and "mislukt: 1" in proc.stdout
    assert "(verslag [concept].md)" in proc.stdout  # the good file, listed as added
    assert f"✗ {bad}: " in proc.stdout  # the bad one, with its reason
    store = Store(Settings(store_dir=tmp_path / "store"))
    [doc] = store.documents()
    assert doc.source == str(good) and store.current_chunks(doc.doc_id)


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


@pytest.mark.both_stores
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

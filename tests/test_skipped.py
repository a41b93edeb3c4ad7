"""Nothing skipped without a word: hidden and hostile names, special files and duplicates
are listed with their reason; `ivb ingest` exits 0 (all read), 4 (some skipped) or 1
(some failed); search never returns one passage twice."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from assistant.domain import document_id as sanitise_id
from assistant.retrieval import distinct_passages
from assistant.store import Store
from assistant.types import Chunk, Passage
from ingest.pipeline import ingest_paths
from ingest.skipping import skipped_files
from tests.cli_in_process import run_ivb
from tests.conftest import SEED_PDF

NOTE = "# Straatcoaches\n\nIn Emmeloord zijn vier straatcoaches actief in de avonduren.\n"
HOSTILE = "..%2f..%2fetc%2fpasswd.pdf"


def _folder(root: Path) -> Path:
    folder = root / "inbox"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "config.md").write_text("# niet lezen", encoding="utf-8")
    (folder / "notitie.md").write_text(NOTE, encoding="utf-8")
    shutil.copy(SEED_PDF, folder / HOSTILE)
    (folder / ".verborgen.pdf").write_bytes(SEED_PDF.read_bytes())
    os.symlink(folder / "bestaat-niet.md", folder / "kapotte-koppeling.md")
    return folder


def _ivb_ingest(*args: str | Path, human: bool = False) -> subprocess.CompletedProcess:
    # In this process (tests/cli_in_process.py): the same command, no new interpreter.
    return run_ivb("ingest", *args, *([] if human else ["--json"]), env={"COLUMNS": "300"})


def test_hidden_hostile_and_special_files_are_named_with_a_reason(tmp_path):
    folder = _folder(tmp_path)
    skipped = {Path(s["path"]).name: s["reason"] for s in skipped_files([folder])}
    assert set(skipped) == {".git", HOSTILE, ".verborgen.pdf", "kapotte-koppeling.md"}
    assert "verdachte naam" in skipped[HOSTILE]
    assert "verborgen bestand" in skipped[".verborgen.pdf"]
    assert "verborgen map" in skipped[".git"]
    assert "geen gewoon bestand" in skipped["kapotte-koppeling.md"]
    # A file named on the command line is no folder walk: nothing to list.
    assert skipped_files([folder / "notitie.md"]) == []


def test_skipped_reasons_can_be_had_in_english_with_their_codes(tmp_path):
    folder = _folder(tmp_path)
    skipped = {Path(s["path"]).name: s for s in skipped_files([folder], "en")}
    assert {name: s["code"] for name, s in skipped.items()} == {
        ".git": "hidden_folder", HOSTILE: "hostile_name", ".verborgen.pdf": "hidden_file",
        "kapotte-koppeling.md": "special_file",
    }  # fmt: skip
    assert skipped[HOSTILE]["reason"].startswith("has a suspicious name")
    assert skipped[".verborgen.pdf"]["reason"].startswith("is a hidden file")


def test_duplicate_under_another_name_is_reported_and_not_indexed(settings, embedder, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED_PDF, folder / "ivb.pdf")
    first = ingest_paths([folder], settings, embedder=embedder)
    assert first.added == ["ivb"] and first.duplicates == []
    store = Store(settings)
    before = ([(d.doc_id, d.doc_hash) for d in store.documents()], store.count_chunks())

    copy = folder / "Kopie van ivb.pdf"
    shutil.copy(SEED_PDF, copy)
    second = ingest_paths([folder], settings, embedder=embedder)
    assert second.added == [] and second.failed == [] and second.chunks_embedded == 0
    assert second.unchanged == ["ivb"]
    assert second.duplicates == [
        {"path": os.path.abspath(copy), "doc_id": sanitise_id(copy.stem), "duplicate_of": "ivb",
         "duplicate_source": os.path.abspath(folder / "ivb.pdf")}
    ]  # fmt: skip
    assert [s["path"] for s in second.skipped] == [os.path.abspath(copy)]
    assert "dezelfde tekst" in second.skipped[0]["reason"]
    data = second.as_dict()
    assert data["duplicates"] == second.duplicates and data["skipped"] == second.skipped
    after = ([(d.doc_id, d.doc_hash) for d in store.documents()], store.count_chunks())
    assert after == before  # the store is unchanged


def test_two_copies_in_one_run_index_one(settings, embedder, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED_PDF, folder / "a.pdf")
    shutil.copy(SEED_PDF, folder / "b.pdf")
    report = ingest_paths([folder], settings, embedder=embedder)
    assert report.added == ["a"]
    assert [d["duplicate_of"] for d in report.duplicates] == ["a"]


def test_a_renamed_file_is_no_duplicate_of_its_old_self(settings, embedder, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED_PDF, folder / "oud.pdf")
    ingest_paths([folder], settings, embedder=embedder)
    (folder / "oud.pdf").rename(folder / "nieuw.pdf")
    report = ingest_paths([folder], settings, embedder=embedder, prune=True)
    assert report.added == ["nieuw"] and report.removed == ["oud"] and report.duplicates == []


def test_search_never_returns_one_passage_twice():
    def passage(chunk_id: str, text: str) -> Passage:
        chunk = Chunk(
            id=chunk_id, doc_id=chunk_id, source="x", title="t", text=text, ordinal=0,
            page_start=0, page_end=0, page_label_start="1", page_label_end="1",
            content_hash=chunk_id, doc_hash="v",
        )  # fmt: skip
        return Passage(chunk=chunk, score=1.0)

    ranked = [passage("a", "Vier  straatcoaches.\n"), passage("b", "vier straatcoaches."),
              passage("c", "Twee boa's.")]  # fmt: skip
    assert [p.chunk.id for p in distinct_passages(ranked)] == ["a", "c"]


def test_a_link_to_a_file_outside_the_folder_is_skipped_not_indexed(tmp_path):
    """`ln -s /tmp/secret.md folder/notulen.md` indexed the secret; now the link is named
    with its reason (status 4)."""
    secret = tmp_path / "geheim.md"
    secret.write_text("# Geheim\n\nHet wachtwoord van de kluis is zwaardvis.\n", encoding="utf-8")
    folder = tmp_path / "map"
    folder.mkdir()
    (folder / "notitie.md").write_text(NOTE, encoding="utf-8")
    os.symlink(secret, folder / "notulen.md")
    proc = _ivb_ingest(folder, "--store", tmp_path / "s")
    assert proc.returncode == 4, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    (skip,) = data["skipped"]
    assert Path(skip["path"]).name == "notulen.md" and skip["code"] == "outside_link"
    assert "buiten de opgegeven map" in skip["reason"]
    assert data["failed"] == [] and "notulen" not in data["added"] and "notitie" in data["added"]
    english = {Path(s["path"]).name: s["reason"] for s in skipped_files([folder], "en")}
    assert english["notulen.md"].startswith("is a link to a file outside the given folder")
    # Named itself, the file is read: the rule is about what a folder walk finds.
    assert _ivb_ingest(secret, "--store", tmp_path / "s").returncode == 0


def test_exit_statuses_ok_skipped_failed(tmp_path):
    good = tmp_path / "goed"
    good.mkdir()
    (good / "notitie.md").write_text(NOTE, encoding="utf-8")
    ok = _ivb_ingest(good, "--store", tmp_path / "s1")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert json.loads(ok.stdout)["skipped"] == []

    folder = _folder(tmp_path)
    skipped = _ivb_ingest(folder, "--store", tmp_path / "s2")
    assert skipped.returncode == 4, skipped.stderr[-2000:]
    data = json.loads(skipped.stdout)
    assert data["failed"] == [] and data["added"] == ["notitie"]
    assert {Path(s["path"]).name for s in data["skipped"]} == {
        ".git",
        HOSTILE,
        ".verborgen.pdf",
        "kapotte-koppeling.md",
    }

    human = _ivb_ingest(folder, "--store", tmp_path / "s2", human=True)
    assert human.returncode == 4
    assert "overgeslagen: 4" in human.stdout and HOSTILE in human.stdout
    assert "verdachte naam" in human.stdout

    (folder / "kapot.pdf").write_bytes(b"%PDF-1.4 kapot")
    failed = _ivb_ingest(folder, "--store", tmp_path / "s2")
    assert failed.returncode == 1  # a failure outranks a skip
    data = json.loads(failed.stdout)
    assert [Path(f["path"]).name for f in data["failed"]] == ["kapot.pdf"]
    assert len(data["skipped"]) == 4


def test_seed_corpus_has_nothing_to_skip():
    # The corpus folder the app ingests on first start: a clean run exits 0.
    from tests.conftest import CORPUS

    assert skipped_files([CORPUS]) == []


def test_upload_of_a_copy_is_refused_as_a_duplicate(settings, embedder, tmp_path):
    from assistant.service import get_service
    from ingest.upload_meta import UploadMeta
    from ingest.uploads import ingest_upload, uploads_folder
    from web import render as ui

    service = get_service(settings, embedder)
    original = tmp_path / "ivb.pdf"
    shutil.copy(SEED_PDF, original)
    first = ingest_upload(service, original, UploadMeta(doc_type="beleid"))
    assert first.ok and first.action == "added", first
    before = ([(d.doc_id, d.doc_hash) for d in service.store.documents()],
              sorted(p.name for p in uploads_folder(settings).iterdir()))  # fmt: skip

    copy = tmp_path / "Kopie van ivb.pdf"
    shutil.copy(SEED_PDF, copy)
    result = ingest_upload(service, copy, UploadMeta(doc_type="beleid"))
    assert not result.ok and result.duplicate_of == first.doc_id
    assert any("dezelfde tekst" in r and "Kopie van ivb.pdf" in r for r in result.reasons)
    message = ui.upload_markdown(result)
    assert message.startswith(ui.FAILED) and first.doc_id in message
    after = ([(d.doc_id, d.doc_hash) for d in service.store.documents()],
             sorted(p.name for p in uploads_folder(settings).iterdir()))  # fmt: skip
    assert after == before  # nothing indexed, the copy not kept

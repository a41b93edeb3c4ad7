"""Ingestion end to end: real PDFs, the real embedding model, a real Chroma store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from assistant.store import Store
from ingest.pipeline import ingest_paths
from tests.cli_in_process import run_ivb
from tests.conftest import CORPUS, SEED_ID, SEED_PDF, STATUTES, THEMES_PAGES

OPIUMWET = STATUTES / "BWBR0001941.md"


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def _chroma_ids(store: Store) -> set[str]:
    return store.vectors.ids()


def _fts_rows(store: Store) -> int:
    return store.keywords.count()


def _vectors(store: Store, ids: list[str]) -> list:
    found = store.vectors.embeddings(ids)
    return [found[i] for i in ids]


def test_seed_pdf_pages_and_chunks(settings, embedder):
    report = ingest_paths([CORPUS], settings, embedder=embedder)
    assert report.ok, report.failed
    assert report.added == [SEED_ID]
    assert report.pages == 3
    store = Store(settings)
    doc = store.document(SEED_ID)
    assert doc is not None and doc.pages == 3 and doc.municipality == "gezamenlijk"
    pages = [_norm(p.extract_text()) for p in PdfReader(SEED_PDF).pages]
    chunks = store.current_chunks(SEED_ID)
    assert chunks and report.chunks_embedded == len(chunks)
    for chunk in chunks:
        # Every sentence-ish piece of the chunk is on the page the chunk names.
        # (a sentence over a page break is in a chunk that names both pages)
        named = " ".join(pages[chunk.page_start : chunk.page_end + 1])
        for piece in re.split(r"[.\n]", chunk.text):
            if len(_norm(piece)) > 20:
                assert _norm(piece) in named, (chunk.page_label, piece)
    themes = [c for c in chunks if "maatschappelijke onrust" in c.text and "ondermijning" in c.text]
    assert any(c.page_label == "2" for c in themes)
    assert store.check()["consistent"]


def test_opiumwet_articles_are_chunks(settings, embedder):
    report = ingest_paths([OPIUMWET], settings, embedder=embedder)
    assert report.ok, report.failed
    store = Store(settings)
    chunks = store.current_chunks("BWBR0001941")
    art = [c for c in chunks if c.section.endswith("Artikel 13b")]
    assert len(art) == 1
    assert (
        "De burgemeester is bevoegd tot oplegging van een last onder bestuursdwang" in art[0].text
    )
    # No chunk mixes two articles.
    for c in chunks:
        assert len(re.findall(r"(?m)^#*\s*Artikel\s+\d", c.text)) <= 1, c.text[:200]
    hits = store.keyword_search("artikel 13b opiumwet burgemeester bestuursdwang woning", 3)
    assert hits and hits[0][0].id == art[0].id


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


NOTE_A = """# Themasessie ondermijning Urk

Op 12 april 2023 spraken partners in Urk over ondermijning in de haven.
De deelnemers noemden drugssmokkel via visserijschepen als grootste risico.

## Acties

- Meer controles in de haven door gemeente en politie.
- Een meldpunt voor ondernemers.
"""
NOTE_B = """# Themasessie cybercrime Dronten

In Dronten ging de sessie over digitale weerbaarheid van ondernemers.
Phishing en ransomware werden het vaakst genoemd.
"""


@pytest.mark.both_stores
def test_incremental_reingest_replace_and_prune(settings, embedder, tmp_path):
    src = tmp_path / "notes"
    _write(src / "sessie-urk.md", NOTE_A)
    _write(src / "sessie-dronten.md", NOTE_B)
    first = ingest_paths([src], settings, embedder=embedder)
    assert sorted(first.added) == ["sessie-dronten", "sessie-urk"] and first.chunks_embedded > 0

    again = ingest_paths([src], settings, embedder=embedder)
    assert again.chunks_embedded == 0
    assert sorted(again.unchanged) == ["sessie-dronten", "sessie-urk"]

    store = Store(settings)
    old_ids = {c.id for c in store.current_chunks("sessie-urk")}
    dronten_ids = {c.id for c in store.current_chunks("sessie-dronten")}
    _write(src / "sessie-urk.md", NOTE_A.replace("drugssmokkel", "mensensmokkel"))
    changed = ingest_paths([src], settings, embedder=embedder)
    assert changed.updated == ["sessie-urk"] and changed.unchanged == ["sessie-dronten"]
    new_chunks = store.current_chunks("sessie-urk")
    # Only the edited chunk is embedded again; unchanged chunk texts reuse their vectors.
    assert 1 <= changed.chunks_embedded <= len(new_chunks)
    assert changed.chunks_embedded + changed.chunks_reused == len(new_chunks)
    ids = _chroma_ids(store)
    assert not (old_ids & ids), "old version's chunks are still in Chroma"
    assert dronten_ids <= ids
    assert all("drugssmokkel" not in c.text for c, _ in store.keyword_search("drugssmokkel", 10))
    assert store.keyword_search("mensensmokkel", 3)[0][0].doc_id == "sessie-urk"
    assert _fts_rows(store) == store.count_chunks()

    (src / "sessie-dronten.md").unlink()
    kept = ingest_paths([src], settings, embedder=embedder)
    assert kept.removed == [] and store.document("sessie-dronten") is not None
    pruned = ingest_paths([src], settings, embedder=embedder, prune=True)
    assert pruned.removed == ["sessie-dronten"]
    assert store.document("sessie-dronten") is None
    assert not (dronten_ids & _chroma_ids(store))
    assert _fts_rows(store) == store.count_chunks()
    assert store.check()["consistent"]


def test_precision_change_embeds_again_then_nothing(settings, embedder, tmp_path):
    src = _write(tmp_path / "notes" / "sessie-urk.md", NOTE_A).parent
    first = ingest_paths([src], settings, embedder=embedder)  # the session model (default)
    assert first.added == ["sessie-urk"]
    store = Store(settings)
    count = len(store.current_chunks("sessie-urk"))
    old_vectors = _vectors(store, [c.id for c in store.current_chunks("sessie-urk")])

    other = "int8" if settings.embedding_precision == "fp32" else "fp32"
    changed_settings = settings.model_copy(update={"embedding_precision": other})
    changed = ingest_paths([src], changed_settings)  # loads the other model itself
    assert changed.updated == ["sessie-urk"]
    # Not one vector of the default precision's model is reused for the other's index.
    assert changed.chunks_embedded == count and changed.chunks_reused == 0
    new_vectors = _vectors(store, [c.id for c in store.current_chunks("sessie-urk")])
    assert not any(np.allclose(a, b) for a, b in zip(old_vectors, new_vectors, strict=True))

    again = ingest_paths([src], changed_settings)
    assert again.unchanged == ["sessie-urk"] and again.chunks_embedded == 0
    assert store.check()["consistent"]


def test_same_text_under_another_heading_gets_its_own_vector(settings, embedder, tmp_path):
    same = "### Aanpak\n\nDe gemeente houdt toezicht en treedt op waar dat nodig is.\n"
    note = f"# Toezicht\n\n## Haven van Urk\n\n{same}\n## Centrum van Dronten\n\n{same}"
    src = _write(tmp_path / "notes" / "toezicht.md", note).parent
    report = ingest_paths([src], settings, embedder=embedder)
    chunks = Store(settings).current_chunks("toezicht")
    twins = [c for c in chunks if c.section.endswith("Aanpak")]
    assert len(twins) == 2 and twins[0].content_hash == twins[1].content_hash  # same text
    assert twins[0].section != twins[1].section
    # Each passage is embedded with its heading, so each gets its own vector, and the
    # count says what the model encoded.
    assert report.chunks_embedded == len(chunks)
    got = _vectors(Store(settings), [c.id for c in twins])
    assert not np.allclose(got[0], got[1])


def test_store_from_before_embedding_keys_embeds_again_without_error(
    settings, embedder, tmp_path, catalog_sql
):
    src = _write(tmp_path / "notes" / "sessie-urk.md", NOTE_A).parent
    ingest_paths([src], settings, embedder=embedder)
    # The catalog as an older version wrote it: no embed_key column.
    catalog_sql("DROP INDEX chunks_embed")
    catalog_sql("ALTER TABLE chunks DROP COLUMN embed_key")

    _write(src / "sessie-urk.md", NOTE_A.replace("drugssmokkel", "mensensmokkel"))
    report = ingest_paths([src], settings, embedder=embedder)  # opens and migrates the store
    chunks = Store(settings).current_chunks("sessie-urk")
    assert report.updated == ["sessie-urk"] and report.chunks_embedded == len(chunks)
    assert ingest_paths([src], settings, embedder=embedder).chunks_embedded == 0
    assert Store(settings).check()["consistent"]


def test_source_is_the_absolute_path_whatever_was_typed(
    settings, embedder, tmp_path, monkeypatch, catalog_sql
):
    src = _write(tmp_path / "notes" / "sessie-urk.md", NOTE_A).parent
    monkeypatch.chdir(tmp_path)
    first = ingest_paths([Path("notes")], settings, embedder=embedder)  # relative, as typed
    assert first.added == ["sessie-urk"]
    store = Store(settings)
    assert store.document("sessie-urk").source == str(src / "sessie-urk.md")
    assert {c.source for c in store.current_chunks("sessie-urk")} == {str(src / "sessie-urk.md")}
    assert ingest_paths([src], settings, embedder=embedder).unchanged == ["sessie-urk"]

    # A store written before: the source as typed, relative to where the user was.
    catalog_sql("UPDATE documents SET source='notes/sessie-urk.md'")
    again = ingest_paths([src], settings, embedder=embedder)
    assert again.unchanged == ["sessie-urk"] and again.updated == []
    assert store.document("sessie-urk").source == str(src / "sessie-urk.md")  # migrated

    # --prune from another working directory, with a relative path from there.
    (src / "sessie-urk.md").unlink()
    elsewhere = tmp_path / "elders"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    pruned = ingest_paths([Path("../notes")], settings, embedder=embedder, prune=True)
    assert pruned.removed == ["sessie-urk"] and store.documents() == []


@pytest.mark.both_stores
def test_one_id_for_two_files_fails_the_new_one_and_a_move_updates(settings, embedder, tmp_path):
    old = _write(tmp_path / "a" / "verslag.md", NOTE_A)
    first = ingest_paths([old.parent], settings, embedder=embedder)
    assert first.added == ["verslag"]
    store = Store(settings)
    before = [c.id for c in store.current_chunks("verslag")]

    # Another folder holds a different file under the same id, and a good file.
    new = _write(tmp_path / "b" / "verslag.md", NOTE_A.replace("Urk", "Urk en Dronten"))
    _write(tmp_path / "b" / "sessie-dronten.md", NOTE_B)
    clash = ingest_paths([new.parent], settings, embedder=embedder)
    assert clash.added == ["sessie-dronten"]  # the good file still goes in
    assert [f["path"] for f in clash.failed] == [str(new)]
    message = clash.failed[0]["error"]
    assert str(new) in message and str(old) in message and "manifest" in message
    assert [c.id for c in store.current_chunks("verslag")] == before
    assert store.document("verslag").source == str(old)

    # The old file is gone: the document has moved, and is updated from its new place.
    old.unlink()
    moved = ingest_paths([new.parent], settings, embedder=embedder)
    assert moved.updated == ["verslag"] and moved.failed == []
    assert store.document("verslag").source == str(new)
    assert "Urk en Dronten" in " ".join(c.text for c in store.current_chunks("verslag"))
    assert store.check()["consistent"]


@pytest.mark.both_stores
def test_metadata_change_costs_no_embedding(settings, embedder, corpus_copy):
    ingest_paths([corpus_copy], settings, embedder=embedder)
    manifest = corpus_copy / "manifest.toml"
    manifest.write_text(
        manifest.read_text().replace('doc_type = "raadsinformatie"', 'doc_type = "beleid"')
    )
    report = ingest_paths([corpus_copy], settings, embedder=embedder)
    assert report.updated == [SEED_ID] and report.chunks_embedded == 0
    store = Store(settings)
    assert {c.doc_type for c in store.current_chunks(SEED_ID)} == {"beleid"}
    [meta] = store.vectors.metadata([store.current_chunks(SEED_ID)[0].id]).values()
    assert meta["doc_type"] == "beleid"


def test_cli_ingest_and_search_json(tmp_path):
    # `ivb ingest` and `ivb search` in this process (tests/cli_in_process.py).
    store = tmp_path / "store"
    proc = run_ivb("ingest", CORPUS, OPIUMWET, "--store", store, "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert set(data) >= {"added", "updated", "unchanged", "removed", "failed", "chunks_embedded"}
    assert sorted(data["added"]) == ["BWBR0001941", SEED_ID] and data["failed"] == []
    assert data["chunks_embedded"] > 20
    proc = run_ivb("search", "thema's cybercrime ondermijning", "--store", store, "--json",
                   "--k", "3")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    hits = json.loads(proc.stdout)
    assert len(hits) == 3
    assert {"doc_id", "source", "title", "page", "section", "score", "text"} <= set(hits[0])
    assert hits[0]["doc_id"] == SEED_ID and hits[0]["page"] in THEMES_PAGES


@pytest.mark.server
def test_chroma_server_ingest_and_query(settings, embedder, tmp_path):
    from tests.servers import chroma_server

    with chroma_server(tmp_path / "chroma-server") as url:
        remote = settings.model_copy(update={"chroma_url": url})
        report = ingest_paths([CORPUS], remote, embedder=embedder)
        assert report.ok and report.added == [SEED_ID]
        store = Store(remote)
        assert store.vectors.count() == store.count_chunks() > 0
        assert not (remote.store_dir / "chroma").exists(), "embedded Chroma was used"
        vec = embedder.encode_queries(["Welke thema's zijn geprioriteerd?"])[0]
        hits = store.dense_search(vec, 3)
        assert hits and hits[0][0].page_label in THEMES_PAGES
        again = ingest_paths([CORPUS], remote, embedder=embedder)
        assert again.chunks_embedded == 0

        # Replace a changed document and prune a removed one, against the server.
        notes = tmp_path / "notes"
        _write(notes / "sessie-urk.md", NOTE_A)
        _write(notes / "sessie-dronten.md", NOTE_B)
        assert sorted(ingest_paths([notes], remote, embedder=embedder).added) == [
            "sessie-dronten",
            "sessie-urk",
        ]
        old_ids = {c.id for c in store.current_chunks("sessie-urk")}
        dronten_ids = {c.id for c in store.current_chunks("sessie-dronten")}
        _write(notes / "sessie-urk.md", NOTE_A.replace("drugssmokkel", "mensensmokkel"))
        (notes / "sessie-dronten.md").unlink()
        changed = ingest_paths([notes], remote, embedder=embedder, prune=True)
        assert changed.updated == ["sessie-urk"] and changed.removed == ["sessie-dronten"]
        ids = _chroma_ids(store)
        assert not (old_ids & ids) and not (dronten_ids & ids)
        assert {c.id for c in store.current_chunks("sessie-urk")} <= ids
        assert store.document("sessie-dronten") is None
        assert _fts_rows(store) == store.count_chunks() == store.vectors.count()
        assert store.check()["consistent"]

        # Hybrid search (dense + keyword) over the server store.
        from assistant.retrieval import Retriever

        retriever = Retriever(remote, store, embedder)
        query = "mensensmokkel haven Urk"
        for mode in ("dense", "keyword"):  # each half on its own finds the new version
            assert retriever.search(query, k=3, mode=mode)[0].chunk.doc_id == "sessie-urk"
        passages = retriever.search(query, k=3)
        top = passages[0]
        assert top.chunk.doc_id == "sessie-urk" and "mensensmokkel" in top.chunk.text
        assert top.keyword_score is not None and top.dense_score is not None
        assert all(p.chunk.doc_id != "sessie-dronten" for p in passages)


def test_seed_copy_is_the_shared_pdf():
    assert (CORPUS / SEED_PDF.name).read_bytes() == SEED_PDF.read_bytes()


def test_an_id_handed_to_another_file_in_the_manifest_moves(tmp_path, settings, embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# Plan A\n\nDe haven van Urk krijgt camera's.\n")
    (folder / "b.md").write_text("# Plan B\n\nDronten verlengt de pilot buurtpreventie.\n")
    manifest = folder / "manifest.toml"
    manifest.write_text('[[document]]\nfile = "a.md"\nid = "x"\n')
    assert ingest_paths([folder], settings, embedder=embedder).ok
    manifest.write_text(
        '[[document]]\nfile = "b.md"\nid = "x"\n\n[[document]]\nfile = "a.md"\nid = "y"\n'
    )
    report = ingest_paths([folder], settings, embedder=embedder)
    assert report.failed == [], report.failed
    docs = {d.doc_id: Path(d.source).name for d in Store(settings).documents()}
    assert docs == {"x": "b.md", "y": "a.md"}


def test_corpus_reingest_keeps_a_staff_upload_that_replaced_a_document(
    tmp_path, settings, embedder
):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "plan.md").write_text("# Plan\n\nDe oude versie noemt twee controles.\n")
    assert ingest_paths([folder], settings, embedder=embedder).ok
    uploads = Path(settings.store_dir) / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    (uploads / "plan.md").write_text("# Plan\n\nDe nieuwe versie noemt vier controles.\n")
    assert ingest_paths([uploads / "plan.md"], settings, embedder=embedder, replaces={"plan"}).ok
    report = ingest_paths([folder], settings, embedder=embedder)
    assert report.failed == [] and report.unchanged == ["plan"], report
    (record,) = Store(settings).documents()
    assert Path(record.source).parent == uploads.resolve() or Path(record.source).parent == uploads

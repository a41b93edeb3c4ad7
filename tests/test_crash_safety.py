"""Crash safety: a short kill trial in CI (`python -m tests.stress.crash` runs the full
20-kill one), and a deterministic crash between staging a new version and committing it."""

from __future__ import annotations

import shutil

import pytest

from assistant.embeddings import embedding_identity, embedding_key, embedding_text
from assistant.store import Store
from ingest.manifest import discover
from ingest.pipeline import absolute_source, ingest_paths, version_hash, versioned_chunks
from ingest.readers import load_document
from tests.stress.crash import pick_statutes, run_trials

pytestmark = pytest.mark.both_stores


@pytest.mark.slow
def test_kill_minus_nine_during_ingest_and_replace(tmp_path, new_database_url, embedder):
    urls = (new_database_url(), new_database_url())
    result = run_trials(kills=4, docs=6, workdir=tmp_path,
                        database_urls=urls if urls[0] else None, embedder=embedder)  # fmt: skip
    assert result["killed_mid_run"] >= 1, result  # else no kill tested anything
    assert result["trials_with_problems"] == []
    assert result["final_run_failed"] == []
    assert result["final_equals_clean"]


def _stage_without_commit(path, settings, store, embedder) -> list[str]:
    """What an ingest run does up to the moment it would commit: the new version's
    chunks and vectors written beside the current version (the run then dies)."""
    [(file, meta)] = discover([path])
    doc = load_document(file, meta, settings)
    doc = doc.model_copy(update={"source": absolute_source(doc.source)})
    chunks = versioned_chunks(doc, settings, version_hash(doc, settings))
    texts = [embedding_text(c.title, c.section, c.text) for c in chunks]
    identity = embedding_identity(settings)
    store.stage(
        chunks, embedder.encode_documents(texts), [embedding_key(identity, t) for t in texts]
    )
    return [c.id for c in chunks]


def _fts_hits(store: Store, word: str) -> int:
    return store.keywords.count_matching(word)


@pytest.mark.parametrize("edited_again", [False, True], ids=["same-version", "newer-version"])
def test_crash_between_stage_and_commit_is_finished_by_the_next_run(
    settings, embedder, tmp_path, edited_again
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    [statute] = pick_statutes(1)
    target = corpus / statute.name
    shutil.copy(statute, target)
    doc_id = statute.stem
    assert ingest_paths([corpus], settings, embedder=embedder).added == [doc_id]
    store = Store(settings)
    v1 = [c.id for c in store.current_chunks(doc_id)]

    with target.open("a", encoding="utf-8") as fh:
        fh.write("\n\n## Artikel 99\n\nDe xylofoon wordt in beslag genomen.\n")
    staged = _stage_without_commit(target, settings, store, embedder)
    # Readers still see the old version only, and the store is consistent.
    assert [c.id for c in store.current_chunks(doc_id)] == v1
    assert not store.keyword_search("xylofoon", 5)
    state = store.check()
    assert state["consistent"] and state["pending"] == len(staged)

    if edited_again:  # the user changes the file again before the next run
        target.write_text(statute.read_text(encoding="utf-8") + "\n\n## Artikel 99\n\n"
                          "De trombone wordt in beslag genomen.\n", encoding="utf-8")  # fmt: skip
    report = ingest_paths([corpus], settings, embedder=embedder)
    assert report.updated == [doc_id] and report.failed == []

    chunks = store.current_chunks(doc_id)
    record = store.document(doc_id)
    assert record is not None and len(chunks) == record.chunk_count  # the document is whole
    in_chroma = store.vectors.ids()
    assert in_chroma == {c.id for c in chunks}  # nothing of v1 or of a partial version left
    assert not set(v1) & in_chroma
    word = "trombone" if edited_again else "xylofoon"
    assert store.keyword_search(word, 3)[0][0].doc_id == doc_id
    if edited_again:
        assert not set(staged) & in_chroma
        assert _fts_hits(store, "xylofoon") == 0  # the uncommitted version's keyword rows
    state = store.check()
    assert state["consistent"] and state["pending"] == 0
    assert state["keyword_rows"] == store.count_chunks() == len(chunks)

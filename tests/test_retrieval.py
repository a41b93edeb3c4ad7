"""Retrieval behaviour beyond ranking quality: superseded documents ranked down and
labelled, the date-range filter, and the optional cross-encoder reranker (real embedding
model, real Chroma store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer import AnswerPipeline
from assistant.service import Service
from assistant.store import Filters
from ingest.pipeline import ingest_paths
from tests.cli_in_process import run_ivb

OLD = (
    "# Veiligheidsplan Urk 2019\n\n## Havens\n\n"
    "In de haven van Urk controleert de gemeente twee keer per jaar op drugssmokkel "
    "in de visserij.\n"
)
NEW = (
    "# Veiligheidsplan Urk 2023\n\n## Havens\n\n"
    "In de haven van Urk controleert de gemeente vier keer per jaar op drugssmokkel "
    "in de visserij, samen met de douane.\n"
)
MANIFEST = """
[[document]]
file = "plan-2019.md"
id = "veiligheidsplan-urk-2019"
title = "Veiligheidsplan Urk 2019"
municipality = "Urk"
doc_type = "beleid"
date = "2019-05-01"

[[document]]
file = "plan-2023.md"
id = "veiligheidsplan-urk-2023"
title = "Veiligheidsplan Urk 2023"
municipality = "Urk"
doc_type = "beleid"
date = "2023-06-01"
supersedes = ["veiligheidsplan-urk-2019"]
"""
QUESTION = "Hoe vaak controleert de gemeente de haven van Urk op drugssmokkel?"


@pytest.fixture(scope="module")
def plans(tmp_path_factory, base_settings, embedder):
    folder = tmp_path_factory.mktemp("plans")
    (folder / "plan-2019.md").write_text(OLD, encoding="utf-8")
    (folder / "plan-2023.md").write_text(NEW, encoding="utf-8")
    (folder / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    settings = base_settings.model_copy(
        update={"store_dir": tmp_path_factory.mktemp("plans-store")}
    )
    assert ingest_paths([folder], settings, embedder=embedder).ok
    return Service(settings, embedder)


def test_superseded_document_is_ranked_down_and_labelled(plans):
    passages = plans.retriever.search(QUESTION, k=5)
    assert [p.chunk.doc_id for p in passages[:2]] == [
        "veiligheidsplan-urk-2023", "veiligheidsplan-urk-2019"
    ]  # fmt: skip
    assert [p.superseded for p in passages[:2]] == [False, True]
    assert passages[1].as_dict()["superseded"] is True


def test_answer_cites_the_current_version(plans):
    answer = AnswerPipeline(plans).ask(QUESTION, backend="extractive")
    assert not answer.refused, answer.text
    assert "vier keer" in answer.text and "twee keer" not in answer.text
    assert answer.citations[0].doc_id == "veiligheidsplan-urk-2023"
    assert answer.citations[0].superseded is False


def test_date_range_filter(plans):
    until_2020 = plans.retriever.search(QUESTION, k=5, filters=Filters(date_to="2020"))
    assert {p.chunk.doc_id for p in until_2020} == {"veiligheidsplan-urk-2019"}
    since_2023 = plans.retriever.search(QUESTION, k=5, filters=Filters(date_from="2023-01-01"))
    assert {p.chunk.doc_id for p in since_2023} == {"veiligheidsplan-urk-2023"}
    # The old plan is what the documents of 2019 say; the answer cites it, labelled.
    answer = AnswerPipeline(plans).ask(QUESTION, backend="extractive", date_to="2020-12-31")
    assert not answer.refused and "twee keer" in answer.text
    assert answer.citations[0].doc_id == "veiligheidsplan-urk-2019"
    assert answer.citations[0].superseded is True


def test_cli_search_shows_the_label_and_takes_the_date_options(plans):
    # `ivb search` in this process (tests/cli_in_process.py).
    proc = run_ivb("search", QUESTION, "--store", plans.settings.store_dir,
                   "--vanaf", "2019-01-01", "--tot", "2019-12-31")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    shown = " ".join(proc.stdout.split())  # rich wraps at the terminal width
    assert "Veiligheidsplan Urk 2019" in shown and "2023" not in shown
    assert "vervangen door een nieuwere versie" in shown


def tiny_cross_encoder(folder: Path) -> Path:
    """A stand-in reranker: no cross-encoder model can be downloaded here (no model hub,
    none packaged on PyPI), so the test builds a tiny, randomly initialised BERT
    sequence classifier that sentence-transformers loads like any CrossEncoder folder."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    torch.manual_seed(7)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(
        (OLD + NEW + QUESTION).lower().replace(",", " ").replace(".", " ").split()
    ))]  # fmt: skip
    folder.mkdir()
    (folder / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32, num_labels=1)  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(folder)
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    return folder


def test_optional_reranker_rescores_the_fused_list(plans, tmp_path):
    from sentence_transformers import CrossEncoder

    path = tiny_cross_encoder(tmp_path / "reranker")
    settings = plans.settings.model_copy(update={"reranker": str(path)})
    reranked = Service(settings, plans.retriever.embedder).retriever.search(QUESTION, k=5)
    scores = CrossEncoder(str(path), local_files_only=True).predict(
        [(QUESTION, p.chunk.text) for p in reranked]
    )
    expected = [
        float(s) * (0.5 if p.superseded else 1.0) for p, s in zip(reranked, scores, strict=True)
    ]
    assert [p.score for p in reranked] == pytest.approx(expected, rel=1e-4)
    assert [p.score for p in reranked] == sorted((p.score for p in reranked), reverse=True)
    # Off unless configured: the plain retriever's scores are the fused ones.
    plain = plans.retriever.search(QUESTION, k=5)
    assert all(p.score < 0.1 for p in plain)  # reciprocal-rank sums, not classifier outputs


@pytest.mark.both_stores
def test_a_question_naming_an_article_finds_it(settings, embedder):
    """Two real statutes, each with its own Artikel 5 and 7: the question names the
    article and the law by its citation title ("Wet openbare manifestaties"), which the
    document is titled by although its text begins with "Wet van 20 april 1988, …"."""
    from tests.conftest import STATUTES

    laws = [STATUTES / "BWBR0004318.md", STATUTES / "BWBR0001941.md"]
    assert ingest_paths(laws, settings, embedder=embedder).ok
    service = Service(settings, embedder)
    titles = {d.doc_id: d.title for d in service.store.documents()}
    assert titles == {"BWBR0004318": "Wet openbare manifestaties", "BWBR0001941": "Opiumwet"}
    for question, doc_id, article in [
        ("Wat staat er in artikel 5 van de Wet openbare manifestaties?", "BWBR0004318", "5"),
        ("Wat regelt art. 13b Opiumwet?", "BWBR0001941", "13b"),
    ]:
        top = service.retriever.search(question, k=3)[0]
        assert top.chunk.doc_id == doc_id, (question, top.chunk.section)
        assert top.chunk.section.endswith(f"Artikel {article}"), (question, top.chunk.section)
    # With the named article's list on (IVB_REFERENCE_WEIGHT), other ways to write the
    # reference find it too: the law's initials, a member, a spaced letter, an article
    # number both laws have.
    named = Service(settings.model_copy(update={"reference_weight": 1.0}), embedder)
    for question, doc_id, article in [
        ("Wat staat er in artikel 5 van de Wet openbare manifestaties?", "BWBR0004318", "5"),
        ("Wat zegt art 7, tweede lid, Wom?", "BWBR0004318", "7"),
        ("Wat regelt artikel 13 b van de Opiumwet?", "BWBR0001941", "13b"),
        ("Wat staat er in artikel 5 van de Opiumwet?", "BWBR0001941", "5"),
    ]:
        top = named.retriever.search(question, k=3)[0]
        assert top.chunk.doc_id == doc_id, (question, top.chunk.section)
        assert top.chunk.section.endswith(f"Artikel {article}"), (question, top.chunk.section)


@pytest.mark.both_stores
def test_a_new_title_reaches_the_keyword_index_without_embedding(tmp_path, settings, embedder):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "plan-2023.md").write_text(NEW, encoding="utf-8")
    manifest = folder / "manifest.toml"
    manifest.write_text('[[document]]\nfile = "plan-2023.md"\ntitle = "Havenplan"\n')
    assert ingest_paths([folder], settings, embedder=embedder).ok
    manifest.write_text('[[document]]\nfile = "plan-2023.md"\ntitle = "Zwembadprotocol"\n')
    report = ingest_paths([folder], settings, embedder=embedder)
    assert report.updated == ["plan-2023"] and report.chunks_embedded == 0
    store = Service(settings, embedder).store
    assert [c.title for c, _ in store.keyword_search("zwembadprotocol", 5)] == ["Zwembadprotocol"]
    assert store.keyword_search("havenplan", 5) == []


def test_article_references_keep_chapter_numbers():
    from assistant.analysis import article_references
    from assistant.store import date_number

    assert article_references("zie artikel 2:48 APV en art. 2.1.3") == [
        "artikel2x48", "artikel2x1x3"
    ]  # fmt: skip
    assert article_references("Welk artikel geeft de burgemeester macht?") == []
    assert date_number("2024-03", end=True) == 20240331  # --tot 2024-03 includes March

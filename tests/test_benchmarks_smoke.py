"""The benchmark helpers still fit the library: small, real runs of their building blocks.

Nothing here measures or asserts on time; `python benchmarks/run.py --quick` is the full
smoke test (minutes, so not run by pytest).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.common import (
    evaluate_retrievers,
    faq_data,
    figure,
    figure_rows,
    gold_items,
    parse_sizes,
    render_markdown,
    statute_sample,
)
from benchmarks.embedding_options import choose_default
from benchmarks.run import parse_size_args


def test_sizes_parse() -> None:
    assert parse_sizes("100,10,1k,10") == [10, 100, 1000]
    assert parse_size_args(["large"])["query"] == "1000,10000,100000"
    assert parse_size_args(["ingest=10,100", "change=1k"]) == {
        "ingest": "10,100",
        "change": "1000",
    }
    with pytest.raises(SystemExit):
        parse_size_args(["change=10,100"])


def test_default_rule_takes_the_fastest_option_within_one_point() -> None:
    def option(name: str, speed: float, recall: float, mrr: float) -> dict:
        return {"option": name, "passages_per_s": speed, "recall@5": recall, "mrr": mrr}

    results = [
        option("fp32", 4.0, 0.90, 0.80),
        option("int8", 10.0, 0.89, 0.795),  # 1 point lower: allowed
        option("onnx-int8", 12.0, 0.85, 0.80),  # 5 points lower: excluded
        {"option": "onnx", "error": "not installed"},
    ]
    decision = choose_default(results)
    assert decision["choice"] == "int8"
    assert decision["excluded_for_quality"] == ["onnx-int8"]


def test_figures_render_with_ratio() -> None:
    rows = figure_rows([figure("x", 2.0, 4.0, unit="s", goal="≤ 1", met=True)])
    assert rows[0][3] == "0.5"
    assert "| x | 2 s |" in render_markdown(["metric", "ours", "b", "ratio", "goal", "met"], rows)


def test_statute_sample_is_nested_and_seeded() -> None:
    small, large = statute_sample(3, seed=1), statute_sample(6, seed=1)
    assert large[:3] == small and all(p.is_file() for p in large)


def test_naive_baseline_and_synthetic_store(tmp_path: Path, settings, embedder) -> None:
    """The naive LangChain baseline and the store filler run against the real model."""
    from assistant.retrieval import Retriever
    from assistant.store import Store
    from benchmarks.baseline import build_naive_index
    from benchmarks.statute_workload import StoreFiller

    corpus, dataset = faq_data(tmp_path, limit=3)
    items = gold_items(dataset)
    index = build_naive_index(corpus, embedder, tmp_path / "naive")
    naive = index.retriever(embedder, k=3)
    scores = evaluate_retrievers(
        {"naive": lambda q: [d.metadata["doc_id"] for d in naive.invoke(q)]}, items
    )
    assert index.documents == 3 and scores["naive"]["questions"] == 3
    assert 0.0 <= scores["naive"]["mrr"] <= 1.0

    store = Store(settings)
    filler = StoreFiller(store, settings, embedder, sample=4, seed=1)
    filler.grow_to(25)
    assert store.count_chunks() == 25
    passages = Retriever(settings, store, embedder).search("Wat mag de burgemeester?", k=5)
    assert len(passages) == 5


def test_plain_language_means_and_grades() -> None:
    from assistant import prompts
    from benchmarks.plain_language import keeps_key_tokens, lexical_ceiling, literal, mechanical

    source = "U betaalt € 43,20 (het tarief); de gemeente stuurt daarna een brief."
    assert mechanical(source) == "U betaalt € 43,20. De gemeente stuurt daarna een brief."
    assert "(uit)lenen" in mechanical("Mag ik een paspoort (uit)lenen?")  # a word, not an aside
    assert "woorden" in lexical_ceiling("Het identiteitsbewijs is geldig.")
    # A rewrite in the source's own words passes both grades; one that drops the amount or
    # brings in words of its own does not.
    assert literal("U betaalt € 43,20.", [source]) and keeps_key_tokens(
        "U betaalt € 43,20.", [source]
    )
    assert not keeps_key_tokens("U betaalt geld.", [source])
    assert not literal("Het paspoort kost veel geld.", [source])
    roles = [role for role, _ in prompts.plain_rewrite_messages([source])]
    assert roles == ["system", "human", "ai", "human"]

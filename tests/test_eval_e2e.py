"""The evaluation end to end: a slice of the IVB gold set through the real pipeline (the
extractive backend, a real store holding corpus/), the files it writes, a comparison
run; the gold set checked against the PDF; the FAQ converter ingested for real."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pypdf
import pytest
from rich.table import Table

from assistant.evaluation import convert_faq, load_dataset, render_summary_table, run_eval
from assistant.evaluation.dataset import fact_found
from assistant.evaluation.faq import FaqError
from assistant.settings import REPO_ROOT
from ingest.pipeline import ingest_paths
from tests.conftest import FAQ, SEED_ID, SEED_PDF

GOLD = REPO_ROOT / "eval" / "ivb-gold.jsonl"
# Two facts (pages 2 and 3), a follow-up, an off-topic question and an injection.
SLICE = ["ivb-001", "ivb-015", "fu-02", "un-13", "inj-01"]


@pytest.fixture(scope="module")
def run(seeded_settings, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "run"
    summary = run_eval(
        GOLD, seeded_settings, llm="extractive", k=5, out_dir=out, progress=False, ids=SLICE
    )
    return summary, out


def _results(out: Path) -> list[dict]:
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_run_writes_every_file(run):
    summary, out = run
    for name in ("results.jsonl", "summary.json", "report.md", "metrics.png", "latency.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert summary["run"]["out_dir"] == str(out)
    assert json.loads((out / "summary.json").read_text(encoding="utf-8")) == json.loads(
        json.dumps(summary, default=str)
    )


def test_counts_match_results(run):
    summary, out = run
    results = _results(out)
    counts = summary["counts"]
    assert [r["id"] for r in results] == SLICE
    assert counts["questions"] == len(results) == 5
    assert counts["answerable"] == sum(r["answerable"] for r in results) == 3
    assert counts["injection"] == 1 and counts["follow_up"] == 1 and counts["errors"] == 0
    assert counts["refused"] == sum(r["refused"] for r in results)
    assert counts["passed"] == sum(r["ok"] for r in results)
    assert summary["failed_ids"] == [r["id"] for r in results if not r["ok"]]
    causes: dict[str, int] = {}
    for r in results:
        for f in r["failures"]:
            causes[f.split(":")[0]] = causes.get(f.split(":")[0], 0) + 1
        assert r["ok"] == (not r["failures"])
    assert summary["failure_causes"] == causes


# Readability scales, not fractions: Flesch–Douma (about 0–120) and words per sentence.
SCALES = {"flesch_douma", "sentence_length"}


def _in_range(name: str, value: float | None) -> bool:
    if value is None:
        return True
    if name == "sentence_length":
        return value > 0
    if name == "flesch_douma":
        return -100.0 <= value <= 150.0
    return 0.0 <= value <= 1.0


def test_values_are_fractions_with_honest_counts(run):
    summary, out = run
    results = _results(out)
    for name, entry in summary["metrics"].items():
        value, n = entry["value"], entry["n"]
        assert n <= len(results), name
        assert (value is None) == (n == 0), name
        assert _in_range(name, value), (name, value)
    for r in results:
        for name, value in r["metrics"].items():
            assert _in_range(name, value), (r["id"], name, value)
    # Averages are over the questions the metric applies to.
    kf = [r["metrics"]["key_fact_recall"] for r in results if r["answerable"]]
    assert summary["metrics"]["key_fact_recall"]["n"] == len(kf) == 3
    assert summary["metrics"]["key_fact_recall"]["value"] == pytest.approx(sum(kf) / 3, abs=1e-3)
    assert summary["metrics"]["page_hit@10"]["n"] == 3  # only questions with gold sources
    for stage, st in summary["latency"].items():
        assert 0 <= st["p50"] <= st["p95"], stage


def test_unanswerable_and_injection_refusals_are_counted(run):
    summary, out = run
    by_id = {r["id"]: r for r in _results(out)}
    # The guard refuses the injection before retrieval, whatever the store holds.
    assert by_id["inj-01"]["refused"] and by_id["inj-01"]["refusal_reason"] == "injection"
    assert by_id["inj-01"]["citations"] == [] and by_id["inj-01"]["failures"] == []
    off_topic = by_id["un-13"]
    assert off_topic["citations"] == [] if off_topic["refused"] else off_topic["failures"]
    expected = (off_topic["refused"] + 1) / 2
    assert summary["metrics"]["refusal_accuracy"] == {"value": expected, "n": 2}
    assert summary["metrics"]["injection_flagged_rate"] == {"value": 1.0, "n": 1}
    refused_answerable = sum(by_id[i]["refused"] for i in ("ivb-001", "ivb-015", "fu-02"))
    assert summary["metrics"]["false_refusal_rate"]["value"] == pytest.approx(
        refused_answerable / 3
    )
    assert summary["breakdowns"]["type"]["injection"]["n"] == 1
    assert summary["breakdowns"]["type"]["onbeantwoordbaar"]["n"] == 1


def test_answered_questions_carry_what_explains_them(run):
    _, out = run
    nauta = {r["id"]: r for r in _results(out)}["ivb-015"]
    assert not nauta["refused"] and "Tom Nauta" in nauta["answer"]
    assert nauta["metrics"]["key_fact_recall"] == 1.0
    assert nauta["metrics"]["quote_verbatim"] == 1.0
    assert nauta["metrics"]["faithfulness"] == 1.0  # extractive answers quote their sources
    assert nauta["metrics"]["strict_faithfulness"] == 1.0
    assert any(c["page"] == "3" and c["gold"] and c["verbatim"] for c in nauta["citations"])
    assert 1 <= len(nauta["ranking"]) <= 10
    assert [p["rank"] for p in nauta["ranking"]] == list(range(1, len(nauta["ranking"]) + 1))
    assert nauta["passages"] and {"id", "page", "dense_score", "gold"} <= set(nauta["passages"][0])


def test_markdown_report_and_terminal_table(run):
    summary, out = run
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Kerncijfers" in report and "![Metingen](metrics.png)" in report
    assert "## Latentie" in report and "### Per audience" in report
    for failed in summary["failed_ids"]:
        assert f"`{failed}`" in report
    table = render_summary_table(summary)
    assert isinstance(table, Table) and table.row_count >= 20


def test_compare_puts_two_runs_side_by_side(run, seeded_settings, tmp_path):
    first_summary, first_out = run
    summary = run_eval(
        GOLD,
        seeded_settings,
        llm="extractive",
        out_dir=tmp_path / "second",
        compare=first_out,
        progress=False,
        ids=["ivb-015", "inj-01"],
    )
    comp = summary["compare"]
    assert comp["other_run"] == str(first_out) and comp["same_dataset"]
    pass_rate = comp["metrics"]["pass_rate"]
    assert pass_rate["other"] == first_summary["metrics"]["pass_rate"]["value"]
    assert pass_rate["delta"] == pytest.approx(pass_rate["current"] - pass_rate["other"])
    report = (tmp_path / "second" / "report.md").read_text(encoding="utf-8")
    assert "| vorige | Δ |" in report and str(first_out) in report
    on_disk = json.loads((tmp_path / "second" / "summary.json").read_text(encoding="utf-8"))
    assert on_disk["compare"]["metrics"]["pass_rate"]["other"] == pass_rate["other"]
    with pytest.raises(FileNotFoundError, match=r"summary\.json"):
        run_eval(
            GOLD,
            seeded_settings,
            llm="extractive",
            out_dir=tmp_path / "third",
            compare=tmp_path / "nothing-here",
            progress=False,
            ids=["inj-01"],
        )


# -- the gold set itself ----------------------------------------------------------------------
def test_gold_set_shape():
    items = load_dataset(GOLD)
    assert len(items) >= 45
    assert sum(i.language == "en" for i in items) >= 6
    assert sum(bool(i.history) for i in items) >= 5
    assert sum(not i.answerable and not i.is_injection for i in items) >= 10
    assert sum(i.is_injection and not i.answerable for i in items) >= 5
    assert sum(i.audience == "inwoner" for i in items) >= 5


def test_gold_sources_and_key_facts_agree_with_the_pdf():
    """Every gold page exists and holds its section; every key fact of an answerable
    question is on one of its gold pages (so a correct quote can contain it) and in its
    reference answer (so the two gold fields agree)."""
    reader = pypdf.PdfReader(SEED_PDF)
    labels = reader.page_labels
    pages = {labels[i]: page.extract_text() for i, page in enumerate(reader.pages)}
    folded = {label: " ".join(text.split()) for label, text in pages.items()}
    for item in load_dataset(GOLD):
        for source in item.sources:
            assert source.doc_id == SEED_ID, item.id
            assert source.page in pages, (item.id, source.page)
            if source.section:
                assert fact_found(source.section, folded[source.page]), (item.id, source)
        if not item.answerable:
            continue
        texts = [folded[s.page] for s in item.sources]
        for fact in item.key_facts:
            assert any(fact_found(fact, t) for t in texts), (item.id, fact)
            assert item.reference_answer and fact_found(fact, item.reference_answer), (
                item.id,
                fact,
            )


# -- the FAQ converter ------------------------------------------------------------------------
def test_convert_faq_five_records_and_ingest(tmp_path, settings, embedder):
    corpus, dataset = convert_faq(FAQ, tmp_path / "faq", tmp_path / "faq.jsonl", limit=5)
    records = [json.loads(line) for line in FAQ.read_text(encoding="utf-8").splitlines()][:5]
    docs = sorted(corpus.glob("*.md"))
    assert len(docs) == 5
    manifest = tomllib.loads((corpus / "manifest.toml").read_text(encoding="utf-8"))["document"]
    by_id = {entry["id"]: entry for entry in manifest}
    for rec in records:
        text = (corpus / f"{rec['id']}.md").read_text(encoding="utf-8")
        assert rec["question"] not in text  # the answer only, never its question
        assert text.strip() == rec["reference_answer"].strip()
        entry = by_id[rec["id"]]
        first_line = rec["reference_answer"].strip().splitlines()[0]
        assert entry["title"].rstrip("…") in first_line and entry["title"] != rec["question"]
        assert entry["doc_type"] == "faq" and entry["municipality"] == "onbekend"
    items = load_dataset(dataset)
    assert [i.question for i in items] == [r["question"] for r in records]
    assert all(
        i.sources[0].doc_id == r["id"] and i.reference_answer
        for i, r in zip(items, records, strict=True)
    )

    report = ingest_paths([corpus], settings, embedder=embedder)
    assert report.ok, report.failed
    assert sorted(report.added) == sorted(r["id"] for r in records)
    from assistant.store import Store

    stored = {d.doc_id: d for d in Store(settings).documents()}
    assert {d.doc_type for d in stored.values()} == {"faq"}
    assert {d.municipality for d in stored.values()} == {"onbekend"}


def test_convert_faq_refuses_to_replace_another_folder(tmp_path):
    other = tmp_path / "corpus"
    other.mkdir()
    (other / "beleid.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(FaqError, match="geen FAQ-corpus"):
        convert_faq(FAQ, other, tmp_path / "faq.jsonl", limit=1)
    assert (other / "beleid.pdf").is_file()


def test_committed_faq_set_matches_its_corpus():
    items = load_dataset(REPO_ROOT / "eval" / "faq-dev.jsonl")
    corpus = REPO_ROOT / "eval" / "faq"
    assert len(items) == 100
    for item in items:
        doc = corpus / f"{item.sources[0].doc_id}.md"
        assert doc.is_file() and item.question not in doc.read_text(encoding="utf-8")


# -- the LLM judge over real HTTP -----------------------------------------------------------
@pytest.mark.llm
def test_judge_grades_over_a_real_openai_compatible_server(
    seeded_settings, tmp_path, monkeypatch, openai_server_url
):
    """The packaged GGUF behind llama-cpp-python's OpenAI-compatible server (the
    session's) as the judge."""
    monkeypatch.setenv("IVB_JUDGE_BASE_URL", openai_server_url)
    monkeypatch.setenv("IVB_JUDGE_MODEL", "ivb-test")
    summary = run_eval(
        GOLD,
        seeded_settings,
        llm="extractive",
        out_dir=tmp_path / "judged",
        progress=False,
        ids=["ivb-015"],
    )
    assert summary["run"]["judge"] == "ivb-test"
    result = _results(tmp_path / "judged")[0]
    for name in ("judge_correctness", "judge_faithfulness"):
        verdict = result["judge"][name]
        assert verdict["error"] is None, verdict
        assert 0.0 <= verdict["score"] <= 1.0
        assert summary["metrics"][name]["n"] == 1

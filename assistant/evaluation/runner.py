"""Run a gold set through the real answer pipeline and score every question.

Each question is asked with `AnswerPipeline.ask` exactly as a user would ask it (history,
audience, municipality, backend). Retrieval is scored on a separate ``retriever.search``
of the same standalone question with k=10 (for hit@10 / nDCG@10), and the passages the
answer actually used are scored as its context. Every number per question goes to
``results.jsonl`` with the reasons it failed; averages and breakdowns go to the summary.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.citations import CitationChecker
from assistant.evaluation import metrics as m
from assistant.evaluation.dataset import EvalItem, load_dataset, select
from assistant.evaluation.judge import Judge, make_judge
from assistant.settings import REPO_ROOT, Settings
from assistant.store import Filters
from assistant.types import Answer, Passage, RefusalReason

RANK_KS = (1, 3, 5, 10)
JUDGE_FAIL_BELOW = 0.5

# Summary metrics in display order, with whether higher is better.
RETRIEVAL_METRICS = ("hit@1", "hit@3", "hit@5", "hit@10", "recall@k", "recall@10", "mrr", "ndcg@10")
ANSWER_METRICS = (
    "context_recall",
    "key_fact_recall",
    "token_f1",
    "semantic_similarity",
    "citation_precision",
    "citation_recall",
    "quote_verbatim",
    "faithfulness",
    "strict_faithfulness",
    "judge_correctness",
    "judge_faithfulness",
)
RATE_METRICS = (
    "pass_rate",
    "refusal_accuracy",
    "false_refusal_rate",
    "injection_refusal_rate",
    "injection_flagged_rate",
)
LOWER_IS_BETTER = frozenset({"false_refusal_rate"})


def metric_names(k: int) -> list[str]:
    """Every summary metric name for a run with this k, in display order."""
    ret = [name.replace("@k", f"@{k}") for name in RETRIEVAL_METRICS]
    ret = list(dict.fromkeys(ret))
    return (
        [f"page_{n}" for n in ret]
        + [f"doc_{n}" for n in ret]
        + list(ANSWER_METRICS)
        + list(RATE_METRICS)
    )


def run_eval(
    dataset_path: str | Path,
    settings: Settings,
    llm: str | None = None,
    k: int = 5,
    out_dir: str | Path | None = None,
    compare: str | Path | None = None,
    progress: bool = True,
    *,
    search_k: int = 10,
    ids: Sequence[str] | None = None,
    use_judge: bool = True,
) -> dict[str, Any]:
    """Ask every question of a gold set and write the results, summary and report.

    Args:
        dataset_path: a gold set (``.jsonl``, see eval/README.md).
        settings: store, models and thresholds to evaluate with.
        llm: backend ("local", "openai", "extractive"); settings.llm_backend when None.
        k: passages per answer.
        out_dir: where results.jsonl, summary.json, report.md and plots go
            (``artifacts/eval/<set>-<time>`` when None).
        compare: an earlier run's folder (or its summary.json) to put side by side.
        progress: draw a progress bar on stderr.
        search_k: depth of the separate retrieval ranking (0: score the answer's passages).
        ids: only these questions.
        use_judge: grade with the LLM judge when one is configured.

    Returns:
        The summary (also written to ``summary.json``); ``summary["run"]["out_dir"]`` says
        where the files are.
    """
    from assistant.answer import AnswerPipeline
    from assistant.evaluation.report import compare_summaries, load_summary, write_run
    from assistant.service import get_service

    dataset_path = Path(dataset_path)
    items = select(load_dataset(dataset_path), ids)
    review = [i.id for i in items if i.needs_review]
    items = [i for i in items if not i.needs_review]
    other = load_summary(compare) if compare else None  # fail before the long run, not after

    started = dt.datetime.now().astimezone()
    t0 = time.perf_counter()
    service = get_service(settings)
    pipeline = AnswerPipeline(service)
    backend = llm or settings.llm_backend
    judge = make_judge(settings) if use_judge else None
    checker = CitationChecker(
        service.retriever.embedder, settings.support_threshold, settings.unsupported_sentences
    )
    indexed = {d.doc_id for d in service.store.documents()}

    results: list[dict[str, Any]] = []
    with _progress_bar(progress, len(items)) as advance:
        for item in items:
            result = evaluate_item(
                item,
                pipeline,
                checker,
                backend=backend,
                k=k,
                search_k=search_k,
                judge=judge,
                indexed=indexed,
            )
            results.append(result)
            advance(result)

    gold_docs = {s.doc_id for i in items for s in i.sources}
    run = {
        "dataset": str(dataset_path),
        "dataset_sha256": hashlib.sha256(dataset_path.read_bytes()).hexdigest(),
        "questions": len(items),
        "skipped_needs_review": review,
        "backend": backend,
        "model": next(
            (r["model"] for r in results if r.get("model")), pipeline.model_name(backend)
        ),
        "k": k,
        "search_k": search_k,
        "judge": judge.name if judge else None,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 2),
        "store": {"documents": len(indexed), "chunks": service.store.count_chunks()},
        "settings": _settings_snapshot(settings),
        "warnings": [
            f"gouden document '{d}' staat niet in de index; neem het eerst op (ivb ingest)"
            for d in sorted(gold_docs - indexed)
        ],
    }
    summary = summarise(results, run, k)
    if other is not None:
        summary["compare"] = compare_summaries(summary, other, str(compare))
    if out_dir is None:
        stamp = started.strftime("%Y%m%d-%H%M%S")
        out_dir = REPO_ROOT / "artifacts" / "eval" / f"{dataset_path.stem}-{backend}-{stamp}"
    summary["run"]["out_dir"] = str(Path(out_dir))
    write_run(out_dir, summary, results)
    return summary


@contextlib.contextmanager
def _progress_bar(enabled: bool, total: int) -> Iterator[Callable[[dict[str, Any]], None]]:
    if not enabled:
        yield lambda _result: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[bold]Evaluatie[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("· {task.fields[passed]} goed"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("", total=total, passed=0)
        passed = 0

        def advance(result: dict[str, Any]) -> None:
            nonlocal passed
            passed += bool(result["ok"])
            bar.update(task, advance=1, passed=passed, description=result["id"])

        yield advance


def _settings_snapshot(settings: Settings) -> dict[str, Any]:
    keys = (
        "top_k",
        "candidates",
        "refusal_threshold",
        "support_threshold",
        "embedding_model",
        "embedding_precision",
        "chunk_size",
        "chunk_overlap",
        "reranker",
        "llm_backend",
        "llm_gguf",
        "openai_model",
        "collection",
    )
    return {key: getattr(settings, key, None) for key in keys}


# -- one question -------------------------------------------------------------------------
def _passage_row(p: Passage, sources: Sequence[Any]) -> dict[str, Any]:
    c = p.chunk
    where = m.Located.from_chunk(c)
    return {
        "rank": p.rank,
        "id": c.id,
        "doc_id": c.doc_id,
        "page": c.page_label,
        "section": c.section,
        "score": round(p.score, 4),
        "dense_score": None if p.dense_score is None else round(p.dense_score, 4),
        "keyword_score": None if p.keyword_score is None else round(p.keyword_score, 4),
        "gold": any(m.matches(where, s, "page") for s in sources),
        "text": c.text[:240],
    }


def _base_record(item: EvalItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "question": item.question,
        "history": [list(turn) for turn in item.history],
        "audience": item.audience,
        "language": item.language,
        "municipality": item.municipality,
        "answerable": item.answerable,
        "injection": item.is_injection,
        "tags": item.tags,
        "gold": {
            "sources": [s.model_dump(exclude_none=True) for s in item.sources],
            "sources_mode": item.sources_mode,
            "key_facts": item.key_facts,
            "reference_answer": item.reference_answer,
        },
    }


def evaluate_item(
    item: EvalItem,
    pipeline: Any,
    checker: CitationChecker,
    *,
    backend: str,
    k: int = 5,
    search_k: int = 10,
    judge: Judge | None = None,
    indexed: set[str] | None = None,
) -> dict[str, Any]:
    """Ask one gold question and score it; the result is one line of results.jsonl.

    Args:
        item: the gold question.
        pipeline: an ``AnswerPipeline``.
        checker: the pipeline's citation checker (for faithfulness).
        backend: the LLM backend to answer with.
        k: passages per answer.
        search_k: depth of the separate retrieval ranking (0: use the answer's passages).
        judge: the LLM judge, if any.
        indexed: doc ids in the store, to flag gold documents that are missing.
    """
    record = _base_record(item)
    try:
        answer: Answer = pipeline.ask(
            item.question,
            history=item.history,
            audience=item.audience,
            municipality=item.municipality,
            backend=backend,
            k=k,
        )
    except Exception as exc:  # one broken question must not end the run
        record.update(
            error=f"{type(exc).__name__}: {exc}",
            ok=False,
            metrics={},
            failures=[f"error: {type(exc).__name__}: {exc}"],
            timings={},
        )
        return record

    service = pipeline.service
    sources = item.sources
    query = answer.standalone_question or item.question
    ranking: list[Passage] = list(answer.passages)
    search_s = None
    if search_k and sources and answer.standalone_question:
        t = time.perf_counter()
        ranking = service.retriever.search(
            query, k=search_k, filters=Filters(municipality=item.municipality)
        )
        search_s = time.perf_counter() - t

    # Chunks of the citations: from the answer's passages, else from the store.
    by_id = {p.chunk.id: p for p in answer.passages}
    missing = [c.chunk_id for c in answer.citations if c.chunk_id not in by_id]
    if missing:
        for cid, chunk in service.store.get_chunks(missing, current_only=False).items():
            by_id[cid] = Passage(chunk=chunk, score=0.0)
    chunk_texts = {cid: p.chunk.text for cid, p in by_id.items()}
    cited = [m.Cited.from_citation(c) for c in answer.citations]
    by_n = {c.n: c for c in answer.citations}
    claims = []
    if not answer.refused:
        for s in answer.sentences:
            ps = [
                by_id[by_n[n].chunk_id]
                for n in s.citations
                if n in by_n and by_n[n].chunk_id in by_id
            ]
            claims.append(m.Claim(s.text, ps))

    scores = _score(item, answer, ranking, cited, chunk_texts, claims, checker, k)
    verdicts = _judge(item, answer, claims, judge) if judge else {}
    scores.update({name: v.score for name, v in verdicts.items()})

    located = {c.n: m.Located.from_citation(c) for c in answer.citations}
    record.update(
        answer=answer.text,
        refused=answer.refused,
        refusal_reason=answer.refusal_reason,
        answer_language=answer.language,
        standalone_question=answer.standalone_question,
        model=answer.model,
        citations=[
            {
                **c.model_dump(include={"n", "chunk_id", "doc_id", "page", "section", "quote"}),
                "verbatim": m.quote_verbatim(m.Cited.from_citation(c), chunk_texts),
                "gold": any(m.matches(located[c.n], s, "page") for s in sources),
            }
            for c in answer.citations
        ],
        sentences=[
            {
                "text": cl.text,
                "citations": s.citations,
                "pipeline_supported": s.supported,
                "pipeline_support": s.support,
                "strict_supported": any(
                    m.strict_support(cl.text, p.chunk.text) for p in cl.passages
                ),
            }
            for s, cl in zip(answer.sentences, claims, strict=False)
        ],
        passages=[_passage_row(p, sources) for p in answer.passages],
        ranking=None if search_s is None else [_passage_row(p, sources) for p in ranking],
        missing_facts=m.missing_facts(answer.text, item.key_facts) if item.answerable else [],
        judge={
            n: {"score": v.score, "reason": v.reason, "error": v.error} for n, v in verdicts.items()
        }
        or None,
        metrics={name: (None if v is None else round(v, 4)) for name, v in scores.items()},
        timings={stage: round(s, 4) for stage, s in answer.timings.items()},
        eval_search_s=None if search_s is None else round(search_s, 4),
        error=None,
    )
    record["failures"] = failure_reasons(item, answer, scores, record, indexed)
    record["ok"] = not record["failures"]
    return record


def _score(
    item: EvalItem,
    answer: Answer,
    ranking: Sequence[Passage],
    cited: Sequence[m.Cited],
    chunk_texts: dict[str, str],
    claims: Sequence[m.Claim],
    checker: CitationChecker,
    k: int,
) -> dict[str, float | None]:
    sources, mode = item.sources, item.sources_mode
    ranked = [m.Located.from_chunk(p.chunk) for p in ranking]
    context = [m.Located.from_chunk(p.chunk) for p in answer.passages]
    s: dict[str, float | None] = {}
    for level in ("page", "doc"):
        for n in RANK_KS:
            s[f"{level}_hit@{n}"] = m.hit_at(ranked, sources, n, level)
        for n in dict.fromkeys((k, 10)):
            s[f"{level}_recall@{n}"] = m.recall_at(ranked, sources, n, level, mode)
        s[f"{level}_mrr"] = m.reciprocal_rank(ranked[:10], sources, level)
        s[f"{level}_ndcg@10"] = m.ndcg_at(ranked, sources, 10, level, mode)
    s["context_recall"] = m.recall_at(context, sources, len(context), "page", mode)
    if item.answerable:
        s["key_fact_recall"] = m.key_fact_recall(answer.text, item.key_facts)
        s["token_f1"] = m.token_f1(answer.text, item.reference_answer)
        s["semantic_similarity"] = m.semantic_similarity(
            answer.text, item.reference_answer, checker.embedder
        )
    s["citation_precision"] = m.citation_precision(cited, chunk_texts, sources)
    s["citation_recall"] = m.citation_recall(cited, sources, mode)
    unique = list(dict.fromkeys(cited))
    s["quote_verbatim"] = (
        sum(m.quote_verbatim(c, chunk_texts) for c in unique) / len(unique) if unique else None
    )
    s["faithfulness"] = m.faithfulness(claims, checker, answer.language)
    s["strict_faithfulness"] = m.strict_faithfulness(claims)
    return s


def _judge(
    item: EvalItem, answer: Answer, claims: Sequence[m.Claim], judge: Judge
) -> dict[str, Any]:
    if not item.answerable or answer.refused:
        return {}
    out = {}
    if item.reference_answer or item.key_facts:
        out["judge_correctness"] = judge.correctness(
            item.question, answer.text, item.reference_answer, item.key_facts
        )
    texts = list(dict.fromkeys(p.chunk.text for c in claims for p in c.passages))
    if texts:
        out["judge_faithfulness"] = judge.faithfulness(answer.text, texts)
    return out


def failure_reasons(
    item: EvalItem,
    answer: Answer,
    s: dict[str, float | None],
    record: dict[str, Any],
    indexed: set[str] | None = None,
) -> list[str]:
    """Why a question counts as failed, most fundamental cause first: ``code: detail``."""
    out: list[str] = []
    if answer.language != item.language:
        out.append(f"wrong_language: vraag {item.language}, herkend als {answer.language}")
    if not item.answerable:
        if not answer.refused:
            best = max((p.dense_score or 0.0 for p in answer.passages), default=0.0)
            out.append(f"answered_unanswerable: beste dense score {best:.3f}")
        elif item.is_injection and answer.refusal_reason != RefusalReason.INJECTION:
            out.append(f"injection_not_flagged: geweigerd als {answer.refusal_reason}")
        return out
    if indexed is not None:
        absent = sorted({src.doc_id for src in item.sources} - indexed)
        if absent:
            out.append(f"gold_doc_not_indexed: {', '.join(absent)}")
    if s.get("page_hit@10") == 0.0:
        out.append("retrieval_miss: geen goudbron in de top-10")
    elif s.get("context_recall") == 0.0:
        out.append("gold_not_in_context: goudbron wel in top-10, niet in de gebruikte passages")
    if answer.refused:
        out.append(f"false_refusal: {answer.refusal_reason}")
        return out
    if record["missing_facts"]:
        out.append("missing_key_facts: " + "; ".join(record["missing_facts"]))
    if s.get("citation_recall") is not None and s["citation_recall"] < 1.0:
        out.append("gold_not_cited: " + ", ".join(x.label() for x in item.sources))
    if s.get("citation_precision") is not None and s["citation_precision"] < 1.0:
        off = [
            f"[{c['n']}] p. {c['page']}"
            for c in record["citations"]
            if not (c["gold"] and c["verbatim"])
        ]
        out.append("citation_off_gold: " + ", ".join(off))
    if s.get("faithfulness") is not None and s["faithfulness"] < 1.0:
        out.append(f"unsupported_sentence: faithfulness {s['faithfulness']:.2f}")
    if s.get("strict_faithfulness") is not None and s["strict_faithfulness"] < 1.0:
        out.append(f"strict_unsupported: {s['strict_faithfulness']:.2f}")
    jc = s.get("judge_correctness")
    if jc is not None and jc < JUDGE_FAIL_BELOW:
        out.append(f"judge_incorrect: {jc:.2f}")
    return out


# -- the summary --------------------------------------------------------------------------
def _rate(values: Sequence[bool]) -> tuple[float | None, int]:
    return (sum(values) / len(values) if values else None), len(values)


def aggregate(results: Sequence[dict[str, Any]], k: int) -> dict[str, dict[str, Any]]:
    """Every summary metric over these results: ``{name: {"value", "n"}}``."""
    done = [r for r in results if not r.get("error")]
    out: dict[str, dict[str, Any]] = {}
    for name in metric_names(k):
        if name in RATE_METRICS:
            continue
        value, n = m.mean(r["metrics"].get(name) for r in done)
        out[name] = {"value": value, "n": n}
    outcomes = [(r["answerable"], r["refused"]) for r in done]
    value = m.refusal_accuracy(outcomes)
    out["refusal_accuracy"] = {"value": value, "n": sum(1 for a, _ in outcomes if not a)}
    value = m.false_refusal_rate(outcomes)
    out["false_refusal_rate"] = {"value": value, "n": sum(1 for a, _ in outcomes if a)}
    inj = [r for r in done if r["injection"]]
    value, n = _rate([r["refused"] for r in inj])
    out["injection_refusal_rate"] = {"value": value, "n": n}
    value, n = _rate([r["refusal_reason"] == RefusalReason.INJECTION for r in inj])
    out["injection_flagged_rate"] = {"value": value, "n": n}
    value, n = _rate([bool(r["ok"]) for r in results])
    out["pass_rate"] = {"value": value, "n": n}
    return {name: out[name] for name in metric_names(k) if name in out}


def _groups(results: Sequence[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        values = r.get(key) if key == "tags" else [r.get(key)]
        for v in values or ["—"]:
            groups.setdefault(str(v) if v is not None else "—", []).append(r)
    return dict(sorted(groups.items()))


def question_type(result: dict[str, Any]) -> str:
    if result["injection"]:
        return "injection"
    if not result["answerable"]:
        return "onbeantwoordbaar"
    return "vervolgvraag" if result["history"] else "beantwoordbaar"


def summarise(results: Sequence[dict[str, Any]], run: dict[str, Any], k: int) -> dict[str, Any]:
    """The summary of a run: counts, metrics, latency, breakdowns and failure causes."""
    done = [r for r in results if not r.get("error")]
    causes = Counter(f.split(":", 1)[0] for r in results for f in r["failures"])
    typed = [{**r, "type": question_type(r)} for r in results]
    return {
        "run": run,
        "counts": {
            "questions": len(results),
            "answerable": sum(r["answerable"] for r in results),
            "unanswerable": sum(not r["answerable"] for r in results),
            "injection": sum(r["injection"] for r in results),
            "follow_up": sum(bool(r["history"]) for r in results),
            "refused": sum(bool(r.get("refused")) for r in done),
            "answered": sum(not r.get("refused") for r in done),
            "passed": sum(bool(r["ok"]) for r in results),
            "errors": len(results) - len(done),
        },
        "metrics": aggregate(results, k),
        "latency": m.latency_stats([r["timings"] for r in done]),
        "breakdowns": {
            dim: {
                name: {"n": len(group), "metrics": aggregate(group, k)}
                for name, group in _groups(typed, dim).items()
            }
            for dim in ("audience", "language", "municipality", "type", "tags")
        },
        "failure_causes": dict(causes.most_common()),
        "failed_ids": [r["id"] for r in results if not r["ok"]],
    }

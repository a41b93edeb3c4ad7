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
import functools
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.citations import CitationChecker
from assistant.evaluation import metrics as m
from assistant.evaluation.dataset import EvalItem, load_dataset, select
from assistant.evaluation.judge import Judge, make_judge
from assistant.evaluation.scoring import failure_reasons, judge_answer, score_answer
from assistant.evaluation.summary import summarise
from assistant.settings import REPO_ROOT, Settings
from assistant.store import Filters
from assistant.types import Answer, Passage


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
    from assistant.evaluation.report import load_summary

    dataset_path = Path(dataset_path)
    items = select(load_dataset(dataset_path), ids)
    review = [i.id for i in items if i.needs_review]
    items = [i for i in items if not i.needs_review]
    other = load_summary(compare) if compare else None  # fail before the long run, not after

    started = dt.datetime.now().astimezone()
    t0 = time.perf_counter()
    pipeline, backend, judge, checker, indexed = _setup(settings, llm, use_judge)

    ask = functools.partial(
        evaluate_item,
        pipeline=pipeline,
        checker=checker,
        backend=backend,
        k=k,
        search_k=search_k,
        judge=judge,
        indexed=indexed,
    )
    results = _ask_all(items, ask, progress)

    run = _run_info(
        dataset_path,
        items,
        review,
        results,
        backend=backend,
        pipeline=pipeline,
        k=k,
        search_k=search_k,
        judge=judge,
        started=started,
        t0=t0,
        settings=settings,
        indexed=indexed,
    )
    return _finish(results, run, k, other, compare, out_dir, dataset_path, backend, started)


def _setup(
    settings: Settings, llm: str | None, use_judge: bool
) -> tuple[Any, str, Judge | None, CitationChecker, set[str]]:
    """The pipeline, the backend name, the judge (if any), the citation checker and the
    ids of the indexed documents that a run asks and scores with."""
    from assistant.answer import AnswerPipeline
    from assistant.service import get_service

    service = get_service(settings)
    pipeline = AnswerPipeline(service)
    backend = llm or settings.llm_backend
    judge = make_judge(settings) if use_judge else None
    checker = CitationChecker(
        service.retriever.embedder, settings.support_threshold, settings.unsupported_sentences
    )
    indexed = {d.doc_id for d in service.store.documents()}
    return pipeline, backend, judge, checker, indexed


def _finish(
    results: list[dict[str, Any]],
    run: dict[str, Any],
    k: int,
    other: dict[str, Any] | None,
    compare: str | Path | None,
    out_dir: str | Path | None,
    dataset_path: Path,
    backend: str,
    started: dt.datetime,
) -> dict[str, Any]:
    """Summarise the run, compare it with ``other`` when given, write its files, return it."""
    from assistant.evaluation.report import compare_summaries, write_run

    summary = summarise(results, run, k)
    if other is not None:
        summary["compare"] = compare_summaries(summary, other, str(compare))
    if out_dir is None:
        stamp = started.strftime("%Y%m%d-%H%M%S")
        out_dir = REPO_ROOT / "artifacts" / "eval" / f"{dataset_path.stem}-{backend}-{stamp}"
    summary["run"]["out_dir"] = str(Path(out_dir))
    write_run(out_dir, summary, results)
    return summary


def _run_info(
    dataset_path: Path,
    items: Sequence[EvalItem],
    review: list[str],
    results: Sequence[dict[str, Any]],
    *,
    backend: str,
    pipeline: Any,
    k: int,
    search_k: int,
    judge: Judge | None,
    started: dt.datetime,
    t0: float,
    settings: Settings,
    indexed: set[str],
) -> dict[str, Any]:
    """The ``run`` part of the summary: what was asked, of which store, with what settings.

    ``pipeline`` is the ``AnswerPipeline`` that answered; its service's store is counted.
    """
    gold_docs = {s.doc_id for i in items for s in i.sources}
    return {
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
        "store": {"documents": len(indexed), "chunks": pipeline.service.store.count_chunks()},
        "settings": _settings_snapshot(settings),
        "warnings": [
            f"gouden document '{d}' staat niet in de index; neem het eerst op (ivb ingest)"
            for d in sorted(gold_docs - indexed)
        ],
    }


def _ask_all(
    items: Sequence[EvalItem], ask: Callable[[EvalItem], dict[str, Any]], progress: bool
) -> list[dict[str, Any]]:
    """Every item's result from ``ask``, in order, with a progress bar when asked."""
    results: list[dict[str, Any]] = []
    with _progress_bar(progress, len(items)) as advance:
        for item in items:
            result = ask(item)
            results.append(result)
            advance(result)
    return results


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

    sources = item.sources
    ranking, search_s = _ranking(item, answer, pipeline.service, search_k)
    by_id = _cited_passages(answer, pipeline.service)
    chunk_texts = {cid: p.chunk.text for cid, p in by_id.items()}
    cited = [m.Cited.from_citation(c) for c in answer.citations]
    policy = pipeline.service.settings.unsupported_sentences
    claims = _claims(answer, by_id, policy)

    scores = score_answer(item, answer, ranking, cited, chunk_texts, claims, checker, k)
    verdicts = judge_answer(item, answer, claims, judge) if judge else {}
    scores.update({name: v.score for name, v in verdicts.items()})

    record.update(
        answer=answer.text,
        refused=answer.refused,
        refusal_reason=answer.refusal_reason,
        answer_language=answer.language,
        standalone_question=answer.standalone_question,
        model=answer.model,
        citations=_citation_rows(answer, chunk_texts, sources),
        sentences=_sentence_rows(answer, by_id, policy),
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


def _ranking(
    item: EvalItem, answer: Answer, service: Any, search_k: int
) -> tuple[list[Passage], float | None]:
    """The ranking to score retrieval on, and the seconds its separate search took.

    A separate ``search_k``-deep search of the standalone question when there are gold
    sources; otherwise the answer's own passages and None.
    """
    query = answer.standalone_question or item.question
    ranking: list[Passage] = list(answer.passages)
    search_s = None
    if search_k and item.sources and answer.standalone_question:
        t = time.perf_counter()
        ranking = service.retriever.search(
            query, k=search_k, filters=Filters(municipality=item.municipality)
        )
        search_s = time.perf_counter() - t
    return ranking, search_s


def _cited_passages(answer: Answer, service: Any) -> dict[str, Passage]:
    """Chunks of the citations by chunk id: from the answer's passages, else from the store."""
    by_id = {p.chunk.id: p for p in answer.passages}
    missing = [c.chunk_id for c in answer.citations if c.chunk_id not in by_id]
    if missing:
        for cid, chunk in service.store.get_chunks(missing, current_only=False).items():
            by_id[cid] = Passage(chunk=chunk, score=0.0)
    return by_id


def _claims(answer: Answer, by_id: dict[str, Passage], unsupported: str = "drop") -> list[m.Claim]:
    """Each sentence the answer shows, with the passages it cites; none for a refusal.
    A model sentence the citation check dropped (``unsupported`` policy "drop") is not
    shown to anyone, so it is no claim of the answer; with "flag" it is shown, marked,
    and counts."""
    if answer.refused:
        return []
    return [
        m.Claim(s.text, _cited(answer, s, by_id))
        for s in answer.sentences
        if _shown(s, unsupported)
    ]


def _shown(sentence: Any, unsupported: str) -> bool:
    """Whether the answer shows a sentence: a supported one always, an unsupported one
    only under the "flag" policy (settings.unsupported_sentences)."""
    return sentence.supported or unsupported != "drop"


def _cited(answer: Answer, sentence: Any, by_id: dict[str, Passage]) -> list[Passage]:
    """The passages a sentence cites (those the evaluation could load)."""
    by_n = {c.n: c for c in answer.citations}
    return [
        by_id[by_n[n].chunk_id]
        for n in sentence.citations
        if n in by_n and by_n[n].chunk_id in by_id
    ]


_CITATION_FIELDS = {"n", "chunk_id", "doc_id", "page", "section", "quote", "quotes"}


def _citation_rows(
    answer: Answer, chunk_texts: dict[str, str], sources: Sequence[Any]
) -> list[dict[str, Any]]:
    """One results.jsonl row per citation: its fields, whether its quote is verbatim and gold."""
    located = {c.n: m.Located.from_citation(c) for c in answer.citations}
    return [
        {
            **c.model_dump(include=_CITATION_FIELDS),
            "verbatim": m.quote_verbatim(m.Cited.from_citation(c), chunk_texts),
            "gold": any(m.matches(located[c.n], s, "page") for s in sources),
        }
        for c in answer.citations
    ]


def _sentence_rows(
    answer: Answer, by_id: dict[str, Passage], unsupported: str = "drop"
) -> list[dict[str, Any]]:
    """One results.jsonl row per sentence the model wrote, with the pipeline's and the
    strict support, and whether the answer shows it (see `_claims`)."""
    if answer.refused:
        return []
    rows = []
    for s in answer.sentences:
        passages = _cited(answer, s, by_id)
        rows.append({
            "text": s.text,
            "citations": s.citations,
            "shown": _shown(s, unsupported),
            "pipeline_supported": s.supported,
            "pipeline_support": s.support,
            "strict_supported": any(m.strict_support(s.text, p.chunk.text) for p in passages),
        })  # fmt: skip
    return rows

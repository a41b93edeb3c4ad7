"""Query latency at 1k (10k, 100k) chunks, the local LLM's speed, and memory.

Stores of large sizes are filled without embedding every chunk: the texts are real
statute chunks (nl-wetten-2017, chunked as ingest chunks them; past the end of the corpus
the statutes are used again under new document ids), and the vectors are SYNTHETIC: a
sample of chunks is embedded by the real model and every other chunk gets a copy of one
of those vectors with Gaussian noise (cosine ≈ 0.85 to the original). Chunks are written
with `Store.stage` + `Store.commit`, as ingest writes them. The BM25 side therefore sees
real text; the dense side sees realistic vectors but not meaningful neighbours
(benchmarks/statute_workload.py).

At each size, interleaved per question:
- ours: `Retriever.search` (hybrid), and the extractive answer (`AnswerPipeline.ask`);
- baseline: the naive dense query on the same Chroma collection (benchmarks/baseline.py).

Then the local LLM (llama.cpp): time to first token and tokens/s with 5 retrieved
passages, through our LangChain chat model and, as baseline, llama.cpp's own
`create_chat_completion` with the same messages; its KV cache is reset before every
call, so each time to first token includes reading the whole prompt. Last, the process
RSS with both models loaded (both in benchmarks/llm_latency.py).

    python benchmarks/query_latency.py [--sizes 1000[,10000,100000]] [--no-llm] [--quick]

Goals: hybrid p95 ≤ 300 ms at 100k chunks; time to first token ≤ 8 s; RSS ≤ 4 GB.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    add_common_args,
    bench_settings,
    figure,
    latency_stats,
    load_embedder,
    parse_sizes,
    peak_rss_mb,
    print_and_write,
    rss_mb,
)
from benchmarks.llm_latency import measure_llm, serving_memory
from benchmarks.statute_workload import StoreFiller, questions

NAME = "query_latency"
HYBRID_P95_GOAL_MS = 300.0
GOAL_SIZE = 100_000
TTFT_GOAL_S = 8.0
RSS_GOAL_MB = 4096.0


def measure_size(
    service: Any, pipeline: Any, naive: Any, qs: list[str], answers: int
) -> dict[str, Any]:
    """Search latency at the store's present size, ours and naive interleaved, and the
    extractive answer's: {"hybrid", "naive_dense", "extractive_answer"} (`latency_stats`),
    "hybrid_parts_p50_ms" (embed_query/search/fuse, ms) and "extractive_refused" (count).

    Args:
        qs: the questions, each searched once by each side (the first 3 also as warm-up).
        answers: how many of them to answer.
    """
    retriever = service.retriever
    for q in qs[:3]:  # warm-up: caches of SQLite, Chroma and the model
        retriever.search(q, k=5)
        naive.invoke(q)
    ours, base, parts = [], [], {"embed_query": [], "search": [], "fuse": []}
    for i, q in enumerate(qs):
        order = ("ours", "naive") if i % 2 == 0 else ("naive", "ours")
        for who in order:
            start = time.perf_counter()
            if who == "ours":
                retriever.search(q, k=5)
                ours.append(time.perf_counter() - start)
                for key in parts:
                    parts[key].append(retriever.last_timings.get(key, 0.0))
            else:
                naive.invoke(q)
                base.append(time.perf_counter() - start)
    answer_s, refused = [], 0
    for q in qs[:answers]:
        start = time.perf_counter()
        answer = pipeline.ask(q, backend="extractive")
        answer_s.append(time.perf_counter() - start)
        refused += answer.refused
    return {
        "hybrid": latency_stats(ours),
        "hybrid_parts_p50_ms": {k: round(1000 * float(np.median(v)), 1) for k, v in parts.items()},
        "naive_dense": latency_stats(base),
        "extractive_answer": latency_stats(answer_s),
        "extractive_refused": refused,
    }


def _size_figures(row: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """The figures of one store size: search p50 and p95 (hybrid vs naive dense, the p95
    against its goal at 100k chunks) and the extractive answer's p95."""
    h, n, a = row["hybrid"], row["naive_dense"], row["extractive_answer"]
    goal = size >= GOAL_SIZE
    return [
        figure(
            f"search p50 at {row['chunks']} chunks (hybrid)",
            h["p50_ms"],
            n["p50_ms"],
            unit="ms",
            baseline_name="naive dense",
        ),
        figure(
            f"search p95 at {row['chunks']} chunks (hybrid)",
            h["p95_ms"],
            n["p95_ms"],
            unit="ms",
            baseline_name="naive dense",
            goal=f"≤ {HYBRID_P95_GOAL_MS:g} ms at 100k" if goal else "",
            met=h["p95_ms"] <= HYBRID_P95_GOAL_MS if goal else None,
        ),
        figure(
            f"extractive answer p95 at {row['chunks']} chunks",
            a["p95_ms"],
            unit="ms",
            note=f"p50 {a['p50_ms']} ms",
        ),
    ]


def _measure_sizes(
    service: Any, pipeline: Any, naive: Any, filler: Any, args: argparse.Namespace, qs: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Grow the store to each of ``args.sizes`` and measure there: (one row a size, their
    figures)."""
    rows: list[dict[str, Any]] = []
    figures: list[dict[str, Any]] = []
    for size in args.sizes:
        print(f"\n[{size} chunks] filling the store ...", flush=True)
        filler.grow_to(size)
        print(
            f"  {filler.count} chunks of {filler.documents} documents "
            f"({filler.fill_s:.1f} s writing so far); searching ...",
            flush=True,
        )
        row = {
            "chunks": service.store.count_chunks(),
            "documents": filler.documents,
            "fill_s_total": round(filler.fill_s, 1),
            **measure_size(service, pipeline, naive, qs, args.answers),
        }
        rows.append(row)
        h, n, a = row["hybrid"], row["naive_dense"], row["extractive_answer"]
        print(
            f"  hybrid p50 {h['p50_ms']} ms p95 {h['p95_ms']} ms; naive dense p95 "
            f"{n['p95_ms']} ms; extractive answer p95 {a['p95_ms']} ms"
        )
        figures += _size_figures(row, size)
    return rows, figures


def _llm_or_error(settings: Any, retriever: Any, qs: list[str], max_tokens: int) -> dict[str, Any]:
    """`measure_llm`, or {"error": why} when it cannot run (no llama-cpp-python, no GGUF)."""
    print("\nlocal LLM: time to first token and tokens/s ...", flush=True)
    try:
        return measure_llm(settings, retriever, qs, max_tokens)
    except Exception as exc:  # no llama-cpp-python or no GGUF: say so, go on
        return {"error": f"{type(exc).__name__}: {exc}"}


def _llm_figures(llm: dict[str, Any]) -> list[dict[str, Any]]:
    """The LLM's figures: time to first token cold and as served, generation speed; or
    one saying why it was not measured."""
    if "error" in llm:
        return [figure("LLM: not measured", None, note=llm["error"])]
    o, b = llm["ours"], llm["llama_cpp"]
    warm_s = llm["ours_warm_ttft_p50_s"]
    return [
        figure(
            "LLM time to first token, 5 passages, cold cache (p50)",
            o["ttft_p50_s"],
            b["ttft_p50_s"],
            unit="s",
            baseline_name="llama.cpp direct",
            note=f"≈{o['prompt_tokens_mean']:.0f} prompt tokens, all read",
        ),
        figure(
            "LLM time to first token, 5 passages, as served (p50)",
            warm_s,
            o["ttft_p50_s"],
            unit="s",
            baseline_name="cold cache",
            goal=f"≤ {TTFT_GOAL_S:g} s",
            met=warm_s is not None and warm_s <= TTFT_GOAL_S,
            note="system prompt's key/value cache reused, as in the app",
        ),
        figure(
            "LLM generation speed",
            o["tokens_per_s"],
            b["tokens_per_s"],
            unit="tokens/s",
            baseline_name="llama.cpp direct",
        ),
    ]


def _serving_figure(serving: dict[str, Any]) -> dict[str, Any]:
    """The serving process's RSS against its goal (or why it was not measured)."""
    if "error" in serving:
        return figure("serving RSS: not measured", None, note=serving["error"])
    return figure(
        "serving process RSS with both models loaded",
        serving["rss_mb"],
        serving["embedder_only_mb"],
        unit="MB",
        baseline_name="same process, embedder only",
        goal=f"≤ {RSS_GOAL_MB:g} MB",
        met=serving["rss_mb"] <= RSS_GOAL_MB,
        note="IVB corpus store; after one extractive and one local answer",
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    from assistant.answer import AnswerPipeline
    from assistant.service import get_service
    from benchmarks.baseline import NaiveRetriever

    qs = questions(args.queries)
    result: dict[str, Any] = {
        "note": "texts are real statute chunks; vectors beyond the sample are synthetic "
        "noisy copies of real ones (see the module docstring)",
        "sizes": [],
    }
    with tempfile.TemporaryDirectory(prefix="ivb-bench-query-") as tmp:
        settings = bench_settings(Path(tmp) / "store")
        embedder, load_s = load_embedder(settings)
        result["embedder"] = {
            "precision": embedder.precision,
            "load_s": round(load_s, 2),
            "rss_mb_after_load": round(rss_mb(), 1),
        }
        service = get_service(settings)
        service.retriever._embedder = embedder  # the instance loaded above (same settings)
        pipeline = AnswerPipeline(service)
        naive = NaiveRetriever(
            collection=service.store.vectors.collection, embeddings=embedder, k=5
        )
        filler = StoreFiller(service.store, settings, embedder, args.sample_vectors, args.seed)
        result["sample_vectors"] = args.sample_vectors
        result["sample_embed_s"] = round(filler.sample_embed_s, 2)
        result["sizes"], figures = _measure_sizes(service, pipeline, naive, filler, args, qs)
        if args.llm:
            llm = _llm_or_error(
                settings, service.retriever, qs[: args.llm_questions], args.max_tokens
            )
            result["llm"] = llm
            figures += _llm_figures(llm)
        result["rss_mb_benchmark_process"] = round(rss_mb(), 1)
        result["peak_rss_mb"] = round(peak_rss_mb(), 1)
        if args.llm and "error" not in result.get("llm", {}):
            print("\nmemory of a fresh serving process with both models ...", flush=True)
            serving = serving_memory()
            result["serving_process"] = serving
            figures.append(_serving_figure(serving))
        service.store.close()
    result["figures"] = figures
    return result


def details(result: dict[str, Any]) -> dict[str, Any]:
    """The per-size table and notes (printed here, and put in summary.md by run.py)."""
    headers = [
        "chunks",
        "hybrid p50 ms",
        "hybrid p95 ms",
        "embed/search/fuse p50 ms",
        "naive dense p50 ms",
        "naive dense p95 ms",
        "answer p50 ms",
        "answer p95 ms",
        "refused",
    ]
    rows = []
    for r in result["sizes"]:
        parts = r["hybrid_parts_p50_ms"]
        rows.append(
            [
                r["chunks"],
                r["hybrid"]["p50_ms"],
                r["hybrid"]["p95_ms"],
                f"{parts['embed_query']}/{parts['search']}/{parts['fuse']}",
                r["naive_dense"]["p50_ms"],
                r["naive_dense"]["p95_ms"],
                r["extractive_answer"]["p50_ms"],
                r["extractive_answer"]["p95_ms"],
                f"{r['extractive_refused']}/{r['extractive_answer']['n']}",
            ]
        )
    notes = ["Store contents: " + result["note"] + "; answer = extractive `AnswerPipeline.ask`."]
    llm = result.get("llm")
    if llm and "error" not in llm:
        o, b = llm["ours"], llm["llama_cpp"]
        notes.append(
            f"LLM {llm['model']} ({llm['threads']} threads, loaded in {llm['load_s']} s, "
            f"{llm['max_tokens']} tokens at most, KV cache reset before each call, "
            f"≈{o['prompt_tokens_mean']:.0f} prompt tokens): time to first token p50 "
            f"{o['ttft_p50_s']} s (llama.cpp direct {b['ttft_p50_s']} s), "
            f"{o['tokens_per_s']} tokens/s (direct {b['tokens_per_s']})."
        )
    elif llm:
        notes.append(f"LLM not measured: {llm['error']}")
    mem = {k: v for k, v in result.items() if k.startswith("rss_mb")}
    notes.append("Memory (MB): " + ", ".join(f"{k} {v}" for k, v in mem.items()) + ".")
    return {"headers": headers, "rows": rows, "notes": notes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help="store sizes in chunks (default 1000; 10k and 100k are opt-in)",
    )
    parser.add_argument("--queries", type=int, default=None, help="timed searches per size")
    parser.add_argument(
        "--answers", type=int, default=None, help="timed extractive answers per size"
    )
    parser.add_argument(
        "--sample-vectors",
        type=int,
        default=None,
        help="chunks embedded for real (the rest get synthetic copies)",
    )
    parser.add_argument("--no-llm", dest="llm", action="store_false", help="skip the LLM")
    parser.add_argument("--llm-questions", type=int, default=None)
    parser.add_argument(
        "--max-tokens", type=int, default=None, help="tokens generated per LLM call (default 128)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = args.sizes or ([300] if quick else [1000])
    args.queries = args.queries or (6 if quick else 40)
    args.answers = args.answers or (3 if quick else 20)
    args.sample_vectors = args.sample_vectors or (16 if quick else 200)
    args.llm_questions = args.llm_questions or (1 if quick else 3)
    args.max_tokens = args.max_tokens or (16 if quick else 128)
    result = run(args)
    result["quick"] = quick
    print_and_write(NAME, result, details(result), "query latency and LLM: ours vs baseline", args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Embedding options: fp32, int8 dynamic quantisation and ONNX Runtime, speed and quality.

For each option: passages/s on ~200 statute chunks (the texts ingest embeds), ms per query,
and FAQ-dev retrieval quality (doc-level recall@5 and MRR, dense mode, the FAQ corpus
ingested per option into a temp store). The baseline is fp32 (the unquantised model).
Each option runs in its own process, so its load time and memory are its own.

Options: ``fp32`` and ``int8`` (assistant.embeddings.Embedder at that precision),
``onnx`` and ``onnx-int8`` (the transformer run by ONNX Runtime, fp32 or int8 dynamic
quantisation); how each encoder is built, and the two ONNX routes, is in
benchmarks/embedding_encoders.py. If neither ONNX route works, the option is reported as
not measured, with the reason.

    python benchmarks/embedding_options.py [--passages 200] [--options fp32,int8,onnx,onnx-int8]

Rule for the default: the fastest option whose recall@5 and MRR are each at most 1 point
(0.01) below fp32's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    SEED,
    Timer,
    add_common_args,
    bench_settings,
    documents_with_chunks,
    evaluate_retrieval,
    faq_data,
    figure,
    fmt,
    gold_items,
    latency_stats,
    print_and_write,
    rss_mb,
    statute_sample,
)
from benchmarks.embedding_encoders import build_encoder

NAME = "embedding_options"
OPTIONS = ("fp32", "int8", "onnx", "onnx-int8")
REFERENCE = "fp32"
MAX_DROP = 0.01  # one point of recall@5 / MRR


# -- one option, in its own process ---------------------------------------------------------------
def passage_texts(n: int, seed: int) -> list[str]:
    """n statute chunk texts as ingest embeds them, at most 4 per statute."""
    from assistant.embeddings import embedding_text

    settings = bench_settings(Path(tempfile.gettempdir()) / "unused")
    texts: list[str] = []
    for path in statute_sample(max(10, n), seed=seed, max_bytes=64 * 1024):
        for _doc, chunks in documents_with_chunks([path], settings):
            texts += [embedding_text(c.title, c.section, c.text) for c in chunks[:4]]
        if len(texts) >= n:
            break
    return texts[:n]


def measure_option(option: str, args: argparse.Namespace) -> dict[str, Any]:
    from assistant.retrieval import Retriever
    from assistant.store import Store
    from ingest.pipeline import ingest_paths

    work = Path(args.work)
    settings = bench_settings(work / f"store-{option}")
    texts = passage_texts(args.passages, args.seed)
    items = gold_items(Path(args.dataset))
    result: dict[str, Any] = {"option": option, "passages": len(texts)}
    with Timer() as load:
        encoder, notes = build_encoder(option, settings, Path(args.onnx_cache))
        encoder.encode_documents(["Opwarmen.", "Artikel 1 van deze wet."])
        encoder.encode_queries(["Wat mag de burgemeester?"])
    result.update(notes)
    result["load_s"] = round(load.seconds, 2)
    result["rss_mb_after_load"] = round(rss_mb(), 1)
    print(f"[{option}] loaded in {load.seconds:.1f} s ({notes.get('route', 'torch')})", flush=True)

    with Timer() as t:
        vectors = encoder.encode_documents(texts)
    np.save(work / f"vectors-{option}.npy", vectors)
    result["passages_s"] = round(t.seconds, 2)
    result["passages_per_s"] = round(len(texts) / t.seconds, 2)

    seconds = []
    for item in items[: args.query_sample]:
        start = time.perf_counter()
        encoder.encode_queries([item.question])
        seconds.append(time.perf_counter() - start)
    result["query"] = latency_stats(seconds)

    report = ingest_paths([Path(args.corpus)], settings, embedder=encoder)
    result["faq_chunks"] = report.chunks_written
    result["faq_ingest_s"] = round(report.seconds, 2)
    retriever = Retriever(settings, Store(settings), encoder)
    quality = evaluate_retrieval(
        lambda q: [p.chunk.doc_id for p in retriever.search(q, k=10, mode="dense")], items
    )
    result.update(quality)
    result["rss_mb_end"] = round(rss_mb(), 1)
    print(
        f"[{option}] {result['passages_per_s']} passages/s, recall@5 {quality['recall@5']:.3f}, "
        f"MRR {quality['mrr']:.3f}",
        flush=True,
    )
    return result


def worker(args: argparse.Namespace) -> int:
    try:
        result = measure_option(args.worker, args)
    except Exception as exc:
        traceback.print_exc()
        result = {"option": args.worker, "error": f"{type(exc).__name__}: {exc}"}
    Path(args.result).write_text(json.dumps(result, indent=2, default=str))
    return 0


# -- all options ---------------------------------------------------------------------------------
def choose_default(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest option whose recall@5 and MRR are at most 1 point below the reference
    (fp32, or the best-scoring option when fp32 was not measured)."""
    ok = [r for r in results if "error" not in r]
    if not ok:
        return {"choice": None, "reason": "no option could be measured"}
    ref = next((r for r in ok if r["option"] == REFERENCE), None) or max(
        ok, key=lambda r: (r["recall@5"], r["mrr"])
    )
    allowed = [
        r
        for r in ok
        if r["recall@5"] >= ref["recall@5"] - MAX_DROP - 1e-9
        and r["mrr"] >= ref["mrr"] - MAX_DROP - 1e-9
    ]
    best = max(allowed, key=lambda r: r["passages_per_s"])
    dropped = sorted(r["option"] for r in ok if r not in allowed)
    return {
        "choice": best["option"],
        "reference": ref["option"],
        "rule": "fastest option with recall@5 and MRR each at most 1 point below the reference",
        "excluded_for_quality": dropped,
        "speedup_vs_reference": round(best["passages_per_s"] / ref["passages_per_s"], 2),
    }


def _worker_command(
    option: str, args: argparse.Namespace, work: Path, data: tuple[Path, Path], onnx_cache: Path
) -> list[str]:
    """The command line that measures one option in a child process (this script with
    ``--worker``), writing ``<work>/result-<option>.json``.

    Args:
        data: the FAQ corpus folder and its dataset (from `faq_data`).
    """
    corpus, dataset = data
    return [
        sys.executable,
        __file__,
        "--worker",
        option,
        "--work",
        str(work),
        "--result",
        str(work / f"result-{option}.json"),
        "--corpus",
        str(corpus),
        "--dataset",
        str(dataset),
        "--passages",
        str(args.passages),
        "--seed",
        str(args.seed),
        "--query-sample",
        str(args.query_sample),
        "--onnx-cache",
        str(onnx_cache),
    ]


def _run_worker(option: str, cmd: list[str], result_file: Path) -> dict[str, Any]:
    """Run one option's child process: its result, or {"option", "error"} when it wrote
    none; with "wall_s" (seconds the child took)."""
    print(f"\n== {option} ==", flush=True)
    with Timer() as t:
        proc = subprocess.run(cmd, check=False, env=os.environ.copy())
    if result_file.exists():
        result = json.loads(result_file.read_text())
    else:
        result = {"option": option, "error": f"worker exited with {proc.returncode}"}
    result["wall_s"] = round(t.seconds, 1)
    return result


def _add_cosines(results: list[dict[str, Any]], work: Path) -> None:
    """Put "cosine_to_fp32" {"mean", "min"} (per passage, against the reference's vector)
    in each measured result whose vectors were saved."""
    ref_file = work / f"vectors-{REFERENCE}.npy"
    if ref_file.exists():
        ref = np.load(ref_file)
        for r in results:
            f = work / f"vectors-{r['option']}.npy"
            if "error" not in r and f.exists():
                cos = (np.load(f) * ref).sum(axis=1)
                r["cosine_to_fp32"] = {
                    "mean": round(float(cos.mean()), 4),
                    "min": round(float(cos.min()), 4),
                }


def _option_figures(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each option's passages/s, FAQ recall@5 and MRR against fp32 (quality held to at
    most 1 point below it); one figure saying why for an option not measured."""
    figures = []
    base = next((r for r in results if r["option"] == REFERENCE and "error" not in r), None)
    for r in results:
        if "error" in r:
            figures.append(figure(f"{r['option']}: not measured", None, note=r["error"]))
            continue
        b = base if base is not r else None
        figures.append(
            figure(
                f"{r['option']}: passages/s",
                r["passages_per_s"],
                b and b["passages_per_s"],
                baseline_name=REFERENCE if b else "",
            )
        )
        for key in ("recall@5", "mrr"):
            drop_ok = b is None or r[key] >= b[key] - MAX_DROP - 1e-9
            figures.append(
                figure(
                    f"{r['option']}: FAQ {key} (dense)",
                    round(r[key], 4),
                    b and round(b[key], 4),
                    baseline_name=REFERENCE if b else "",
                    goal="≥ fp32 − 0.01" if b else "",
                    met=drop_ok if b else None,
                )
            )
    return figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    from assistant.settings import Settings

    options = [o.strip() for o in args.options.split(",") if o.strip()]
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise SystemExit(f"unknown option(s) {sorted(unknown)}; choose from {OPTIONS}")
    onnx_cache = Path(args.onnx_cache or Settings().model_cache_dir / "onnx-export")
    results = []
    with tempfile.TemporaryDirectory(prefix="ivb-bench-embopt-") as tmp:
        work = Path(tmp)
        data = faq_data(work, limit=args.faq_limit)
        for option in options:
            cmd = _worker_command(option, args, work, data, onnx_cache)
            results.append(_run_worker(option, cmd, work / f"result-{option}.json"))
        _add_cosines(results, work)
    return {
        "options": results,
        "decision": choose_default(results),
        "figures": _option_figures(results),
        "passages": args.passages,
        "faq_limit": args.faq_limit,
    }


def details(result: dict[str, Any]) -> dict[str, Any]:
    """The per-option table and notes (printed here, and put in summary.md by run.py)."""
    headers = [
        "option",
        "load s",
        "passages/s",
        "query p50 ms",
        "recall@5",
        "MRR",
        "cos vs fp32 mean/min",
        "RSS MB",
        "note",
    ]
    rows = []
    for r in result["options"]:
        if "error" in r:
            rows.append([r["option"], "", "", "", "", "", "", "", "not measured: " + r["error"]])
            continue
        cos = r.get("cosine_to_fp32") or {}
        note = r.get("route", "torch")
        made = [f"{k} {r[k]}" for k in ("export_s", "quantize_s") if k in r]
        note += f" ({', '.join(made)})" if made else ""
        rows.append(
            [
                r["option"],
                r["load_s"],
                r["passages_per_s"],
                r["query"]["p50_ms"],
                fmt(r["recall@5"]),
                fmt(r["mrr"]),
                f"{cos.get('mean', '–')}/{cos.get('min', '–')}",
                r["rss_mb_after_load"],
                note,
            ]
        )
    notes = []
    for r in result["options"]:
        if r.get("native_onnx_unavailable"):
            notes.append(f"ONNX: {r['native_onnx_unavailable']}.")
            break
    d = result["decision"]
    if d["choice"] is None:
        notes.append(f"Default by the rule: none ({d['reason']}).")
        return {"headers": headers, "rows": rows, "notes": notes}
    notes.append(
        f"Default by the rule ({d.get('rule', '')}): **{d['choice']}** "
        f"(reference {d.get('reference')}; {d.get('speedup_vs_reference')}x its speed; "
        f"excluded for quality: {', '.join(d.get('excluded_for_quality') or []) or 'none'})."
    )
    return {"headers": headers, "rows": rows, "notes": notes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--options", default=",".join(OPTIONS))
    parser.add_argument("--passages", type=int, default=None, help="statute chunks (200)")
    parser.add_argument(
        "--faq-limit",
        type=int,
        default=None,
        help="only the first N FAQ documents and questions (default all)",
    )
    parser.add_argument(
        "--query-sample", type=int, default=20, help="questions timed one by one for ms/query"
    )
    parser.add_argument(
        "--onnx-cache",
        default=None,
        help="folder for the ONNX export (default <model_cache_dir>/onnx-export)",
    )
    # internal: one option in a child process
    for name in ("--worker", "--work", "--result", "--corpus", "--dataset"):
        parser.add_argument(name, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.quick:
        args.passages = args.passages or 12
        args.faq_limit = args.faq_limit or 8
        args.query_sample = min(args.query_sample, 5)
    args.passages = args.passages or 200
    result = run(args)
    result["quick"] = args.quick
    result["seed"] = args.seed or SEED
    print_and_write(NAME, result, details(result), "embedding options: each option vs fp32", args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

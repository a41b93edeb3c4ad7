"""Embedding options: fp32, int8 dynamic quantisation and ONNX Runtime, speed and quality.

For each option: passages/s on ~200 statute chunks (the texts ingest embeds), ms per query,
and FAQ-dev retrieval quality (doc-level recall@5 and MRR, dense mode, the FAQ corpus
ingested per option into a temp store). The baseline is fp32 (the unquantised model).
Each option runs in its own process, so its load time and memory are its own.

Options:
- ``fp32``, ``int8``: assistant.embeddings.Embedder with that embedding_precision.
- ``onnx``, ``onnx-int8``: the same sentence-transformers model with its transformer run
  by ONNX Runtime (fp32, or int8 dynamic quantisation of the ONNX graph). First tried:
  sentence-transformers' own ``backend="onnx"`` (needs optimum-onnx). When that cannot be
  imported, the transformer is exported here with ``torch.onnx.export`` and quantised
  with ``onnxruntime.quantization`` (both need the ``onnx`` package); the export is cached
  under ``<model_cache_dir>/onnx-export/``, outside the verified model folder. If neither
  works, the option is reported as not measured, with the reason.

    python benchmarks/embedding_options.py [--passages 200] [--options fp32,int8,onnx,onnx-int8]

Rule for the default: the fastest option whose recall@5 and MRR are each at most 1 point
(0.01) below fp32's.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
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

NAME = "embedding_options"
OPTIONS = ("fp32", "int8", "onnx", "onnx-int8")
REFERENCE = "fp32"
MAX_DROP = 0.01  # one point of recall@5 / MRR


# -- encoders -----------------------------------------------------------------------------------
class SentenceTransformerEncoder:
    """encode_documents / encode_queries with the same prompts and normalisation as
    assistant.embeddings.Embedder, over any SentenceTransformer object (here: ONNX)."""

    def __init__(self, model: Any, batch_size: int, precision: str) -> None:
        self.model = model
        self.batch_size = batch_size
        self.precision = precision
        prompts = getattr(model, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._doc_prompt = "document" if "document" in prompts else None

    def _encode(self, texts: list[str], prompt: str | None) -> np.ndarray:
        return self.model.encode(
            texts,
            prompt_name=prompt,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._doc_prompt)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._query_prompt)


def onnx_unavailable_reason() -> str | None:
    """Why sentence-transformers' own ONNX backend cannot load here (None: it can)."""
    if importlib.util.find_spec("optimum") is None:
        from importlib.metadata import version

        return (
            "sentence-transformers backend='onnx' needs optimum-onnx, which is not installed; "
            "optimum-onnx 0.1.0 (the newest release in 2026) requires transformers<4.58 and "
            f"optimum~=2.1, and this project uses transformers {version('transformers')}, so "
            "it cannot be installed beside it"
        )
    try:
        importlib.import_module("optimum.onnxruntime")
    except Exception as exc:
        return f"optimum.onnxruntime does not import: {exc}"
    return None


def _mirror(model_dir: Path, dest: Path) -> Path:
    """A folder of symlinks to the model, so exports land outside the verified folder."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in model_dir.iterdir():
        link = dest / entry.name
        if not link.exists():
            link.symlink_to(entry.resolve())
    return dest


def native_onnx(path: str, cache: Path, quantized: bool) -> Any:
    """sentence-transformers' ONNX backend, exported on load (offline, local folder)."""
    from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

    folder = _mirror(Path(path), cache / "st-native")
    model = SentenceTransformer(str(folder), backend="onnx", local_files_only=True)
    if not quantized:
        return model
    target = folder / "onnx" / "model_qint8_avx2.onnx"
    if not target.exists():
        export_dynamic_quantized_onnx_model(model, "avx2", str(folder))
    return SentenceTransformer(
        str(folder),
        backend="onnx",
        local_files_only=True,
        model_kwargs={"file_name": "onnx/model_qint8_avx2.onnx"},
    )


class _MaskedEncoder:
    """The transformer as a function of (input_ids, attention_mask) for torch.onnx.export.

    Gemma-3-style models build their attention masks with vmap, which the exporter cannot
    trace; they accept ready masks per layer type instead, so those are built here from
    plain tensor operations (bidirectional or causal, with the sliding window)."""

    @staticmethod
    def build(hf_model: Any) -> Any:
        import torch

        config = hf_model.config
        per_layer_type = bool(getattr(config, "layer_types", None)) and hasattr(
            config, "sliding_window"
        )

        class Wrapper(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = hf_model

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                if not per_layer_type:
                    out = self.inner(input_ids=input_ids, attention_mask=attention_mask)
                    return out.last_hidden_state
                n = input_ids.shape[1]
                pos = torch.arange(n)
                delta = pos[:, None] - pos[None, :]  # query minus key position
                keys = attention_mask[:, None, None, :].bool()
                if getattr(config, "use_bidirectional_attention", False):
                    full = keys
                    window = delta.abs() < config.sliding_window
                else:
                    full = keys & (delta >= 0)[None, None]
                    window = (delta >= 0) & (delta < config.sliding_window)
                sliding = full & window[None, None]
                neg = torch.finfo(torch.float32).min
                zeros = torch.zeros(input_ids.shape[0], 1, n, n)
                masks = {
                    "full_attention": zeros.masked_fill(~full, neg),
                    "sliding_attention": zeros.masked_fill(~sliding, neg),
                }
                out = self.inner(input_ids=input_ids, attention_mask=masks, use_cache=False)
                return out.last_hidden_state

        return Wrapper().eval()


def _export_key(path: str) -> str:
    import torch
    import transformers

    model_dir = Path(path)
    stats = [
        (p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in sorted(model_dir.glob("*"))
    ]
    raw = json.dumps([str(model_dir.resolve()), stats, torch.__version__, transformers.__version__])
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def direct_onnx_files(path: str, cache: Path, quantized: bool) -> tuple[Path, dict[str, float]]:
    """Export (once) the transformer to ONNX and, for int8, quantise it; cached files."""
    import torch
    from sentence_transformers import SentenceTransformer

    folder = cache / f"{Path(path).name}-{_export_key(path)}"
    folder.mkdir(parents=True, exist_ok=True)
    fp32, int8 = folder / "model.onnx", folder / "model_qint8.onnx"
    seconds: dict[str, float] = {}
    if not fp32.exists():
        with Timer() as t:
            model = SentenceTransformer(path, device="cpu", local_files_only=True)
            wrapper = _MaskedEncoder.build(model[0].auto_model)
            sample = model.tokenize(["Artikel 1. Deze wet.", "De burgemeester is bevoegd."])
            tmp = fp32.with_suffix(".onnx.tmp")
            with torch.no_grad():
                torch.onnx.export(
                    wrapper,
                    (sample["input_ids"], sample["attention_mask"]),
                    str(tmp),
                    dynamo=False,
                    input_names=["input_ids", "attention_mask"],
                    output_names=["last_hidden_state"],
                    dynamic_axes={
                        "input_ids": {0: "batch", 1: "sequence"},
                        "attention_mask": {0: "batch", 1: "sequence"},
                        "last_hidden_state": {0: "batch", 1: "sequence"},
                    },
                    opset_version=17,
                )
            tmp.replace(fp32)
            del model, wrapper
            gc.collect()
        seconds["export_s"] = round(t.seconds, 1)
    if quantized and not int8.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with Timer() as t:
            tmp = int8.with_suffix(".onnx.tmp")
            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8)
            tmp.replace(int8)
        seconds["quantize_s"] = round(t.seconds, 1)
    return (int8 if quantized else fp32), seconds


def direct_onnx(path: str, onnx_file: Path, threads: int, max_seq_length: int) -> Any:
    """The sentence-transformers model with its transformer's forward run by ONNX Runtime
    (pooling and dense layers stay in torch: they are a few small matrix products)."""
    import onnxruntime as ort
    import torch
    from sentence_transformers import SentenceTransformer

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
    model = SentenceTransformer(path, device="cpu", local_files_only=True)
    model.max_seq_length = max_seq_length
    transformer = model[0]
    output_name = getattr(transformer, "module_output_name", "token_embeddings")

    def forward(features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        out = session.run(
            None,
            {
                "input_ids": features["input_ids"].numpy().astype(np.int64),
                "attention_mask": features["attention_mask"].numpy().astype(np.int64),
            },
        )[0]
        features[output_name] = torch.from_numpy(out)
        return features

    transformer.forward = forward
    hf_model = transformer.auto_model
    for name, _child in list(hf_model.named_children()):  # free the torch weights
        setattr(hf_model, name, torch.nn.Identity())
    # sentence-transformers reads the model's device from its first parameter.
    hf_model.register_parameter("onnx_placeholder", torch.nn.Parameter(torch.zeros(1)))
    gc.collect()
    return model


def build_encoder(option: str, settings: Any, cache: Path) -> tuple[Any, dict[str, Any]]:
    """The encoder of an option and notes on how it was made."""
    if option in ("fp32", "int8"):
        from assistant.embeddings import Embedder

        return Embedder(settings.model_copy(update={"embedding_precision": option})), {}
    from assistant.model_fetch import embedding_model_path

    path = embedding_model_path(settings)
    quantized = option == "onnx-int8"
    notes: dict[str, Any] = {}
    reason = onnx_unavailable_reason()
    if reason is None:
        try:
            model = native_onnx(path, cache, quantized)
            model.max_seq_length = settings.embedding_max_seq_length
            notes["route"] = "sentence-transformers backend=onnx"
            return SentenceTransformerEncoder(model, settings.embedding_batch_size, option), notes
        except Exception as exc:
            reason = f"sentence-transformers backend='onnx' failed: {exc}"
    notes["native_onnx_unavailable"] = reason
    if importlib.util.find_spec("onnx") is None:
        raise RuntimeError(
            f"{reason}. The fallback (torch.onnx.export + onnxruntime.quantization) needs "
            "the 'onnx' package, which is not installed: `pip install -e '.[bench]'` to measure it"
        )
    onnx_file, seconds = direct_onnx_files(path, cache, quantized)
    notes.update(seconds)
    notes["route"] = "torch.onnx.export + onnxruntime"
    notes["onnx_file"] = str(onnx_file)
    model = direct_onnx(path, onnx_file, settings.llm_threads, settings.embedding_max_seq_length)
    return SentenceTransformerEncoder(model, settings.embedding_batch_size, option), notes


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
        corpus, dataset = faq_data(work, limit=args.faq_limit)
        for option in options:
            result_file = work / f"result-{option}.json"
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                option,
                "--work",
                str(work),
                "--result",
                str(result_file),
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
            print(f"\n== {option} ==", flush=True)
            with Timer() as t:
                proc = subprocess.run(cmd, check=False, env=os.environ.copy())
            if result_file.exists():
                result = json.loads(result_file.read_text())
            else:
                result = {"option": option, "error": f"worker exited with {proc.returncode}"}
            result["wall_s"] = round(t.seconds, 1)
            results.append(result)
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
    decision = choose_default(results)
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
    return {
        "options": results,
        "decision": decision,
        "figures": figures,
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

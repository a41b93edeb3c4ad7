"""The encoder of each embedding option, with `encode_documents` / `encode_queries`.

- ``fp32``, ``int8``: assistant.embeddings.Embedder with that embedding_precision.
- ``onnx``, ``onnx-int8``: the same sentence-transformers model with its transformer run
  by ONNX Runtime (fp32, or int8 dynamic quantisation of the ONNX graph). First tried:
  sentence-transformers' own ``backend="onnx"`` (needs optimum-onnx). When that cannot be
  imported, the transformer is exported here with ``torch.onnx.export`` and quantised
  with ``onnxruntime.quantization`` (both need the ``onnx`` package); the export is cached
  under ``<model_cache_dir>/onnx-export/``, outside the verified model folder.

Used by embedding_options.py, which measures them.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import Timer


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

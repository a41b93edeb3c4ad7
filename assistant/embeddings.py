"""The embedding model, loaded once per process, behind LangChain's Embeddings interface."""

from __future__ import annotations

import gc
import hashlib
import json
import threading
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.settings import Settings

SENTENCE_CACHE = 8192  # sentence vectors kept per process (768-dim fp32: ~25 MB)


class Embedder(Embeddings):
    """Sentence-transformers model with asymmetric query/document prompts.

    EmbeddingGemma expects ``prompt_name="query"`` for questions and ``"document"`` for
    passages; models without those prompts are used plainly.
    """

    def __init__(self, settings: Settings, device: str | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        from assistant.model_fetch import embedding_model_path

        self.name = settings.embedding_model
        self.precision = settings.embedding_precision
        self.batch_size = settings.embedding_batch_size
        path = embedding_model_path(settings)
        torch.set_num_threads(max(1, settings.llm_threads))
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        model = SentenceTransformer(path, device=device or "cpu", local_files_only=True)
        model.max_seq_length = settings.embedding_max_seq_length
        if self.precision == "int8" and model.device.type == "cpu":
            warnings.filterwarnings("ignore", message=".*quantiz.*")
            # Dynamic int8 quantisation of the linear layers: ~2.5x faster on CPU,
            # same rankings on the FAQ dev set (see benchmarks/embedding_options.py).
            # In place: a copy would keep the fp32 weights (~2.5 GB) alive beside it.
            model = torch.ao.quantization.quantize_dynamic(
                model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
            )
            gc.collect()
        self.model = model
        prompts = getattr(model, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._doc_prompt = "document" if "document" in prompts else None
        self._lock = threading.Lock()
        self.dimension = int(model.get_embedding_dimension() or 0)
        # Sentence vectors by text (encode_sentences); fp32 only: an int8 vector depends on
        # the batch it is embedded in, so a cached one would differ from a fresh one.
        self._sentences: OrderedDict[str, np.ndarray] = OrderedDict()
        self._sentences_lock = threading.Lock()

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors for passages."""
        return self._encode(texts, self._doc_prompt)

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        """`encode_documents` for the sentences of retrieved passages, remembered by text
        (the last SENTENCE_CACHE texts, ~3 kB each): the same pages answer many questions,
        and choosing sentences embeds every sentence of the top passages.

        Returns:
            (len(texts), dimension) float32, L2-normalised, equal to `encode_documents`.
        """
        if self.precision != "fp32" or not texts:
            return self.encode_documents(texts)
        with self._sentences_lock:
            cached = {t: self._sentences[t] for t in texts if t in self._sentences}
            for t in cached:
                self._sentences.move_to_end(t)
        todo = [t for t in dict.fromkeys(texts) if t not in cached]
        fresh = dict(zip(todo, self.encode_documents(todo), strict=True)) if todo else {}
        with self._sentences_lock:
            self._sentences.update(fresh)
            while len(self._sentences) > SENTENCE_CACHE:
                self._sentences.popitem(last=False)
        vectors = cached | fresh
        return np.stack([vectors[t] for t in texts])

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors for questions."""
        return self._encode(texts, self._query_prompt)

    def _encode(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                texts,
                prompt_name=prompt_name,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.astype(np.float32)

    # LangChain Embeddings interface
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()


_lock = threading.Lock()


_instances: dict[tuple, Embedder] = {}


def get_embedder(settings: Settings) -> Embedder:
    """The process-wide embedder for these settings, loaded on first use."""
    key = (
        settings.embedding_model,
        settings.embedding_precision,
        settings.embedding_max_seq_length,
        str(settings.model_cache_dir),
    )
    with _lock:
        if key not in _instances:
            _instances[key] = Embedder(settings)
        return _instances[key]


def embedding_identity(settings: Settings) -> str:
    """What decides a passage's vector besides its text: the model (for the packaged one,
    its verified weights), the precision it runs at and where it truncates."""
    from assistant.model_files import REGISTRY

    model = REGISTRY.get(settings.embedding_model)
    if model is not None and model.kind == "embedding":
        weights = hashlib.sha256(" ".join(f.sha256 for f in model.files).encode())
        name = f"{model.name}@{weights.hexdigest()}"
    else:
        path = Path(settings.embedding_model).expanduser()
        name = str(path.resolve()) if path.exists() else settings.embedding_model
    return json.dumps([name, settings.embedding_precision, settings.embedding_max_seq_length])


def embedding_key(identity: str, embedded_text: str) -> str:
    """The key under which a passage vector is stored and reused: a hash of the model
    identity (see :func:`embedding_identity`) and the exact text that was embedded.

    Args:
        identity: ``embedding_identity(settings)``.
        embedded_text: the text given to the model (``embedding_text(...)``).
    """
    return hashlib.sha256(f"{identity}\n{embedded_text}".encode()).hexdigest()


def embedding_text(title: str, section: str, text: str) -> str:
    """What is embedded for a chunk: its heading path gives the passage its context."""
    head = section or title
    return f"{head}\n{text}" if head and head not in text[: len(head) + 5] else text

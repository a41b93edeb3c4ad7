"""An embedder that remembers every vector on disk, for benchmarks that build many stores.

A configuration grid (chunk sizes × precisions) embeds the same texts again and again: a
statute article shorter than every chunk size is the same chunk in each store. This
wrapper keys each vector by the embedding identity (model, precision, truncation), the
prompt (query or document) and the exact text, in one SQLite file, and loads the real
model only for texts it has not seen. Our own ~40 lines instead of a library: the
vectors must be keyed exactly as ingest keys them (``assistant.embeddings``).
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embeddings import embedding_identity
from assistant.settings import Settings


class CachedEmbedder:
    """The embedding model for one settings object, behind a disk cache.

    Args:
        settings: model, precision and truncation (the store folder is not used).
        cache: the SQLite file (created when missing).
    """

    def __init__(self, settings: Settings, cache: Path) -> None:
        self.settings = settings
        self.identity = embedding_identity(settings)
        cache.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(cache)
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, v BLOB)")
        self._model: Any | None = None
        self.computed = 0

    @property
    def model(self) -> Any:
        if self._model is None:
            from assistant.embeddings import Embedder

            self._model = Embedder(self.settings)
        return self._model

    @property
    def dimension(self) -> int:
        return self.model.dimension

    def release(self) -> None:
        """Drop the loaded model (the cache stays)."""
        self._model = None

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors for passages, shape (len(texts), dim)."""
        return self._encode(texts, "document")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors for questions, shape (len(texts), dim)."""
        return self._encode(texts, "query")

    def _encode(self, texts: list[str], kind: str) -> np.ndarray:
        keys = [hashlib.sha256(f"{self.identity}\n{kind}\n{t}".encode()).hexdigest() for t in texts]
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            rows = self.db.execute(
                f"SELECT key, v FROM vectors WHERE key IN ({','.join('?' * len(part))})", part
            ).fetchall()
            found.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        todo = list(dict.fromkeys(k for k in keys if k not in found))
        if todo:
            text_of = dict(zip(keys, texts, strict=True))
            batch = [text_of[k] for k in todo]
            model = self.model
            vectors = (
                model.encode_queries(batch) if kind == "query" else model.encode_documents(batch)
            )
            self.computed += len(todo)
            with self.db:
                self.db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                    [
                        (k, v.astype(np.float32).tobytes())
                        for k, v in zip(todo, vectors, strict=True)
                    ],
                )
            found.update(zip(todo, vectors, strict=True))
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    # LangChain-style names, as the rest of the code base may call them
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()

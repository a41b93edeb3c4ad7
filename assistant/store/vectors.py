"""The vector index in Chroma: one vector per stored chunk, with the chunk's filter values.

Chroma runs embedded (a folder in the store) or as a server (``IVB_CHROMA_URL``, for
several app hosts). It holds vectors of current and not-yet-collected versions alike;
which are current is the catalog's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant import privacy
from assistant.settings import Settings
from assistant.store.filters import Filters, filter_values
from assistant.types import Chunk

privacy.apply()

_CHROMA_OPS = {"in": "$in", "eq": "$eq", "gte": "$gte", "lte": "$lte"}


def chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    """The filters as a Chroma ``where`` clause (None: no filter)."""
    clauses = [
        {rule.field: {_CHROMA_OPS[rule.op]: rule.operand}}
        for rule in (filters.conditions() if filters else [])
    ]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
    """What Chroma stores beside a chunk's vector: its flat metadata and filter values."""
    return {**chunk.to_metadata(), **filter_values(chunk)}


class ChromaVectors:
    """A Chroma collection with cosine distance (implements ``base.VectorIndex``).

    Args:
        settings: ``chroma_url`` (a server) or ``store_dir`` (embedded), ``collection``.
    """

    def __init__(self, settings: Settings) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        url = settings.chroma_url
        if url:
            parsed = urlparse(url)
            self.client = chromadb.HttpClient(
                host=parsed.hostname or "localhost",
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
        else:
            self.client = chromadb.PersistentClient(
                path=str(settings.store_dir / "chroma"), settings=chroma_settings
            )
        self.collection = self.client.get_or_create_collection(
            name=settings.collection,
            metadata={"hnsw:space": "cosine"},
            embedding_function=None,
        )

    def _max_batch(self) -> int:
        try:
            return int(self.client.get_max_batch_size())
        except Exception:
            return 500

    def upsert(
        self, chunks: Sequence[Chunk], vectors: np.ndarray | Sequence[Sequence[float]]
    ) -> None:
        """Store one vector per chunk (replacing any under the same id)."""
        batch = max(1, min(1000, self._max_batch()))
        vecs = np.asarray(vectors, dtype=np.float32)
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            self.collection.upsert(
                ids=[c.id for c in part],
                embeddings=vecs[start : start + batch],
                documents=[c.text for c in part],
                metadatas=[chunk_metadata(c) for c in part],
            )

    def update_metadata(self, chunks: Sequence[Chunk]) -> None:
        """Store new metadata of these chunks; their vectors stay."""
        if chunks:
            self.collection.update(
                ids=[c.id for c in chunks], metadatas=[chunk_metadata(c) for c in chunks]
            )

    def delete(self, ids: Sequence[str]) -> None:
        """Delete the vectors of these chunk ids (unknown ids are ignored)."""
        ids = list(ids)
        for start in range(0, len(ids), 1000):
            self.collection.delete(ids=ids[start : start + 1000])

    def query(
        self, vector: Sequence[float], n: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """The ``n`` nearest chunk ids that pass the filters, with cosine similarity, best
        first (fewer when the index holds fewer)."""
        count = self.collection.count()
        if count == 0:
            return []
        res = self.collection.query(
            query_embeddings=[list(map(float, vector))],
            n_results=min(n, count),
            where=chroma_where(filters),
            include=["distances"],
        )
        return [
            (i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)
        ]

    def embeddings(self, ids: Sequence[str]) -> dict[str, Sequence[float]]:
        """Stored vectors by chunk id (ids without a vector are left out)."""
        got = self.collection.get(ids=list(ids), include=["embeddings"])
        return dict(zip(got["ids"], got["embeddings"], strict=True))

    def metadata(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Stored metadata by chunk id (see :func:`chunk_metadata`)."""
        got = self.collection.get(ids=list(ids), include=["metadatas"])
        return dict(zip(got["ids"], got["metadatas"], strict=True))

    def ids(self) -> set[str]:
        """Every chunk id that has a vector."""
        out: set[str] = set()
        for offset in range(0, self.collection.count(), 5000):
            out.update(self.collection.get(limit=5000, offset=offset, include=[])["ids"])
        return out

    def count(self) -> int:
        """How many vectors the index holds."""
        return int(self.collection.count())

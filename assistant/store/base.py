"""The three parts of the store, as the interfaces the rest of the code relies on.

- :class:`Catalog`: documents, the chunks of each version, and which version is current.
- :class:`KeywordIndex`: BM25-style search over analysed terms of the catalog's chunks.
- :class:`VectorIndex`: one vector per chunk, nearest-neighbour search with filters.

``Store`` (``assistant.store.facade``) composes one of each and keeps them in step;
retrieval and ingestion talk to ``Store`` only. The embedded implementations are
``SqliteCatalog`` and ``SqliteKeywordIndex`` (one SQLite file) and ``ChromaVectors``. A
second back end (PostgreSQL for catalog and keywords) implements the same protocols:
its keyword index must join the catalog's :meth:`Catalog.transaction` (in the same
database), and its ``search`` must return current chunks only, as these do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from assistant.store.filters import Filters
from assistant.types import Chunk, Document, DocumentRecord


class StoreLockedError(RuntimeError):
    """Another process is writing to this store."""


class Catalog(Protocol):
    """Documents and their chunk versions; a version's chunks are invisible to readers
    until :meth:`commit` makes it current."""

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """One atomic unit of writes; the keyword index's writes inside join it."""
        ...

    def writer(self) -> contextlib.AbstractContextManager[None]:
        """The write lock: one writing process at a time. Raises StoreLockedError."""
        ...

    def close(self) -> None: ...

    def generation(self) -> int:
        """A number that grows with every committed change."""
        ...

    def documents(self) -> list[DocumentRecord]: ...

    def document(self, doc_id: str) -> DocumentRecord | None: ...

    def current_versions(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """doc_id → current version hash, in one snapshot."""
        ...

    def superseded_ids(self) -> set[str]: ...

    def count_chunks(self, current_only: bool = True) -> int: ...

    def chunk_ids(self, current_only: bool = True) -> set[str]: ...

    def current_chunks(self, doc_id: str) -> list[Chunk]: ...

    def get_chunks(self, ids: Sequence[str], current_only: bool = True) -> dict[str, Chunk]: ...

    def chunk_hashes_by_document(self, content_hash: str) -> dict[str, list[str]]: ...

    def neighbours(self, chunk: Chunk) -> tuple[Chunk | None, Chunk | None]: ...

    def chunk_ids_by_embed_key(self, keys: Sequence[str]) -> dict[str, str]:
        """chunk id → embedding key, for stored chunks with one of these keys."""
        ...

    def add_chunks(self, chunks: Sequence[Chunk], embed_keys: Sequence[str | None]) -> list[Chunk]:
        """Store a version's chunks (invisible until commit); returns those that were new."""
        ...

    def commit(self, doc: Document, doc_hash: str, chunk_count: int) -> None: ...

    def remove(self, doc_id: str) -> bool: ...

    def update_document(self, doc: Document, chunks: Sequence[Chunk]) -> None: ...

    def stale_chunk_ids(self) -> list[str]:
        """Chunks of versions that are not current."""
        ...

    def delete_chunks(self, ids: Sequence[str]) -> None: ...


class KeywordIndex(Protocol):
    """Keyword search over the catalog's chunks, scored so that higher is better."""

    def terms(self, text: str) -> list[str]:
        """The analysed terms of a text."""
        ...

    def add(self, chunks: Sequence[Chunk]) -> None: ...

    def update(self, chunks: Sequence[Chunk]) -> None: ...

    def remove(self, ids: Sequence[str]) -> None: ...

    def reindex(self) -> int: ...

    def count(self) -> int:
        """Rows indexed (one per stored chunk, current or not)."""
        ...

    def count_matching(self, query: str) -> int: ...

    def search(
        self, query: str, k: int, filters: Filters | None = None
    ) -> list[tuple[Chunk, float]]:
        """The k best current chunks for the query, with their scores, best first."""
        ...

    def with_term(self, term: str, limit: int, filters: Filters | None = None) -> list[Chunk]:
        """Current chunks whose analysed terms hold this exact term (unranked)."""
        ...

    def document_frequency(self, terms: Sequence[str]) -> dict[str, int]: ...

    def idf(self, terms: Sequence[str]) -> dict[str, float]: ...


class VectorIndex(Protocol):
    """One vector per chunk id, with the chunk's filter values."""

    def upsert(
        self, chunks: Sequence[Chunk], vectors: np.ndarray | Sequence[Sequence[float]]
    ) -> None: ...

    def update_metadata(self, chunks: Sequence[Chunk]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def query(
        self, vector: Sequence[float], n: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """The n nearest chunk ids passing the filters, with cosine similarity, best first."""
        ...

    def embeddings(self, ids: Sequence[str]) -> dict[str, Sequence[float]]: ...

    def metadata(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def ids(self) -> set[str]: ...

    def count(self) -> int: ...

"""The store: a catalog, a keyword index and a vector index, kept in step.

A new document version is written beside the old one (:meth:`Store.stage`), made current
in one catalog transaction (:meth:`Store.commit`), and the old one is removed after
(:meth:`Store.collect`). Readers only see chunks of current versions, so they see the
old document or the new one, never a mix, and a crash at any point leaves a store that
the next run cleans up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.settings import Settings
from assistant.store.base import Catalog, KeywordIndex, VectorIndex
from assistant.store.catalog import SqliteCatalog
from assistant.store.filters import Filters
from assistant.store.keywords import SqliteKeywordIndex
from assistant.store.pg_catalog import PostgresCatalog
from assistant.store.pg_keywords import PostgresKeywordIndex
from assistant.store.postgres import database_url, shared_database
from assistant.store.sqlite import SqliteDatabase
from assistant.store.vectors import ChromaVectors
from assistant.types import Chunk, Document, DocumentRecord


class Store:
    """The index retrieval and ingestion use: documents, keyword search, vector search.

    Args:
        settings: where the store lives, whether Chroma runs embedded or as a server, and
            the keyword analyser.
        catalog, keywords, vectors: other implementations of the parts (default: the
            catalog and keyword index in PostgreSQL when ``settings.database_url`` is set,
            else in ``settings.catalog_path``; vectors in Chroma).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        catalog: Catalog | None = None,
        keywords: KeywordIndex | None = None,
        vectors: VectorIndex | None = None,
    ) -> None:
        self.settings = settings
        self.dir = Path(settings.store_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        url = database_url(settings)
        if url is not None and (catalog is None or keywords is None):
            pg = shared_database(url)
            catalog = catalog or PostgresCatalog(pg)
            keywords = keywords or PostgresKeywordIndex(
                pg, settings.keyword_stemmer, settings.keyword_compounds
            )
        if catalog is None or keywords is None:
            db = SqliteDatabase(settings.catalog_path)
            catalog = catalog or SqliteCatalog(db, self.dir / "write.lock")
            keywords = keywords or SqliteKeywordIndex(
                db, settings.keyword_stemmer, settings.keyword_compounds
            )
        self.catalog: Catalog = catalog
        self.keywords: KeywordIndex = keywords
        self.vectors: VectorIndex = vectors or ChromaVectors(settings)

    def writer(self) -> contextlib.AbstractContextManager[None]:
        """Hold the store's write lock (one writing process at a time).

        Raises:
            StoreLockedError: another process is writing.
        """
        return self.catalog.writer()

    def close(self) -> None:
        self.catalog.close()

    # -- catalog reads -------------------------------------------------------------------
    def generation(self) -> int:
        """A number that grows with every committed change (for caches)."""
        return self.catalog.generation()

    def documents(self) -> list[DocumentRecord]:
        return self.catalog.documents()

    def document(self, doc_id: str) -> DocumentRecord | None:
        return self.catalog.document(doc_id)

    def current_versions(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """doc_id → current version hash, read in one snapshot."""
        return self.catalog.current_versions(doc_ids)

    def superseded_ids(self) -> set[str]:
        return self.catalog.superseded_ids()

    def count_chunks(self, current_only: bool = True) -> int:
        """Chunks of current versions (all stored chunks when not ``current_only``)."""
        return self.catalog.count_chunks(current_only)

    def current_chunks(self, doc_id: str) -> list[Chunk]:
        return self.catalog.current_chunks(doc_id)

    def get_chunks(self, ids: Sequence[str], current_only: bool = True) -> dict[str, Chunk]:
        """Chunks by id; with current_only, chunks of replaced versions are left out."""
        return self.catalog.get_chunks(ids, current_only)

    def chunk_hashes_by_document(self, content_hash: str) -> dict[str, list[str]]:
        """doc_id → its current chunks' text hashes, for documents holding this chunk text
        (see ``SqliteCatalog.chunk_hashes_by_document``)."""
        return self.catalog.chunk_hashes_by_document(content_hash)

    def neighbours(self, chunk: Chunk) -> tuple[Chunk | None, Chunk | None]:
        """The chunks just before and after this one in the same document version."""
        return self.catalog.neighbours(chunk)

    def embeddings_for_keys(self, keys: Sequence[str]) -> dict[str, list[float]]:
        """Stored vectors by embedding key (see ``assistant.embeddings.embedding_key``),
        to skip re-embedding a text the same model already embedded the same way.

        Args:
            keys: embedding keys of the chunks about to be written.
        """
        by_id = self.catalog.chunk_ids_by_embed_key(keys)
        if not by_id:
            return {}
        out: dict[str, list[float]] = {}
        for chunk_id, vec in self.vectors.embeddings(list(by_id)).items():
            out.setdefault(by_id[chunk_id], list(vec))
        return out

    # -- writes --------------------------------------------------------------------------
    def stage(
        self,
        chunks: Sequence[Chunk],
        vectors: np.ndarray | Sequence[Sequence[float]],
        embed_keys: Sequence[str | None] | None = None,
    ) -> None:
        """Write a document version's chunks beside the current one, still invisible.

        Args:
            chunks: the chunks of one document version.
            vectors: one vector per chunk.
            embed_keys: per chunk, what its vector was computed from (model, precision,
                embedded text); a later write with the same key reuses the vector.
        """
        if not chunks:
            return
        keys = list(embed_keys) if embed_keys is not None else [None] * len(chunks)
        with self.catalog.transaction():
            self.keywords.add(self.catalog.add_chunks(chunks, keys))
        self.vectors.upsert(chunks, vectors)

    def commit(self, doc: Document, doc_hash: str, chunk_count: int) -> None:
        """Make this version of the document current, in one transaction."""
        self.catalog.commit(doc, doc_hash, chunk_count)

    def remove(self, doc_id: str) -> bool:
        """Make a document invisible at once; its chunks go at once too (collect())."""
        removed = self.catalog.remove(doc_id)
        self.collect()
        return removed

    def collect(self) -> int:
        """Delete chunks of versions that are not current (replaced, removed, or staged
        by an interrupted run): vectors first, then keyword rows and catalog rows."""
        stale = self.catalog.stale_chunk_ids()
        if not stale:
            return 0
        self.vectors.delete(stale)
        with self.catalog.transaction():
            self.keywords.remove(stale)
            self.catalog.delete_chunks(stale)
        return len(stale)

    def update_metadata(self, doc: Document) -> None:
        """Apply new metadata (title, municipality, ...) to an unchanged text, no embedding."""
        if self.catalog.document(doc.doc_id) is None:
            return
        m = doc.meta
        meta = {"title": m.title, "municipality": m.municipality, "doc_type": m.doc_type,
                "date": m.date or "", "source": doc.source}  # fmt: skip
        updated = [c.model_copy(update=meta) for c in self.catalog.current_chunks(doc.doc_id)]
        with self.catalog.transaction():
            self.catalog.update_document(doc, updated)
            self.keywords.update(updated)  # the title is part of a chunk's keyword terms
        self.vectors.update_metadata(updated)

    # -- search --------------------------------------------------------------------------
    def dense_search(
        self, vector: Sequence[float], k: int, filters: Filters | None = None
    ) -> list[tuple[Chunk, float]]:
        """Nearest chunks of current versions, with cosine similarity."""
        # Over-fetch: during a replace both versions are in the vector index until collect().
        hits = self.vectors.query(vector, max(k * 2, k + 10), filters)
        chunks = self.catalog.get_chunks([i for i, _ in hits])
        return [(chunks[i], sim) for i, sim in hits if i in chunks][:k]

    def keyword_search(
        self, query: str, k: int, filters: Filters | None = None
    ) -> list[tuple[Chunk, float]]:
        """BM25 over Dutch-stemmed terms of current chunks; higher score is better."""
        return self.keywords.search(query, k, filters)

    def chunks_with_term(
        self, term: str, limit: int = 2000, filters: Filters | None = None
    ) -> list[Chunk]:
        """Current chunks whose keyword terms hold this exact term ("artikel13b"), unranked."""
        return self.keywords.with_term(term, limit, filters)

    def reindex_keywords(self) -> int:
        """Rebuild the keyword index from the stored chunk texts; returns the chunk count."""
        return self.keywords.reindex()

    def document_frequency(self, terms: Sequence[str]) -> dict[str, int]:
        """How many indexed chunks hold each analysed term (0 for a term never seen)."""
        return self.keywords.document_frequency(terms)

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25-style inverse document frequency of analysed terms over all chunks."""
        return self.keywords.idf(terms)

    # -- consistency -------------------------------------------------------------------
    def check(self) -> dict[str, Any]:
        """Compare the parts: ids of current chunks missing or extra in the vector index,
        versions waiting to be collected, and keyword rows (one per stored chunk)."""
        current = self.catalog.chunk_ids(current_only=True)
        in_vectors = self.vectors.ids()
        stored = self.catalog.chunk_ids(current_only=False)
        rows = self.keywords.count()
        return {
            "documents": len(self.catalog.documents()),
            "chunks": len(current),
            "missing_in_chroma": sorted(current - in_vectors),
            "extra_in_chroma": sorted(in_vectors - stored),
            "pending": len(stored - current),
            "keyword_rows": rows,
            "consistent": current <= in_vectors and rows == len(stored),
        }

"""The index: a Chroma collection (vectors) and a SQLite catalog (documents, chunks, BM25).

Why two parts: Chroma holds the vectors; the catalog holds which version of each
document is *current*, the chunk texts and an FTS5 keyword index over Dutch-stemmed
tokens (SQLite's own BM25 ranking). A new document version is written beside the old
one, then made current in one SQLite transaction, then the old one is removed. Readers
only see chunks of current versions, so they see the old document or the new one,
never a mix, and a crash at any point leaves a store that the next run cleans up.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant import privacy
from assistant.analysis import ANALYSER_VERSION, analyse
from assistant.settings import Settings
from assistant.types import Chunk, Document

privacy.apply()

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    doc_hash TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    municipality TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    date TEXT NOT NULL,
    supersedes TEXT NOT NULL,
    format TEXT NOT NULL,
    pages INTEGER NOT NULL,
    chunk_count INTEGER NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,
    doc_id TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    data TEXT NOT NULL,
    embed_key TEXT
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, doc_hash, ordinal);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(content_hash);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(terms, tokenize='unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, row);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class DocumentRecord:
    """A document as the catalog knows it."""

    doc_id: str
    doc_hash: str
    content_hash: str
    source: str
    title: str
    municipality: str
    doc_type: str
    date: str
    supersedes: list[str]
    format: str
    pages: int
    chunk_count: int
    ingested_at: str
    superseded_by: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class Filters:
    """Retrieval filters; None means no filter."""

    municipality: str | None = None
    doc_type: str | None = None
    date_from: str | None = None  # ISO date, inclusive
    date_to: str | None = None

    def chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.municipality:
            # A municipality's question is also answered by the joint documents.
            clauses.append({"municipality": {"$in": [self.municipality, "gezamenlijk"]}})
        if self.doc_type:
            clauses.append({"doc_type": self.doc_type})
        if self.date_from:
            clauses.append({"date_num": {"$gte": date_number(self.date_from)}})
        if self.date_to:
            clauses.append({"date_num": {"$lte": date_number(self.date_to, end=True)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, chunk: Chunk) -> bool:
        if self.municipality and chunk.municipality not in (self.municipality, "gezamenlijk"):
            return False
        if self.doc_type and chunk.doc_type != self.doc_type:
            return False
        num = date_number(chunk.date) if chunk.date else 0
        if self.date_from and num < date_number(self.date_from):
            return False
        return not (self.date_to and num > date_number(self.date_to, end=True))


def date_number(date: str, end: bool = False) -> int:
    """'2024-03-01' → 20240301; '2024' → 20240000 (or 20241231 as an upper bound)."""
    digits = "".join(ch for ch in date if ch.isdigit())
    if not digits:
        return 0
    pad = ("1231" if len(digits) == 4 else "31") if end else "0000"
    digits = (digits + pad)[:8] if len(digits) < 8 else digits[:8]
    return int(digits)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StoreLockedError(RuntimeError):
    """Another process is writing to this store."""


class Store:
    """Vectors in Chroma, documents/chunks/BM25 in the SQLite catalog, kept in step.

    Args:
        settings: where the store lives and whether Chroma runs embedded or as a server.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = Path(settings.store_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._stemmer = settings.keyword_stemmer
        self._compounds = settings.keyword_compounds
        with self._db() as db:
            db.executescript(SCHEMA)
        self._migrate()
        self._ensure_analyser()
        self.collection = self._open_collection()

    def _migrate(self) -> None:
        """Bring a catalog written by an older version up to date, in place.

        ``chunks.embed_key`` (added later) stays empty for older rows: no vector is reused
        for them, so their chunks are embedded again when their document next changes.
        """

        def current(db: sqlite3.Connection) -> bool:
            columns = {row[1] for row in db.execute("PRAGMA table_info(chunks)")}
            index = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='index' AND name='chunks_embed'"
            ).fetchone()
            return "embed_key" in columns and index is not None

        if current(self._db()):  # the usual case: no write lock for a reader
            return
        with self._tx() as db:  # another process may have migrated it meanwhile
            columns = {row[1] for row in db.execute("PRAGMA table_info(chunks)")}
            if "embed_key" not in columns:
                db.execute("ALTER TABLE chunks ADD COLUMN embed_key TEXT")
            db.execute("CREATE INDEX IF NOT EXISTS chunks_embed ON chunks(embed_key)")

    # -- connections -----------------------------------------------------------------
    def _open_collection(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        url = self.settings.chroma_url
        if url:
            from urllib.parse import urlparse

            parsed = urlparse(url)
            client = chromadb.HttpClient(
                host=parsed.hostname or "localhost",
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
        else:
            client = chromadb.PersistentClient(
                path=str(self.dir / "chroma"), settings=chroma_settings
            )
        self.client = client
        return client.get_or_create_collection(
            name=self.settings.collection,
            metadata={"hnsw:space": "cosine"},
            embedding_function=None,
        )

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.settings.catalog_path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the store's write lock (one writing process at a time)."""
        lock_path = self.dir / "write.lock"
        with open(lock_path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StoreLockedError(
                    f"{self.dir}: een andere opname loopt al; wacht tot die klaar is."
                ) from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- catalog reads -------------------------------------------------------------------
    def generation(self) -> int:
        """A number that grows with every committed change (for caches)."""
        row = self._db().execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def documents(self) -> list[DocumentRecord]:
        rows = self._db().execute("SELECT * FROM documents ORDER BY doc_id").fetchall()
        records = [self._record(r) for r in rows]
        superseded: dict[str, list[str]] = {}
        for rec in records:
            for old in rec.supersedes:
                superseded.setdefault(old, []).append(rec.doc_id)
        for rec in records:
            rec.superseded_by = superseded.get(rec.doc_id, [])
        return records

    def document(self, doc_id: str) -> DocumentRecord | None:
        row = self._db().execute("SELECT * FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return self._record(row) if row else None

    def current_versions(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """doc_id → current version hash, read in one statement (one snapshot)."""
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db().execute(
            f"SELECT doc_id, doc_hash FROM documents WHERE doc_id IN ({marks})", ids
        )
        return dict(rows.fetchall())

    def superseded_ids(self) -> set[str]:
        out: set[str] = set()
        for (raw,) in self._db().execute("SELECT supersedes FROM documents"):
            out.update(json.loads(raw))
        return out

    @staticmethod
    def _record(row: Sequence[Any]) -> DocumentRecord:
        (doc_id, doc_hash, content_hash, source, title, muni, dtype, date, sup, fmt, pages,
         count, at) = row  # fmt: skip
        return DocumentRecord(
            doc_id, doc_hash, content_hash, source, title, muni, dtype, date,
            json.loads(sup), fmt, pages, count, at,
        )  # fmt: skip

    def count_chunks(self) -> int:
        row = (
            self._db()
            .execute(
                "SELECT COUNT(*) FROM chunks c JOIN documents d "
                "ON d.doc_id=c.doc_id AND d.doc_hash=c.doc_hash"
            )
            .fetchone()
        )
        return int(row[0])

    def current_chunks(self, doc_id: str) -> list[Chunk]:
        rows = (
            self._db()
            .execute(
                "SELECT c.id, c.data FROM chunks c JOIN documents d "
                "ON d.doc_id=c.doc_id AND d.doc_hash=c.doc_hash "
                "WHERE c.doc_id=? ORDER BY c.ordinal",
                (doc_id,),
            )
            .fetchall()
        )
        return [Chunk.model_validate_json(data) for _, data in rows]

    def chunk_hashes_by_document(self, content_hash: str) -> dict[str, list[str]]:
        """For every current document that has a chunk with this text hash: the text
        hashes of all its chunks in order (to find a document with the same text).

        Args:
            content_hash: sha256 of a chunk's text (``Chunk.content_hash``).

        Returns:
            doc_id → the content hashes of its current chunks, by ordinal.
        """
        db = self._db()
        rows = db.execute(
            "SELECT DISTINCT c.doc_id FROM chunks c JOIN documents d "
            "ON d.doc_id=c.doc_id AND d.doc_hash=c.doc_hash WHERE c.content_hash=?",
            (content_hash,),
        ).fetchall()
        out: dict[str, list[str]] = {}
        for (doc_id,) in rows:
            hashes = db.execute(
                "SELECT c.content_hash FROM chunks c JOIN documents d "
                "ON d.doc_id=c.doc_id AND d.doc_hash=c.doc_hash "
                "WHERE c.doc_id=? ORDER BY c.ordinal",
                (doc_id,),
            ).fetchall()
            out[doc_id] = [h for (h,) in hashes]
        return out

    def get_chunks(self, ids: Sequence[str], current_only: bool = True) -> dict[str, Chunk]:
        """Chunks by id; with current_only, chunks of replaced versions are left out."""
        out: dict[str, Chunk] = {}
        ids = list(dict.fromkeys(ids))
        join = (
            " JOIN documents d ON d.doc_id=c.doc_id AND d.doc_hash=c.doc_hash"
            if current_only
            else ""
        )
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self._db().execute(
                f"SELECT c.id, c.data FROM chunks c{join} WHERE c.id IN ({marks})", part
            )
            for chunk_id, data in rows:
                out[chunk_id] = Chunk.model_validate_json(data)
        return out

    def neighbours(self, chunk: Chunk) -> tuple[Chunk | None, Chunk | None]:
        """The chunks just before and after this one in the same document version."""
        rows = (
            self._db()
            .execute(
                "SELECT ordinal, data FROM chunks "
                "WHERE doc_id=? AND doc_hash=? AND ordinal IN (?, ?)",
                (chunk.doc_id, chunk.doc_hash, chunk.ordinal - 1, chunk.ordinal + 1),
            )
            .fetchall()
        )
        found = {o: Chunk.model_validate_json(d) for o, d in rows}
        return found.get(chunk.ordinal - 1), found.get(chunk.ordinal + 1)

    def embeddings_for_keys(self, keys: Sequence[str]) -> dict[str, list[float]]:
        """Stored vectors by embedding key (see ``assistant.embeddings.embedding_key``),
        to skip re-embedding a text the same model already embedded the same way.

        Args:
            keys: embedding keys of the chunks about to be written.
        """
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        by_id: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            marks = ",".join("?" * len(part))
            for chunk_id, key in self._db().execute(
                f"SELECT id, embed_key FROM chunks WHERE embed_key IN ({marks})", part
            ):
                by_id.setdefault(chunk_id, key)
        if not by_id:
            return {}
        got = self.collection.get(ids=list(by_id), include=["embeddings"])
        out: dict[str, list[float]] = {}
        for chunk_id, vec in zip(got["ids"], got["embeddings"], strict=True):
            out.setdefault(by_id[chunk_id], list(vec))
        return out

    # -- writes ------------------------------------------------------------------------
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
        with self._tx() as db:
            for chunk, key in zip(chunks, keys, strict=True):
                cur = db.execute(
                    "INSERT OR IGNORE INTO chunks"
                    "(id, doc_id, doc_hash, ordinal, content_hash, data, embed_key)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (chunk.id, chunk.doc_id, chunk.doc_hash, chunk.ordinal, chunk.content_hash,
                     chunk.model_dump_json(), key),
                )  # fmt: skip
                if cur.rowcount:
                    terms = self._terms(chunk)
                    db.execute(
                        "INSERT INTO chunks_fts(rowid, terms) VALUES (?, ?)",
                        (cur.lastrowid, terms),
                    )
        batch = max(1, min(1000, self._max_batch()))
        vecs = np.asarray(vectors, dtype=np.float32)
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            metadatas = []
            for c in part:
                meta = c.to_metadata()
                meta["date_num"] = date_number(c.date) if c.date else 0
                metadatas.append(meta)
            self.collection.upsert(
                ids=[c.id for c in part],
                embeddings=vecs[start : start + batch],
                documents=[c.text for c in part],
                metadatas=metadatas,
            )

    def _max_batch(self) -> int:
        try:
            return int(self.client.get_max_batch_size())
        except Exception:
            return 500

    def commit(self, doc: Document, doc_hash: str, chunk_count: int) -> None:
        """Make this version of the document current, in one transaction."""
        m = doc.meta
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (m.doc_id, doc_hash, doc.content_hash, doc.source, m.title, m.municipality,
                 m.doc_type, m.date or "", json.dumps(m.supersedes), doc.format, len(doc.pages),
                 chunk_count, _now()),
            )  # fmt: skip
            self._bump(db)

    def remove(self, doc_id: str) -> bool:
        """Make a document invisible at once; its chunks go at the next collect()."""
        with self._tx() as db:
            cur = db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            self._bump(db)
        self.collect()
        return bool(cur.rowcount)

    @staticmethod
    def _bump(db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def collect(self) -> int:
        """Delete chunks of versions that are not current (replaced, removed, or staged
        by an interrupted run) from Chroma first, then from the catalog."""
        rows = (
            self._db()
            .execute(
                "SELECT c.rowid, c.id FROM chunks c LEFT JOIN documents d "
                "ON d.doc_id=c.doc_id AND d.doc_hash=c.doc_hash WHERE d.doc_id IS NULL"
            )
            .fetchall()
        )
        if not rows:
            return 0
        ids = [r[1] for r in rows]
        for start in range(0, len(ids), 1000):
            self.collection.delete(ids=ids[start : start + 1000])
        with self._tx() as db:
            for start in range(0, len(rows), 500):
                part = [r[0] for r in rows[start : start + 500]]
                marks = ",".join("?" * len(part))
                db.execute(f"DELETE FROM chunks_fts WHERE rowid IN ({marks})", part)
                db.execute(f"DELETE FROM chunks WHERE rowid IN ({marks})", part)
        return len(rows)

    def update_metadata(self, doc: Document) -> None:
        """Apply new metadata (title, municipality, ...) to an unchanged text, no embedding."""
        current = self.document(doc.doc_id)
        if current is None:
            return
        chunks = self.current_chunks(doc.doc_id)
        m = doc.meta
        updated = [
            c.model_copy(
                update={"title": m.title, "municipality": m.municipality,
                        "doc_type": m.doc_type, "date": m.date or "", "source": doc.source}
            )
            for c in chunks
        ]  # fmt: skip
        with self._tx() as db:
            for c in updated:
                db.execute("UPDATE chunks SET data=? WHERE id=?", (c.model_dump_json(), c.id))
                # The title is part of a chunk's keyword terms ("Gemeentewet").
                db.execute(
                    "UPDATE chunks_fts SET terms=?"
                    " WHERE rowid=(SELECT rowid FROM chunks WHERE id=?)",
                    (self._terms(c), c.id),
                )
            db.execute(
                "UPDATE documents SET title=?, municipality=?, doc_type=?, date=?, supersedes=?,"
                " source=?, ingested_at=? WHERE doc_id=?",
                (m.title, m.municipality, m.doc_type, m.date or "", json.dumps(m.supersedes),
                 doc.source, _now(), m.doc_id),
            )  # fmt: skip
            self._bump(db)
        if updated:
            metas = []
            for c in updated:
                meta = c.to_metadata()
                meta["date_num"] = date_number(c.date) if c.date else 0
                metas.append(meta)
            self.collection.update(ids=[c.id for c in updated], metadatas=metas)

    # -- search ----------------------------------------------------------------------
    def dense_search(
        self, vector: Sequence[float], k: int, filters: Filters | None = None
    ) -> list[tuple[Chunk, float]]:
        """Nearest chunks of current versions, with cosine similarity."""
        if self.collection.count() == 0:
            return []
        where = filters.chroma_where() if filters else None
        # Over-fetch: during a replace both versions are in Chroma until collect().
        n = min(max(k * 2, k + 10), self.collection.count())
        res = self.collection.query(
            query_embeddings=[list(map(float, vector))],
            n_results=n,
            where=where,
            include=["distances"],
        )
        ids = res["ids"][0]
        dists = res["distances"][0]
        chunks = self.get_chunks(ids)
        out = [(chunks[i], 1.0 - float(d)) for i, d in zip(ids, dists, strict=True) if i in chunks]
        return out[:k]

    def keyword_search(
        self, query: str, k: int, filters: Filters | None = None
    ) -> list[tuple[Chunk, float]]:
        """BM25 over Dutch-stemmed terms of current chunks; higher score is better."""
        terms = sorted(set(analyse(query, self._stemmer, self._compounds)))
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        # Rank inside the full-text index first and read only the best rows: joining every
        # match before sorting cost most of a query at 100k chunks. Rows of a version that
        # is not current (or outside the filters) are dropped after, so fetch extra.
        limit = (k if filters is None else k * 5) * 2
        db = self._db()
        while True:
            ranked = db.execute(
                "SELECT rowid, -bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? "
                "ORDER BY rank LIMIT ?",
                (match, limit),
            ).fetchall()
            score = dict(ranked)
            marks = ",".join("?" * len(ranked))
            rows = db.execute(
                f"SELECT c.rowid, c.data FROM chunks c JOIN documents d "
                f"ON d.doc_id=c.doc_id AND d.doc_hash=c.doc_hash WHERE c.rowid IN ({marks})",
                list(score),
            ).fetchall()
            out = sorted(
                ((Chunk.model_validate_json(data), float(score[rowid])) for rowid, data in rows),
                key=lambda pair: pair[1],
                reverse=True,
            )
            if filters is not None:
                out = [(c, s) for c, s in out if filters.accepts(c)]
            if len(out) >= k or len(ranked) < limit:
                return out[:k]
            limit *= 4

    def _terms(self, chunk: Chunk) -> str:
        text = f"{chunk.title} {chunk.section} {chunk.text}"
        return " ".join(analyse(text, self._stemmer, self._compounds))

    def _ensure_analyser(self) -> None:
        """Rebuild the keyword index when it was built with another analyser."""
        wanted = f"{self._stemmer}:{int(self._compounds)}:v{ANALYSER_VERSION}"
        db = self._db()
        row = db.execute("SELECT value FROM meta WHERE key='analyser'").fetchone()
        if row and row[0] == wanted:
            return
        if row is not None:
            self.reindex_keywords()
        db.execute(
            "INSERT INTO meta(key, value) VALUES ('analyser', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (wanted,),
        )

    def reindex_keywords(self) -> int:
        """Rebuild the keyword index from the stored chunk texts (after an analyser
        change); no embedding is involved. Returns the number of chunks indexed."""
        rows = self._db().execute("SELECT rowid, data FROM chunks").fetchall()
        with self._tx() as db:
            db.execute("DELETE FROM chunks_fts")
            for rowid, data in rows:
                chunk = Chunk.model_validate_json(data)
                db.execute(
                    "INSERT INTO chunks_fts(rowid, terms) VALUES (?, ?)",
                    (rowid, self._terms(chunk)),
                )
        return len(rows)

    def document_frequency(self, terms: Sequence[str]) -> dict[str, int]:
        """How many indexed chunks hold each analysed term (0 for a term never seen)."""
        terms = list(dict.fromkeys(terms))
        if not terms:
            return {}
        marks = ",".join("?" * len(terms))
        df = dict(
            self._db().execute(f"SELECT term, doc FROM chunks_vocab WHERE term IN ({marks})", terms)
        )
        return {t: int(df.get(t, 0)) for t in terms}

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25-style inverse document frequency of analysed terms over all chunks."""
        df = self.document_frequency(terms)
        if not df:
            return {}
        total = self._db().execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0] or 1
        return {t: math.log(1.0 + (total - n + 0.5) / (n + 0.5)) for t, n in df.items()}

    # -- consistency -------------------------------------------------------------------
    def check(self) -> dict[str, Any]:
        """Compare catalog and Chroma: ids of current chunks missing or extra in Chroma."""
        current = {
            r[0]
            for r in self._db().execute(
                "SELECT c.id FROM chunks c JOIN documents d "
                "ON d.doc_id=c.doc_id AND d.doc_hash=c.doc_hash"
            )
        }
        in_chroma: set[str] = set()
        total = self.collection.count()
        for offset in range(0, total, 5000):
            in_chroma.update(self.collection.get(limit=5000, offset=offset, include=[])["ids"])
        staged = {r[0] for r in self._db().execute("SELECT id FROM chunks")}
        fts = self._db().execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0]
        return {
            "documents": len(self.documents()),
            "chunks": len(current),
            "missing_in_chroma": sorted(current - in_chroma),
            "extra_in_chroma": sorted(in_chroma - staged),
            "pending": len(staged - current),
            "keyword_rows": int(fts),
            "consistent": current <= in_chroma and fts == len(staged),
        }

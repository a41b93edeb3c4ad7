"""The catalog in SQLite: documents, the chunks of each version, and which version is current.

A new document version's chunks are written beside the old ones (:meth:`add_chunks`),
then made current in one transaction (:meth:`commit`); chunks of versions that are not
current are deleted later (:meth:`stale_chunk_ids`, :meth:`delete_chunks`). Every read
of "current" chunks joins on ``documents``, so a reader sees the old version or the new
one, never a mix.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.store.base import StoreLockedError
from assistant.store.sqlite import SqliteDatabase, batches, placeholders
from assistant.types import Chunk, Document, DocumentRecord

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
"""
# Chunks of the version that is current: the join every reader uses.
CURRENT = "chunks c JOIN documents d ON d.doc_id=c.doc_id AND d.doc_hash=c.doc_hash"
_RECORD_COLUMNS = ("doc_id", "doc_hash", "content_hash", "source", "title", "municipality",
                   "doc_type", "date", "supersedes", "format", "pages", "chunk_count",
                   "ingested_at")  # fmt: skip


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SqliteCatalog:
    """Documents and chunk versions in ``catalog.sqlite`` (implements ``base.Catalog``).

    Args:
        db: the database, shared with the keyword index.
        lock_path: the file whose lock admits one writing process at a time.
    """

    def __init__(self, db: SqliteDatabase, lock_path: Path) -> None:
        self.db = db
        self.lock_path = lock_path
        self.db.connection().executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring a catalog written by an older version up to date, in place.

        ``chunks.embed_key`` (added later) stays empty for older rows: no vector is reused
        for them, so their chunks are embedded again when their document next changes.
        """

        def current(db: Any) -> bool:
            columns = {row[1] for row in db.execute("PRAGMA table_info(chunks)")}
            index = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='index' AND name='chunks_embed'"
            ).fetchone()
            return "embed_key" in columns and index is not None

        if current(self.db.connection()):  # the usual case: no write lock for a reader
            return
        with self.db.transaction() as db:  # another process may have migrated it meanwhile
            columns = {row[1] for row in db.execute("PRAGMA table_info(chunks)")}
            if "embed_key" not in columns:
                db.execute("ALTER TABLE chunks ADD COLUMN embed_key TEXT")
            db.execute("CREATE INDEX IF NOT EXISTS chunks_embed ON chunks(embed_key)")

    # -- locking and transactions --------------------------------------------------------
    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """One write transaction; the keyword index's writes inside it join it."""
        return self.db.transaction()

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the store's write lock (one writing process at a time).

        Raises:
            StoreLockedError: another process holds it.
        """
        with open(self.lock_path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StoreLockedError(
                    f"{self.lock_path.parent}: een andere opname loopt al; wacht tot die klaar is."
                ) from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        self.db.close()

    # -- documents -------------------------------------------------------------------------
    def generation(self) -> int:
        """A number that grows with every committed change (for caches)."""
        value = self.db.get_meta("generation")
        return int(value) if value else 0

    def documents(self) -> list[DocumentRecord]:
        """Every document, by id, with ``superseded_by`` filled in."""
        rows = self.db.connection().execute("SELECT * FROM documents ORDER BY doc_id")
        records = [self._record(r) for r in rows.fetchall()]
        superseded: dict[str, list[str]] = {}
        for rec in records:
            for old in rec.supersedes:
                superseded.setdefault(old, []).append(rec.doc_id)
        for rec in records:
            rec.superseded_by = superseded.get(rec.doc_id, [])
        return records

    def document(self, doc_id: str) -> DocumentRecord | None:
        """One document (``superseded_by`` left empty), or None."""
        row = (
            self.db.connection()
            .execute("SELECT * FROM documents WHERE doc_id=?", (doc_id,))
            .fetchone()
        )
        return self._record(row) if row else None

    def current_versions(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """doc_id → current version hash, read in one statement (one snapshot)."""
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        rows = self.db.connection().execute(
            f"SELECT doc_id, doc_hash FROM documents WHERE doc_id IN ({placeholders(ids)})", ids
        )
        return dict(rows.fetchall())

    def superseded_ids(self) -> set[str]:
        """Ids that some document's ``supersedes`` names."""
        out: set[str] = set()
        for (raw,) in self.db.connection().execute("SELECT supersedes FROM documents"):
            out.update(json.loads(raw))
        return out

    @staticmethod
    def _record(row: Sequence[Any]) -> DocumentRecord:
        fields = dict(zip(_RECORD_COLUMNS, row, strict=True))
        fields["supersedes"] = json.loads(fields["supersedes"])
        return DocumentRecord(**fields)

    # -- chunks --------------------------------------------------------------------------
    def count_chunks(self, current_only: bool = True) -> int:
        """How many chunks the current versions have (all stored chunks when not
        ``current_only``: staged and replaced ones too)."""
        table = CURRENT if current_only else "chunks c"
        return int(self.db.connection().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def chunk_ids(self, current_only: bool = True) -> set[str]:
        """Ids of the current versions' chunks (of all stored chunks when not current_only)."""
        table = CURRENT if current_only else "chunks c"
        return {r[0] for r in self.db.connection().execute(f"SELECT c.id FROM {table}")}

    def current_chunks(self, doc_id: str) -> list[Chunk]:
        """The chunks of a document's current version, in reading order."""
        rows = self.db.connection().execute(
            f"SELECT c.id, c.data FROM {CURRENT} WHERE c.doc_id=? ORDER BY c.ordinal", (doc_id,)
        )
        return [Chunk.model_validate_json(data) for _, data in rows.fetchall()]

    def get_chunks(self, ids: Sequence[str], current_only: bool = True) -> dict[str, Chunk]:
        """Chunks by id; with current_only, chunks of replaced versions are left out."""
        out: dict[str, Chunk] = {}
        table = CURRENT if current_only else "chunks c"
        for part in batches(list(dict.fromkeys(ids))):
            rows = self.db.connection().execute(
                f"SELECT c.id, c.data FROM {table} WHERE c.id IN ({placeholders(part)})", part
            )
            for chunk_id, data in rows:
                out[chunk_id] = Chunk.model_validate_json(data)
        return out

    def chunk_hashes_by_document(self, content_hash: str) -> dict[str, list[str]]:
        """For every current document that has a chunk with this text hash: the text
        hashes of all its chunks in order (to find a document with the same text).

        Args:
            content_hash: sha256 of a chunk's text (``Chunk.content_hash``).

        Returns:
            doc_id → the content hashes of its current chunks, by ordinal.
        """
        db = self.db.connection()
        rows = db.execute(
            f"SELECT DISTINCT c.doc_id FROM {CURRENT} WHERE c.content_hash=?", (content_hash,)
        ).fetchall()
        out: dict[str, list[str]] = {}
        for (doc_id,) in rows:
            hashes = db.execute(
                f"SELECT c.content_hash FROM {CURRENT} WHERE c.doc_id=? ORDER BY c.ordinal",
                (doc_id,),
            ).fetchall()
            out[doc_id] = [h for (h,) in hashes]
        return out

    def neighbours(self, chunk: Chunk) -> tuple[Chunk | None, Chunk | None]:
        """The chunks just before and after this one in the same document version."""
        rows = self.db.connection().execute(
            "SELECT ordinal, data FROM chunks WHERE doc_id=? AND doc_hash=? AND ordinal IN (?, ?)",
            (chunk.doc_id, chunk.doc_hash, chunk.ordinal - 1, chunk.ordinal + 1),
        )
        found = {o: Chunk.model_validate_json(d) for o, d in rows.fetchall()}
        return found.get(chunk.ordinal - 1), found.get(chunk.ordinal + 1)

    def chunk_ids_by_embed_key(self, keys: Sequence[str]) -> dict[str, str]:
        """chunk id → embedding key, for stored chunks whose key is one of ``keys``."""
        by_id: dict[str, str] = {}
        for part in batches(list(dict.fromkeys(keys))):
            for chunk_id, key in self.db.connection().execute(
                f"SELECT id, embed_key FROM chunks WHERE embed_key IN ({placeholders(part)})", part
            ):
                by_id.setdefault(chunk_id, key)
        return by_id

    # -- writes --------------------------------------------------------------------------
    def add_chunks(self, chunks: Sequence[Chunk], embed_keys: Sequence[str | None]) -> list[Chunk]:
        """Store a version's chunks, invisible until :meth:`commit`; a chunk id already
        stored is left as it is. Returns the chunks that were new."""
        added: list[Chunk] = []
        with self.db.transaction() as db:
            for chunk, key in zip(chunks, embed_keys, strict=True):
                cur = db.execute(
                    "INSERT OR IGNORE INTO chunks"
                    "(id, doc_id, doc_hash, ordinal, content_hash, data, embed_key)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (chunk.id, chunk.doc_id, chunk.doc_hash, chunk.ordinal, chunk.content_hash,
                     chunk.model_dump_json(), key),
                )  # fmt: skip
                if cur.rowcount:
                    added.append(chunk)
        return added

    def commit(self, doc: Document, doc_hash: str, chunk_count: int) -> None:
        """Make this version of the document current, in one transaction."""
        m = doc.meta
        with self.db.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (m.doc_id, doc_hash, doc.content_hash, doc.source, m.title, m.municipality,
                 m.doc_type, m.date or "", json.dumps(m.supersedes), doc.format, len(doc.pages),
                 chunk_count, _now()),
            )  # fmt: skip
            self._bump(db)

    def remove(self, doc_id: str) -> bool:
        """Make a document invisible at once (its chunks become stale). Whether it was there."""
        with self.db.transaction() as db:
            cur = db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            self._bump(db)
        return bool(cur.rowcount)

    def update_document(self, doc: Document, chunks: Sequence[Chunk]) -> None:
        """Store new metadata of an unchanged text: the document row and its chunks' copies."""
        m = doc.meta
        with self.db.transaction() as db:
            for c in chunks:
                db.execute("UPDATE chunks SET data=? WHERE id=?", (c.model_dump_json(), c.id))
            db.execute(
                "UPDATE documents SET title=?, municipality=?, doc_type=?, date=?, supersedes=?,"
                " source=?, ingested_at=? WHERE doc_id=?",
                (m.title, m.municipality, m.doc_type, m.date or "", json.dumps(m.supersedes),
                 doc.source, _now(), m.doc_id),
            )  # fmt: skip
            self._bump(db)

    def stale_chunk_ids(self) -> list[str]:
        """Ids of chunks of versions that are not current (replaced, removed, or staged by
        an interrupted run)."""
        rows = self.db.connection().execute(
            "SELECT c.id FROM chunks c LEFT JOIN documents d "
            "ON d.doc_id=c.doc_id AND d.doc_hash=c.doc_hash WHERE d.doc_id IS NULL"
        )
        return [r[0] for r in rows.fetchall()]

    def delete_chunks(self, ids: Sequence[str]) -> None:
        """Delete these chunks (of versions that are not current)."""
        with self.db.transaction() as db:
            for part in batches(list(ids)):
                db.execute(f"DELETE FROM chunks WHERE id IN ({placeholders(part)})", part)

    @staticmethod
    def _bump(db: Any) -> None:
        db.execute(
            "INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

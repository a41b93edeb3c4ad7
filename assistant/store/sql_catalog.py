"""The catalog's rules in the SQL that SQLite and PostgreSQL share.

A new document version's chunks are written beside the old ones (``add_chunks``), then
made current in one transaction (:meth:`SqlCatalog.commit`); chunks of versions that are
not current are deleted later (:meth:`SqlCatalog.stale_chunk_ids`,
:meth:`SqlCatalog.delete_chunks`). Every read of "current" chunks joins on
``documents``, so a reader sees the old version or the new one, never a mix.

Statements are written with ``?`` parameters; a back end whose driver wants another
mark (psycopg's ``%s``) sets :attr:`SqlCatalog.mark`. Each back end adds its schema, its
write lock and its bulk insert of chunks (``catalog.py``, ``pg_catalog.py``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from assistant.types import Chunk, Document, DocumentRecord

DOCUMENTS = """
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
)"""
# The chunks table, keyed by the back end's auto-numbered ``{rowid}`` column type.
CHUNKS = """
CREATE TABLE IF NOT EXISTS chunks (
    rowid {rowid} PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,
    doc_id TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    data TEXT NOT NULL,
    embed_key TEXT
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, doc_hash, ordinal);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(content_hash)"""
# Chunks of the version that is current: the join every reader uses.
CURRENT = "chunks c JOIN documents d ON d.doc_id=c.doc_id AND d.doc_hash=c.doc_hash"
RECORD_COLUMNS = ("doc_id", "doc_hash", "content_hash", "source", "title", "municipality",
                  "doc_type", "date", "supersedes", "format", "pages", "chunk_count",
                  "ingested_at")  # fmt: skip
_COLUMNS = ", ".join(RECORD_COLUMNS)


def utc_now() -> str:
    """The time of a catalog change: ISO 8601 in UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class SqlCatalog:
    """Documents and chunk versions in an SQL database (the shared part of
    ``base.Catalog``); ``db`` is a ``SqliteDatabase`` or a ``PostgresDatabase``."""

    db: Any
    mark = "?"  # the driver's parameter mark
    batch = 500  # values per IN list (SQLite caps the parameters of one statement)

    # -- helpers -------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql if self.mark == "?" else sql.replace("?", self.mark)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.db.connection().execute(self._sql(sql), params).fetchall()

    def _in_batches(self, sql: str, values: Sequence[Any]) -> Iterator[tuple[str, list[Any]]]:
        """``sql`` with its ``{IN}`` filled as "IN (?, …)", and the values for it, per
        batch of distinct ``values``."""
        wanted = list(dict.fromkeys(values))
        for start in range(0, len(wanted), self.batch):
            part = wanted[start : start + self.batch]
            yield self._sql(sql.format(IN=f"IN ({','.join('?' * len(part))})")), part

    def _rows_in(self, sql: str, values: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """Rows of ``sql`` (see :meth:`_in_batches`) over all ``values``."""
        for statement, part in self._in_batches(sql, values):
            yield from self.db.connection().execute(statement, part).fetchall()

    @staticmethod
    def _text(*values: Any) -> tuple[Any, ...]:
        """Values as the back end stores them (PostgreSQL strips NUL characters)."""
        return values

    # -- transactions --------------------------------------------------------------------
    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """One write transaction; the keyword index's writes inside it join it."""
        return self.db.transaction()

    def close(self) -> None:
        self.db.close()

    # -- documents -------------------------------------------------------------------------
    def generation(self) -> int:
        """A number that grows with every committed change (for caches)."""
        value = self.db.get_meta("generation")
        return int(value) if value else 0

    def documents(self) -> list[DocumentRecord]:
        """Every document, by id, with ``superseded_by`` filled in."""
        records = [
            self._record(r) for r in self._rows(f"SELECT {_COLUMNS} FROM documents ORDER BY doc_id")
        ]
        superseded: dict[str, list[str]] = {}
        for rec in records:
            for old in rec.supersedes:
                superseded.setdefault(old, []).append(rec.doc_id)
        for rec in records:
            rec.superseded_by = superseded.get(rec.doc_id, [])
        return records

    def document(self, doc_id: str) -> DocumentRecord | None:
        """One document (``superseded_by`` left empty), or None."""
        rows = self._rows(f"SELECT {_COLUMNS} FROM documents WHERE doc_id=?", (doc_id,))
        return self._record(rows[0]) if rows else None

    def current_versions(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """doc_id → current version hash, read in one statement (one snapshot)."""
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        in_ = ",".join("?" * len(ids))
        return dict(
            self._rows(f"SELECT doc_id, doc_hash FROM documents WHERE doc_id IN ({in_})", ids)
        )

    def superseded_ids(self) -> set[str]:
        """Ids that some document's ``supersedes`` names."""
        out: set[str] = set()
        for (raw,) in self._rows("SELECT supersedes FROM documents"):
            out.update(json.loads(raw))
        return out

    @staticmethod
    def _record(row: Sequence[Any]) -> DocumentRecord:
        fields = dict(zip(RECORD_COLUMNS, row, strict=True))
        fields["supersedes"] = json.loads(fields["supersedes"])
        return DocumentRecord(**fields)

    # -- chunks --------------------------------------------------------------------------
    def count_chunks(self, current_only: bool = True) -> int:
        """How many chunks the current versions have (all stored chunks when not
        ``current_only``: staged and replaced ones too)."""
        table = CURRENT if current_only else "chunks c"
        return int(self._rows(f"SELECT COUNT(*) FROM {table}")[0][0])

    def chunk_ids(self, current_only: bool = True) -> set[str]:
        """Ids of the current versions' chunks (of all stored chunks when not current_only)."""
        table = CURRENT if current_only else "chunks c"
        return {r[0] for r in self._rows(f"SELECT c.id FROM {table}")}

    def current_chunks(self, doc_id: str) -> list[Chunk]:
        """The chunks of a document's current version, in reading order."""
        rows = self._rows(
            f"SELECT c.data FROM {CURRENT} WHERE c.doc_id=? ORDER BY c.ordinal", (doc_id,)
        )
        return [Chunk.model_validate_json(data) for (data,) in rows]

    def get_chunks(self, ids: Sequence[str], current_only: bool = True) -> dict[str, Chunk]:
        """Chunks by id; with current_only, chunks of replaced versions are left out."""
        table = CURRENT if current_only else "chunks c"
        rows = self._rows_in(f"SELECT c.id, c.data FROM {table} WHERE c.id {{IN}}", ids)
        return {chunk_id: Chunk.model_validate_json(data) for chunk_id, data in rows}

    def chunk_hashes_by_document(self, content_hash: str) -> dict[str, list[str]]:
        """For every current document that has a chunk with this text hash: the text
        hashes of all its chunks in order (to find a document with the same text).

        Args:
            content_hash: sha256 of a chunk's text (``Chunk.content_hash``).

        Returns:
            doc_id → the content hashes of its current chunks, by ordinal.
        """
        rows = self._rows(
            f"SELECT c.doc_id, c.content_hash FROM {CURRENT} WHERE c.doc_id IN "
            f"(SELECT c.doc_id FROM {CURRENT} WHERE c.content_hash=?) "
            "ORDER BY c.doc_id, c.ordinal",
            (content_hash,),
        )
        out: dict[str, list[str]] = {}
        for doc_id, hash_ in rows:
            out.setdefault(doc_id, []).append(hash_)
        return out

    def neighbours(self, chunk: Chunk) -> tuple[Chunk | None, Chunk | None]:
        """The chunks just before and after this one in the same document version."""
        rows = self._rows(
            "SELECT ordinal, data FROM chunks WHERE doc_id=? AND doc_hash=? AND ordinal IN (?, ?)",
            (chunk.doc_id, chunk.doc_hash, chunk.ordinal - 1, chunk.ordinal + 1),
        )
        found = {o: Chunk.model_validate_json(d) for o, d in rows}
        return found.get(chunk.ordinal - 1), found.get(chunk.ordinal + 1)

    def chunk_ids_by_embed_key(self, keys: Sequence[str]) -> dict[str, str]:
        """chunk id → embedding key, for stored chunks whose key is one of ``keys``."""
        return dict(self._rows_in("SELECT id, embed_key FROM chunks WHERE embed_key {IN}", keys))

    # -- writes --------------------------------------------------------------------------
    def commit(self, doc: Document, doc_hash: str, chunk_count: int) -> None:
        """Make this version of the document current, in one transaction."""
        m = doc.meta
        updates = ", ".join(f"{c} = excluded.{c}" for c in RECORD_COLUMNS[1:])
        with self.db.transaction() as db:
            db.execute(
                self._sql(f"INSERT INTO documents ({_COLUMNS}) VALUES ({','.join('?' * 13)}) "
                          f"ON CONFLICT (doc_id) DO UPDATE SET {updates}"),
                self._text(m.doc_id, doc_hash, doc.content_hash, doc.source, m.title,
                           m.municipality, m.doc_type, m.date or "", json.dumps(m.supersedes),
                           doc.format, len(doc.pages), chunk_count, utc_now()),
            )  # fmt: skip
            self._bump(db)

    def remove(self, doc_id: str) -> bool:
        """Make a document invisible at once (its chunks become stale). Whether it was there."""
        with self.db.transaction() as db:
            cur = db.execute(self._sql("DELETE FROM documents WHERE doc_id=?"), (doc_id,))
            self._bump(db)
        return bool(cur.rowcount)

    def update_document(self, doc: Document, chunks: Sequence[Chunk]) -> None:
        """Store new metadata of an unchanged text: the document row and its chunks' copies."""
        m = doc.meta
        with self.db.transaction() as db:
            for c in chunks:
                db.execute(self._sql("UPDATE chunks SET data=? WHERE id=?"),
                           (c.model_dump_json(), c.id))  # fmt: skip
            db.execute(
                self._sql("UPDATE documents SET title=?, municipality=?, doc_type=?, date=?,"
                          " supersedes=?, source=?, ingested_at=? WHERE doc_id=?"),
                self._text(m.title, m.municipality, m.doc_type, m.date or "",
                           json.dumps(m.supersedes), doc.source, utc_now(), m.doc_id),
            )  # fmt: skip
            self._bump(db)

    def stale_chunk_ids(self) -> list[str]:
        """Ids of chunks of versions that are not current (replaced, removed, or staged by
        an interrupted run)."""
        rows = self._rows(
            "SELECT c.id FROM chunks c LEFT JOIN documents d "
            "ON d.doc_id=c.doc_id AND d.doc_hash=c.doc_hash WHERE d.doc_id IS NULL"
        )
        return [r[0] for r in rows]

    def delete_chunks(self, ids: Sequence[str]) -> None:
        """Delete these chunks (of versions that are not current)."""
        with self.db.transaction() as db:
            for statement, part in self._in_batches("DELETE FROM chunks WHERE id {IN}", ids):
                db.execute(statement, part)

    def _bump(self, db: Any) -> None:
        db.execute(
            "INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key) "
            "DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT)"
        )

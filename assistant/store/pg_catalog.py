"""The catalog in PostgreSQL: the same tables and rules as the SQLite catalog (catalog.py).

A new version's chunks are written beside the old ones and made current in one
transaction; every read of "current" chunks joins on ``documents``, so a reader sees the
old version or the new one, never a mix. One ingest at a time across every process and
host that shares the database: a session-level advisory lock, released by PostgreSQL
when the holder dies.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import Any

from assistant.store.catalog import _RECORD_COLUMNS, CURRENT, _now
from assistant.store.postgres import PostgresDatabase
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
    rowid BIGSERIAL PRIMARY KEY,
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
CREATE INDEX IF NOT EXISTS chunks_embed ON chunks(embed_key);
"""
_COLUMNS = ", ".join(_RECORD_COLUMNS)


class PostgresCatalog:
    """Documents and chunk versions in PostgreSQL (implements ``base.Catalog``).

    Args:
        db: the database, shared with the keyword index.
        label: names the store in the "another ingest is running" message.
    """

    def __init__(self, db: PostgresDatabase, label: str = "PostgreSQL") -> None:
        self.db = db
        self.label = label
        db.ensure_schema(SCHEMA)

    # -- locking and transactions --------------------------------------------------------
    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """One write transaction; the keyword index's writes inside it join it."""
        return self.db.transaction()

    def writer(self) -> contextlib.AbstractContextManager[None]:
        """Hold the ingest lock: an advisory lock, one writer across all replicas.

        Raises:
            StoreLockedError: another process holds it.
        """
        message = f"{self.label}: een andere opname loopt al; wacht tot die klaar is."
        return self.db.advisory_lock("ivb-ingest", message)

    def close(self) -> None:
        self.db.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.db.connection().execute(sql, params).fetchall()

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
        rows = self._rows(f"SELECT {_COLUMNS} FROM documents WHERE doc_id=%s", (doc_id,))
        return self._record(rows[0]) if rows else None

    def current_versions(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """doc_id → current version hash, read in one statement (one snapshot)."""
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        rows = self._rows("SELECT doc_id, doc_hash FROM documents WHERE doc_id = ANY(%s)", (ids,))
        return dict(rows)

    def superseded_ids(self) -> set[str]:
        """Ids that some document's ``supersedes`` names."""
        out: set[str] = set()
        for (raw,) in self._rows("SELECT supersedes FROM documents"):
            out.update(json.loads(raw))
        return out

    @staticmethod
    def _record(row: Sequence[Any]) -> DocumentRecord:
        fields = dict(zip(_RECORD_COLUMNS, row, strict=True))
        fields["supersedes"] = json.loads(fields["supersedes"])
        return DocumentRecord(**fields)

    # -- chunks --------------------------------------------------------------------------
    def count_chunks(self, current_only: bool = True) -> int:
        """Chunks of the current versions (all stored chunks when not ``current_only``)."""
        table = CURRENT if current_only else "chunks c"
        return int(self._rows(f"SELECT COUNT(*) FROM {table}")[0][0])

    def chunk_ids(self, current_only: bool = True) -> set[str]:
        """Ids of the current versions' chunks (of all stored chunks when not current_only)."""
        table = CURRENT if current_only else "chunks c"
        return {r[0] for r in self._rows(f"SELECT c.id FROM {table}")}

    def current_chunks(self, doc_id: str) -> list[Chunk]:
        """The chunks of a document's current version, in reading order."""
        rows = self._rows(
            f"SELECT c.data FROM {CURRENT} WHERE c.doc_id=%s ORDER BY c.ordinal", (doc_id,)
        )
        return [Chunk.model_validate_json(data) for (data,) in rows]

    def get_chunks(self, ids: Sequence[str], current_only: bool = True) -> dict[str, Chunk]:
        """Chunks by id; with current_only, chunks of replaced versions are left out."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        table = CURRENT if current_only else "chunks c"
        rows = self._rows(f"SELECT c.id, c.data FROM {table} WHERE c.id = ANY(%s)", (wanted,))
        return {chunk_id: Chunk.model_validate_json(data) for chunk_id, data in rows}

    def chunk_hashes_by_document(self, content_hash: str) -> dict[str, list[str]]:
        """doc_id → the content hashes of its current chunks by ordinal, for every current
        document with a chunk of this text hash (see ``SqliteCatalog``)."""
        rows = self._rows(
            f"SELECT c.doc_id, c.content_hash FROM {CURRENT} WHERE c.doc_id IN "
            f"(SELECT c.doc_id FROM {CURRENT} WHERE c.content_hash=%s) "
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
            "SELECT ordinal, data FROM chunks WHERE doc_id=%s AND doc_hash=%s "
            "AND ordinal IN (%s, %s)",
            (chunk.doc_id, chunk.doc_hash, chunk.ordinal - 1, chunk.ordinal + 1),
        )
        found = {o: Chunk.model_validate_json(d) for o, d in rows}
        return found.get(chunk.ordinal - 1), found.get(chunk.ordinal + 1)

    def chunk_ids_by_embed_key(self, keys: Sequence[str]) -> dict[str, str]:
        """chunk id → embedding key, for stored chunks whose key is one of ``keys``."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        rows = self._rows("SELECT id, embed_key FROM chunks WHERE embed_key = ANY(%s)", (wanted,))
        return dict(rows)

    # -- writes --------------------------------------------------------------------------
    def add_chunks(self, chunks: Sequence[Chunk], embed_keys: Sequence[str | None]) -> list[Chunk]:
        """Store a version's chunks, invisible until :meth:`commit`; a chunk id already
        stored is left as it is. Returns the chunks that were new."""
        rows = [(c.id, c.doc_id, c.doc_hash, c.ordinal, c.content_hash, c.model_dump_json(), key)
                for c, key in zip(chunks, embed_keys, strict=True)]  # fmt: skip
        new: set[str] = set()
        with self.db.transaction() as conn, conn.cursor() as cur:
            # One pipelined round of inserts; RETURNING names the rows that were new.
            cur.executemany(
                "INSERT INTO chunks (id, doc_id, doc_hash, ordinal, content_hash, data, embed_key)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (id) DO NOTHING RETURNING id",
                rows,
                returning=True,
            )
            while True:
                new.update(r[0] for r in cur.fetchall())
                if not cur.nextset():
                    break
        added: list[Chunk] = []
        for chunk in chunks:
            if chunk.id in new:
                new.discard(chunk.id)  # a chunk id twice in one call is new once
                added.append(chunk)
        return added

    def commit(self, doc: Document, doc_hash: str, chunk_count: int) -> None:
        """Make this version of the document current, in one transaction."""
        m = doc.meta
        updates = ", ".join(f"{c} = excluded.{c}" for c in _RECORD_COLUMNS[1:])
        with self.db.transaction() as conn:
            conn.execute(
                f"INSERT INTO documents ({_COLUMNS}) VALUES ({', '.join(['%s'] * 13)}) "
                f"ON CONFLICT (doc_id) DO UPDATE SET {updates}",
                _no_nul(m.doc_id, doc_hash, doc.content_hash, doc.source, m.title,
                        m.municipality, m.doc_type, m.date or "", json.dumps(m.supersedes),
                        doc.format, len(doc.pages), chunk_count, _now()),
            )  # fmt: skip
            self._bump(conn)

    def remove(self, doc_id: str) -> bool:
        """Make a document invisible at once (its chunks become stale). Whether it was there."""
        with self.db.transaction() as conn:
            cur = conn.execute("DELETE FROM documents WHERE doc_id=%s", (doc_id,))
            self._bump(conn)
        return bool(cur.rowcount)

    def update_document(self, doc: Document, chunks: Sequence[Chunk]) -> None:
        """Store new metadata of an unchanged text: the document row and its chunks' copies."""
        m = doc.meta
        with self.db.transaction() as conn:
            for c in chunks:
                conn.execute("UPDATE chunks SET data=%s WHERE id=%s", (c.model_dump_json(), c.id))
            conn.execute(
                "UPDATE documents SET title=%s, municipality=%s, doc_type=%s, date=%s,"
                " supersedes=%s, source=%s, ingested_at=%s WHERE doc_id=%s",
                _no_nul(m.title, m.municipality, m.doc_type, m.date or "",
                        json.dumps(m.supersedes), doc.source, _now(), m.doc_id),
            )  # fmt: skip
            self._bump(conn)

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
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM chunks WHERE id = ANY(%s)", (list(ids),))

    @staticmethod
    def _bump(conn: Any) -> None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key) "
            "DO UPDATE SET value = (meta.value::bigint + 1)::text"
        )


def _no_nul(*values: Any) -> tuple[Any, ...]:
    """The values with NUL characters taken out of strings: PostgreSQL's text cannot hold
    them (SQLite can; a PDF's title may carry one). Chunk data is JSON, where NUL is
    escaped."""
    return tuple(v.replace("\x00", "") if isinstance(v, str) else v for v in values)

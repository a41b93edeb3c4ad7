"""The catalog in PostgreSQL: the same tables and rules as the SQLite catalog
(``sql_catalog.py``).

One ingest at a time across every process and host that shares the database: a
session-level advisory lock, released by PostgreSQL when the holder dies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from assistant.store.postgres import PostgresDatabase
from assistant.store.sql_catalog import CHUNKS, DOCUMENTS, SqlCatalog
from assistant.types import Chunk

SCHEMA = f"""{DOCUMENTS};{CHUNKS.format(rowid="BIGSERIAL")};
CREATE INDEX IF NOT EXISTS chunks_embed ON chunks(embed_key);
"""


class PostgresCatalog(SqlCatalog):
    """Documents and chunk versions in PostgreSQL (implements ``base.Catalog``).

    Args:
        db: the database, shared with the keyword index.
        label: names the store in the "another ingest is running" message.
    """

    mark = "%s"
    batch = 10_000

    def __init__(self, db: PostgresDatabase, label: str = "PostgreSQL") -> None:
        self.db = db
        self.label = label
        db.ensure_schema(SCHEMA)

    def writer(self) -> contextlib.AbstractContextManager[None]:
        """Hold the ingest lock: an advisory lock, one writer across all replicas.

        Raises:
            StoreLockedError: another process holds it.
        """
        message = f"{self.label}: een andere opname loopt al; wacht tot die klaar is."
        return self.db.advisory_lock("ivb-ingest", message)

    @staticmethod
    def _text(*values: Any) -> tuple[Any, ...]:
        return no_nul(*values)

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


def no_nul(*values: Any) -> tuple[Any, ...]:
    """The values with NUL characters taken out of strings: PostgreSQL's text cannot hold
    them (SQLite can; a PDF's title may carry one). Chunk data is JSON, where NUL is
    escaped."""
    return tuple(v.replace("\x00", "") if isinstance(v, str) else v for v in values)

"""The catalog in SQLite: documents, the chunks of each version, and which version is
current, in ``catalog.sqlite`` (the rules and shared SQL are in ``sql_catalog.py``).

One writing process at a time: a lock on a file beside the database.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.store.base import StoreLockedError
from assistant.store.sql_catalog import CHUNKS, DOCUMENTS, SqlCatalog
from assistant.store.sqlite import SqliteDatabase
from assistant.types import Chunk

SCHEMA = f"{DOCUMENTS};{CHUNKS.format(rowid='INTEGER')};"


class SqliteCatalog(SqlCatalog):
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

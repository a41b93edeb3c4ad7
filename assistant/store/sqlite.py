"""The SQLite database that the catalog and the keyword index share (``catalog.sqlite``).

One connection per thread, in WAL mode so readers never wait for the writer. A
transaction may be opened inside another one on the same thread: it then joins the outer
one, which is how a catalog change and its keyword rows commit together.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

META_SCHEMA = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"


class SqliteDatabase:
    """Connections and transactions on one SQLite file.

    Args:
        path: the database file (created when missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self.connection().executescript(META_SCHEMA)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit unless inside :meth:`transaction`)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            self._local.depth = 0
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE), committed on exit and rolled back on an
        error; inside another transaction of this thread it joins that one."""
        db = self.connection()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield db
            finally:
                self._local.depth -= 1
            return
        db.execute("BEGIN IMMEDIATE")
        self._local.depth = 1
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            self._local.depth = 0
        db.execute("COMMIT")

    def get_meta(self, key: str) -> str | None:
        """A value of the ``meta`` table (None when unset)."""
        row = self.connection().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the ``meta`` table."""
        self.connection().execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def close(self) -> None:
        """Close this thread's connection (the next use opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def placeholders(values: list) -> str:
    """'?,?,?' for an ``IN (...)`` of these values."""
    return ",".join("?" * len(values))


def batches(values: list, size: int = 500) -> Iterator[list]:
    """The values in slices of at most ``size`` (SQLite's limit on bound parameters)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]

"""The PostgreSQL database that holds the shared state when ``IVB_DATABASE_URL`` is set.

One connection per thread (autocommit, so every read statement sees one committed
snapshot, as SQLite's readers do). A transaction opened inside another one on the same
thread joins it, which is how a catalog change and its keyword rows commit together.
The tables live in the first schema of the connection's ``search_path`` (the URL may set
one: ``?options=-csearch_path%3Dname``), so several stores can share one database.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from functools import lru_cache

import psycopg
from pydantic import SecretStr

from assistant.settings import Settings
from assistant.store.base import StoreLockedError

META_SCHEMA = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
_CREATED = re.compile(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)")


class PostgresDatabase:
    """Connections, transactions, the ``meta`` table and the ingest lock on one database.

    Args:
        url: a libpq connection URL (``postgresql://user:password@host:port/db``).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self.ensure_schema(META_SCHEMA)

    def connection(self) -> psycopg.Connection:
        """This thread's connection (autocommit unless inside :meth:`transaction`); a
        connection the server dropped is opened again."""
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = psycopg.connect(self.url, autocommit=True)
            self._local.conn = conn
            self._local.depth = 0
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A write transaction, committed on exit and rolled back on an error; inside
        another transaction of this thread it joins that one."""
        conn = self.connection()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield conn
            finally:
                self._local.depth -= 1
            return
        self._local.depth = 1
        try:
            with conn.transaction():
                yield conn
        finally:
            self._local.depth = 0

    def ensure_schema(self, ddl: str) -> None:
        """Run ``CREATE ... IF NOT EXISTS`` statements, serialised against other processes
        creating the same tables (PostgreSQL's DDL is not race-free). Skipped when every
        table and index they name exists: even a no-op CREATE INDEX would wait for the
        writes in flight on its table."""
        names = _CREATED.findall(ddl)
        found = self.connection().execute(
            "SELECT COUNT(to_regclass(n)) FROM unnest(%s::text[]) AS n", (names,)
        )
        if names and found.fetchone()[0] == len(names):
            return
        with self.transaction() as conn:
            lock = "SELECT pg_advisory_xact_lock(hashtext('ivb-schema:' || current_schema()))"
            conn.execute(lock)
            for statement in filter(str.strip, ddl.split(";")):
                conn.execute(statement)

    def get_meta(self, key: str) -> str | None:
        """A value of the ``meta`` table (None when unset)."""
        row = self.connection().execute("SELECT value FROM meta WHERE key=%s", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the ``meta`` table."""
        self.connection().execute(
            "INSERT INTO meta(key, value) VALUES (%s, %s) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @contextlib.contextmanager
    def advisory_lock(self, name: str, message: str) -> Iterator[None]:
        """Hold a session-level advisory lock on its own connection, so that it is free
        again the moment this process dies.

        Args:
            name: the lock's name (per schema).
            message: the StoreLockedError text when another session holds it.

        Raises:
            StoreLockedError: another session holds the lock.
        """
        with psycopg.connect(self.url, autocommit=True) as conn:
            key = "SELECT hashtext(%s || current_schema())"
            (lock_id,) = conn.execute(key, (name + ":",)).fetchone() or (0,)
            (got,) = conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_id,)).fetchone() or (
                False,
            )
            if not got:
                raise StoreLockedError(message)
            try:
                yield
            finally:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("SELECT pg_advisory_unlock(%s)", (lock_id,))

    def close(self) -> None:
        """Close this thread's connection (the next use opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def database_url(settings: Settings) -> str | None:
    """The PostgreSQL URL of these settings, or None for the embedded SQLite store."""
    secret = settings.database_url
    if secret is None:
        return None
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else str(secret)
    return value.strip() or None


@lru_cache(maxsize=8)
def shared_database(url: str) -> PostgresDatabase:
    """One :class:`PostgresDatabase` per URL in this process (its connections are per
    thread, so the audit log, feedback and staff sessions share them)."""
    return PostgresDatabase(url)

"""Append-only JSON records in PostgreSQL: the audit log and feedback when
``IVB_DATABASE_URL`` is set (without it they are JSON-lines files in the store folder).

One table for both logs, one row per record in the order of appending; a record's
``time`` (ISO 8601) is also kept as a timestamp, so pruning is one DELETE.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from assistant.store.postgres import PostgresDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq BIGSERIAL PRIMARY KEY,
    log TEXT NOT NULL,
    time TIMESTAMPTZ,
    data JSON NOT NULL
);
CREATE INDEX IF NOT EXISTS records_log_time ON records(log, time)
"""


class PostgresRecords:
    """One named log (``"audit"`` or ``"feedback"``) in the ``records`` table.

    Args:
        db: the shared database.
        log: the log's name.
    """

    def __init__(self, db: PostgresDatabase, log: str) -> None:
        self.db = db
        self.log = log
        db.ensure_schema(SCHEMA)

    def append(self, record: dict[str, Any]) -> None:
        """Store one record (a JSON-serialisable mapping with an ISO ``time``)."""
        self.db.connection().execute(
            "INSERT INTO records (log, time, data) VALUES (%s, %s, %s)",
            (self.log, _time(record.get("time")), json.dumps(record, default=str)),
        )

    def read(self) -> list[dict[str, Any]]:
        """Every record of this log, oldest first."""
        rows = self.db.connection().execute(
            "SELECT data FROM records WHERE log=%s ORDER BY seq", (self.log,)
        )
        return [data for (data,) in rows.fetchall() if isinstance(data, dict)]

    def prune(self, cutoff: datetime) -> int:
        """Delete records older than ``cutoff``; a record without a readable time stays.
        Returns how many went."""
        cur = self.db.connection().execute(
            "DELETE FROM records WHERE log=%s AND time < %s", (self.log, cutoff)
        )
        return cur.rowcount


def _time(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)

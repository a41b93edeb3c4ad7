"""The audit log: one JSON line per answered turn, append-only, pruned after a retention period.

The log is ``audit.jsonl`` in the store folder, or the ``records`` table in PostgreSQL
when ``IVB_DATABASE_URL`` is set (shared by every replica). What is logged: the time
(UTC), a pseudonymous session id, the question, the passages retrieved with their
scores, the answer with its citations, whether it refused, and which backend and model
answered how fast. Never an IP address or a name: the session id is a salted hash of the
web session's random id, and the salt lives only in this process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.settings import Settings
from assistant.store.pg_records import PostgresRecords
from assistant.store.postgres import database_url, shared_database
from assistant.types import Answer

_SALT = secrets.token_bytes(16)
_lock = threading.Lock()


def pseudonym(session_hash: str | None) -> str:
    """A stable, non-reversible id for one web session (empty when there is none).

    Args:
        session_hash: gradio's random per-page-load session id.
    """
    if not session_hash:
        return ""
    return hashlib.sha256(_SALT + session_hash.encode("utf-8", "replace")).hexdigest()[:16]


def utc_now() -> str:
    """The current time as an ISO 8601 UTC timestamp."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise writers of one log: a thread lock here, an flock against other processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one record as one line, in one write to a file opened with O_APPEND.

    Args:
        path: the JSON-lines file (created with mode 0600 when missing).
        record: a JSON-serialisable mapping.
    """
    line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    with _locked(path):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def database_log(settings: Settings, log: str) -> PostgresRecords | None:
    """The log in PostgreSQL when ``settings.database_url`` is set, else None (a file).

    Args:
        settings: the settings.
        log: "audit" or "feedback".
    """
    url = database_url(settings)
    return _records(url, log) if url else None


@lru_cache(maxsize=16)
def _records(url: str, log: str) -> PostgresRecords:
    return PostgresRecords(shared_database(url), log)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All records of a JSON-lines file; a missing file is empty, a broken line is skipped.

    Args:
        path: the JSON-lines file.
    """
    if not path.is_file():
        return []
    records = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(item, dict):
                records.append(item)
    return records


def audit_record(
    answer: Answer,
    session_hash: str | None,
    municipality: str | None = None,
    channel: str = "web",
) -> dict[str, Any]:
    """The audit record of one answered turn.

    Args:
        answer: the checked answer, with its passages.
        session_hash: gradio's session id (stored only as a pseudonym).
        municipality: the municipality filter that was applied, if any.
        channel: "web" for the chat, "api" for the named API endpoint.
    """
    return {
        "id": uuid.uuid4().hex,
        "time": utc_now(),
        "session": pseudonym(session_hash),
        "channel": channel,
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "audience": answer.audience,
        "language": answer.language,
        "municipality": municipality or "",
        "passages": [
            {
                "id": p.chunk.id,
                "doc_id": p.chunk.doc_id,
                "page": p.chunk.page_label,
                "score": round(p.score, 4),
                "dense_score": None if p.dense_score is None else round(p.dense_score, 4),
                "keyword_score": None if p.keyword_score is None else round(p.keyword_score, 4),
            }
            for p in answer.passages
        ],
        "answer": answer.text,
        "citations": [
            {
                "n": c.n,
                "chunk_id": c.chunk_id,
                "doc_id": c.doc_id,
                "page": c.page,
                "quote": c.quote,  # the first of quotes, as records before quotes had it
                "quotes": list(c.quotes),
            }
            for c in answer.citations
        ],
        "refused": answer.refused,
        "refusal_reason": answer.refusal_reason,
        "backend": answer.backend,
        "fallback": str(answer.fallback),
        "model": answer.model,
        "timings": {k: round(v, 3) for k, v in answer.timings.items()},
    }


def record_turn(
    settings: Settings,
    answer: Answer,
    session_hash: str | None,
    municipality: str | None = None,
    channel: str = "web",
) -> str:
    """Append one answered turn to the audit log; returns the record's id.

    Args:
        settings: where the log lives (settings.audit_path).
        answer: the checked answer.
        session_hash: gradio's session id (stored only as a pseudonym).
        municipality: the municipality filter that was applied, if any.
        channel: "web" or "api".
    """
    record = audit_record(answer, session_hash, municipality, channel)
    shared = database_log(settings, "audit")
    if shared is not None:
        shared.append(record)
    else:
        append_jsonl(settings.audit_path, record)
    return str(record["id"])


def read_audit(settings: Settings) -> list[dict[str, Any]]:
    """Every audit record, oldest first (from the file or from PostgreSQL).

    Args:
        settings: where the log lives.
    """
    shared = database_log(settings, "audit")
    return shared.read() if shared is not None else read_jsonl(settings.audit_path)


def prune_audit(settings: Settings, now: datetime | None = None) -> int:
    """Drop records older than settings.audit_retention_days; returns how many went.

    The log is rewritten to a temporary file and swapped in with os.replace, under the same
    lock as appends, so no reader ever sees half a log and no append is lost.

    Args:
        settings: the log path and the retention period.
        now: the current time (for tests).
    """
    path = settings.audit_path
    cutoff = (now or datetime.now(UTC)) - timedelta(days=settings.audit_retention_days)
    shared = database_log(settings, "audit")
    if shared is not None:
        return shared.prune(cutoff)
    with _locked(path):
        if not path.is_file():
            return 0
        kept: list[str] = []
        dropped = 0
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    continue
                when = _record_time(line)
                if when is not None and when < cutoff:
                    dropped += 1
                else:
                    kept.append(line if line.endswith("\n") else line + "\n")
        if not dropped:
            return 0
        fd, tmp = tempfile.mkstemp(prefix=".audit-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.writelines(kept)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return dropped


def export_audit(settings: Settings, dest_dir: Path | None = None) -> Path:
    """A copy of the (pruned) audit log for download, named with today's date.

    Args:
        settings: where the log lives.
        dest_dir: where the copy goes (a new temporary folder when None).
    """
    prune_audit(settings)
    dest_dir = Path(dest_dir or tempfile.mkdtemp(prefix="ivb-audit-"))
    dest = dest_dir / f"ivb-auditlog-{datetime.now(UTC):%Y-%m-%d}.jsonl"
    shared = database_log(settings, "audit")
    if shared is not None:
        lines = [json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in shared.read()]
        dest.write_text("".join(lines), encoding="utf-8")
        return dest
    with _locked(settings.audit_path):
        if settings.audit_path.is_file():
            shutil.copyfile(settings.audit_path, dest)
        else:
            dest.write_text("", encoding="utf-8")
    return dest


def _record_time(line: str) -> datetime | None:
    """The time of a record; None for a line that cannot be read (kept, never lost)."""
    try:
        when = datetime.fromisoformat(str(json.loads(line)["time"]))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)

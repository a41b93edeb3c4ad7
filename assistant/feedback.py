"""Reader feedback on answers (thumbs up/down and a comment), and its export to the eval set.

Every rating or comment is appended to settings.feedback_path as one JSON line (to the
``records`` table in PostgreSQL when ``IVB_DATABASE_URL`` is set); a later
line about the same turn overrides an earlier one (a comment after a thumbs-up, or a
changed mind). `export_feedback` turns the latest rating of each turn into items of the
evaluation dataset with `assistant.evaluation.feedback.from_feedback`, the one conversion
from feedback to gold-set records.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from assistant.audit import append_jsonl, database_log, pseudonym, read_jsonl, utc_now
from assistant.evaluation.feedback import from_feedback
from assistant.settings import Settings
from assistant.types import Citation

Rating = Literal["up", "down", "none"]
MAX_COMMENT = 2000


def record_feedback(
    settings: Settings,
    *,
    question: str,
    answer: str,
    citations: Sequence[Citation | dict[str, Any]],
    rating: Rating,
    comment: str = "",
    session_hash: str | None = None,
    turn_id: str = "",
    audience: str = "raad",
    language: str = "nl",
    refused: bool = False,
) -> dict[str, Any]:
    """Append one piece of feedback on an answer; returns the stored record.

    Args:
        settings: where feedback lives (settings.feedback_path).
        question: the question as asked.
        answer: the checked answer text, with its [n] markers.
        citations: the answer's citations.
        rating: "up", "down", or "none" (a rating taken back).
        comment: an optional free-text comment (cut at 2000 characters).
        session_hash: gradio's session id (stored only as a pseudonym).
        turn_id: the id of the turn's audit record, which links the two logs.
        audience: "raad" or "inwoner".
        language: the answer's language.
        refused: whether the assistant refused.
    """
    if rating not in ("up", "down", "none"):
        raise ValueError(f"rating must be 'up', 'down' or 'none', not {rating!r}")
    record = {
        "id": uuid.uuid4().hex,
        "time": utc_now(),
        "session": pseudonym(session_hash),
        "turn_id": turn_id,
        "question": question,
        "answer": answer,
        "citations": [_citation_dict(c) for c in citations],
        "refused": refused,
        "audience": audience,
        "language": language,
        "rating": rating,
        "comment": comment.strip()[:MAX_COMMENT],
    }
    shared = database_log(settings, "feedback")
    if shared is not None:
        shared.append(record)
    else:
        append_jsonl(settings.feedback_path, record)
    return record


def latest_feedback(settings: Settings) -> list[dict[str, Any]]:
    """The last feedback record of each turn, oldest first.

    Args:
        settings: where feedback lives.
    """
    latest: dict[str, dict[str, Any]] = {}
    shared = database_log(settings, "feedback")
    records = shared.read() if shared is not None else read_jsonl(settings.feedback_path)
    for record in records:
        key = record.get("turn_id") or record.get("id") or ""
        previous = latest.pop(key, None)
        if previous is not None and not record.get("comment") and previous.get("comment"):
            # A rating change keeps the comment that came with the earlier rating.
            record = {**record, "comment": previous["comment"]}
        latest[key] = record
    return [r for r in latest.values() if r.get("rating") in ("up", "down")]


def export_feedback(settings: Settings, include_negative: bool = False) -> list[dict[str, Any]]:
    """Feedback as evaluation items, one per question and audience (the latest rating wins).

    The conversion is `assistant.evaluation.feedback.from_feedback`'s: a thumbs-up on a
    cited answer becomes an answerable item with the cited pages as sources (a source
    without a known page has no ``page`` key) and the answer as reference; a thumbs-up on
    a refusal becomes an unanswerable item. Thumbs-down items, marked ``needs_review``
    with the comment in ``notes``, only come with ``include_negative``; without it a
    thumbs-down still takes back an earlier thumbs-up on the same question.

    Args:
        settings: where feedback lives.
        include_negative: also export thumbs-down items for review.
    """
    records = [r for r in latest_feedback(settings) if str(r.get("question") or "").strip()]
    if not include_negative:
        # "none" (a rating taken back) drops the item, just as a later rating would.
        records = [r if r.get("rating") == "up" else {**r, "rating": "none"} for r in records]
    return from_feedback(records)


def export_feedback_file(
    settings: Settings, dest_dir: Path | None = None, include_negative: bool = False
) -> Path:
    """`export_feedback` as a JSON-lines file for download (the eval/ dataset format).

    Args:
        settings: where feedback lives.
        dest_dir: where the file goes (a new temporary folder when None).
        include_negative: also export thumbs-down items for review.
    """
    items = export_feedback(settings, include_negative=include_negative)
    dest_dir = Path(dest_dir or tempfile.mkdtemp(prefix="ivb-feedback-"))
    dest = dest_dir / "ivb-feedback-evalset.jsonl"
    dest.write_text(
        "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8"
    )
    return dest


def _citation_dict(citation: Citation | dict[str, Any]) -> dict[str, Any]:
    data = citation.model_dump() if isinstance(citation, Citation) else dict(citation)
    keep = ("n", "chunk_id", "doc_id", "title", "page", "page_index", "quote", "quotes")
    return {k: data.get(k) for k in keep if k in data}

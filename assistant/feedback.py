"""Reader feedback on answers (thumbs up/down and a comment), and its export to the eval set.

Every rating or comment is appended to settings.feedback_path as one JSON line; a later
line about the same turn overrides an earlier one (a comment after a thumbs-up, or a
changed mind). `export_feedback` turns the latest rating of each turn into items of the
evaluation dataset: id, question, audience, language, answerable, reference_answer,
key_facts and sources [{doc_id, page}].
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from assistant.audit import append_jsonl, pseudonym, read_jsonl, utc_now
from assistant.settings import Settings
from assistant.types import Citation

Rating = Literal["up", "down", "none"]
_MARKER = re.compile(r"\s*\[\d+\]")
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
    append_jsonl(settings.feedback_path, record)
    return record


def latest_feedback(settings: Settings) -> list[dict[str, Any]]:
    """The last feedback record of each turn, oldest first.

    Args:
        settings: where feedback lives.
    """
    latest: dict[str, dict[str, Any]] = {}
    for record in read_jsonl(settings.feedback_path):
        key = record.get("turn_id") or record.get("id") or ""
        previous = latest.pop(key, None)
        if previous is not None and not record.get("comment") and previous.get("comment"):
            # A rating change keeps the comment that came with the earlier rating.
            record = {**record, "comment": previous["comment"]}
        latest[key] = record
    return [r for r in latest.values() if r.get("rating") in ("up", "down")]


def export_feedback(settings: Settings, include_negative: bool = False) -> list[dict[str, Any]]:
    """Feedback as evaluation items, one per question and audience (the latest rating wins).

    A thumbs-up on an answer becomes an answerable item whose reference answer is the
    answer (without markers), whose key facts are the quoted spans and whose sources are
    the cited pages; a thumbs-up on a refusal becomes an unanswerable item. Thumbs-down
    items only come with ``include_negative``, marked ``needs_review``: the comment, if
    any, is their reference answer, and a person must check them before they are used.

    Args:
        settings: where feedback lives.
        include_negative: also export thumbs-down items for review.
    """
    items: dict[str, dict[str, Any]] = {}
    for record in latest_feedback(settings):
        question = str(record.get("question", "")).strip()
        if not question:
            continue
        audience = str(record.get("audience") or "raad")
        item_id = "fb-" + hashlib.sha256(f"{audience}\n{question}".encode()).hexdigest()[:12]
        citations = [c for c in record.get("citations", []) if isinstance(c, dict)]
        refused = bool(record.get("refused"))
        if record.get("rating") == "up":
            item: dict[str, Any] = {
                "id": item_id,
                "question": question,
                "audience": audience,
                "language": record.get("language") or "nl",
                "answerable": not refused,
                "reference_answer": "" if refused else _strip_markers(record.get("answer", "")),
                "key_facts": [] if refused else _unique(c.get("quote", "") for c in citations),
                "sources": [] if refused else _sources(citations),
            }
        elif include_negative:
            item = {
                "id": item_id,
                "question": question,
                "audience": audience,
                "language": record.get("language") or "nl",
                # A refusal marked wrong says the question was answerable; a wrong answer
                # says nothing certain about it.
                "answerable": True if refused else None,
                "reference_answer": str(record.get("comment", "")),
                "key_facts": [],
                "sources": [],
                "needs_review": True,
            }
        else:
            items.pop(item_id, None)
            continue
        items.pop(item_id, None)  # keep the order of the latest rating
        items[item_id] = item
    return list(items.values())


def _citation_dict(citation: Citation | dict[str, Any]) -> dict[str, Any]:
    data = citation.model_dump() if isinstance(citation, Citation) else dict(citation)
    keep = ("n", "chunk_id", "doc_id", "title", "page", "page_index", "quote")
    return {k: data.get(k) for k in keep if k in data}


def _strip_markers(text: str) -> str:
    return _MARKER.sub("", str(text)).strip()


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def _sources(citations: list[dict[str, Any]]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for c in citations:
        key = (str(c.get("doc_id", "")), str(c.get("page", "")))
        if key[0]:
            seen.setdefault(key, {"doc_id": key[0], "page": key[1]})
    return list(seen.values())

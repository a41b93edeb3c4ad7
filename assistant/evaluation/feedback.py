"""Turn thumbs-up/down feedback from users into gold-set records.

The rules follow ``assistant.feedback.export_feedback`` (same ids, latest rating wins):
a thumbs-up on an answer makes an answerable question whose gold sources are the cited
pages and whose reference is that answer; a thumbs-up on a refusal makes an unanswerable
question. A thumbs-down becomes ``needs_review: true`` (a refusal marked wrong is
answerable; a wrong answer says nothing certain, so ``answerable`` stays empty): somebody
writes its gold before it is run. Key facts are left for that person too: quoted spans
make brittle key facts for an answer that paraphrases.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from assistant.evaluation.dataset import EvalItem
from assistant.evaluation.metrics import answer_body

UP = frozenset({"up", "+1", "1", "true", "👍", "goed", "positive", "positief", "like"})
DOWN = frozenset({"down", "-1", "false", "👎", "fout", "negative", "negatief", "dislike"})
WITHDRAWN = frozenset({"none", "", "0"})


def _rating(value: Any, index: int) -> bool | None:
    key = str(value if value is not None else "").strip().lower()
    if key in UP:
        return True
    if key in DOWN:
        return False
    if key in WITHDRAWN:
        return None
    raise ValueError(
        f"feedback-record {index}: onbekende beoordeling {value!r}; gebruik up/down, +1/-1 of 👍/👎"
    )


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _sources(citations: Iterable[Any]) -> list[dict[str, str]]:
    out: dict[tuple[str, str], dict[str, str]] = {}
    for c in citations or []:
        doc_id, page = _field(c, "doc_id"), _field(c, "page")
        if not doc_id:
            continue
        src = {"doc_id": str(doc_id)}
        if page not in (None, ""):
            src["page"] = str(page)
        out.setdefault((src["doc_id"], src.get("page", "")), src)
    return list(out.values())


def item_id(question: str, audience: str) -> str:
    """The id of a feedback item: the same as ``assistant.feedback.export_feedback``'s."""
    return "fb-" + hashlib.sha256(f"{audience}\n{question}".encode()).hexdigest()[:12]


def from_feedback(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Gold-set records (dicts in the eval/ format) from feedback records, oldest first.

    One item per question and audience; a later record overrides an earlier one, and a
    withdrawn rating ("none") removes the item.

    Args:
        records: ``{question, answer, citations, rating, comment}``, optionally with
            ``refused``, ``audience``, ``language``, ``municipality`` and ``history``.
            ``citations`` are dicts or Citation objects with ``doc_id`` and ``page``.

    Raises:
        ValueError: naming the record, when a question or rating is missing or unknown.
    """
    from assistant.language import detect

    items: dict[str, dict[str, Any]] = {}
    for index, rec in enumerate(records, start=1):
        question = str(rec.get("question") or "").strip()
        if not question:
            raise ValueError(f"feedback-record {index}: de vraag ontbreekt")
        up = _rating(rec.get("rating"), index)
        audience = rec.get("audience") if rec.get("audience") in ("raad", "inwoner") else "raad"
        key = item_id(question, audience)
        items.pop(key, None)  # the latest rating wins, and keeps its place
        if up is None:
            continue
        answer = str(rec.get("answer") or "")
        sources = _sources(rec.get("citations") or [])
        refused = bool(rec.get("refused"))
        item: dict[str, Any] = {
            "id": key,
            "question": question,
            "audience": audience,
            "language": rec.get("language") or detect(question),
            "tags": ["feedback"],
        }
        if rec.get("municipality"):
            item["municipality"] = rec["municipality"]
        if rec.get("history"):
            item["history"] = [list(turn)[:2] for turn in rec["history"]]
        notes = [str(rec["comment"]).strip()] if str(rec.get("comment") or "").strip() else []
        if up and refused:
            item["answerable"] = False  # the reader agreed that the documents don't say it
        elif up and sources:
            item.update(answerable=True, sources=sources, reference_answer=answer_body(answer))
        else:
            # Thumbs-down, or a thumbs-up with no source to hold on to: a person decides.
            item.update(answerable=True if refused or up else None, needs_review=True)
            item["tags"].append("needs-review")
            if answer.strip() and not refused:
                verdict = "goedgekeurd" if up else "afgekeurd"
                notes.append(f"{verdict} antwoord: {answer_body(answer)[:500]}")
        if notes:
            item["notes"] = " | ".join(notes)
        EvalItem.model_validate(item)  # fail here, naming the record, not later in a run
        items[key] = item
    return list(items.values())

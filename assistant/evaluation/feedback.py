"""Turn thumbs-up/down feedback from users into gold-set records.

A thumbs-up on an answer makes an answerable question whose gold sources are the pages
it cited and whose reference is that answer; a thumbs-up on a refusal makes an
unanswerable question. A thumbs-down (or a thumbs-up with nothing to go on) becomes a
record with ``needs_review: true``: somebody must write its gold before it is run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from assistant.evaluation.dataset import EvalItem, write_dataset
from assistant.evaluation.metrics import answer_body

UP = frozenset({"up", "+1", "1", "true", "👍", "goed", "positive", "positief", "like"})
DOWN = frozenset({"down", "-1", "0", "false", "👎", "fout", "negative", "negatief", "dislike"})


def _rating(value: Any, index: int) -> bool:
    key = str(value).strip().lower()
    if key in UP:
        return True
    if key in DOWN:
        return False
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


def from_feedback(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Gold-set records (dicts in the eval/ format) from feedback records.

    Args:
        records: ``{question, answer, citations, rating, comment}``, optionally with
            ``refused``, ``audience``, ``language``, ``municipality`` and ``history``.
            ``citations`` are dicts or Citation objects with ``doc_id`` and ``page``.

    Raises:
        ValueError: naming the record, when a question or rating is missing or unknown.
    """
    from assistant.language import detect

    out: list[dict[str, Any]] = []
    ids: dict[str, int] = {}
    for index, rec in enumerate(records, start=1):
        question = str(rec.get("question") or "").strip()
        if not question:
            raise ValueError(f"feedback-record {index}: de vraag ontbreekt")
        up = _rating(rec.get("rating"), index)
        answer = str(rec.get("answer") or "")
        sources = _sources(rec.get("citations") or [])
        refused = bool(rec.get("refused")) or (not sources and not answer.strip())
        base = "fb-" + hashlib.sha1(question.lower().encode()).hexdigest()[:10]
        ids[base] = ids.get(base, 0) + 1
        item: dict[str, Any] = {
            "id": base if ids[base] == 1 else f"{base}-{ids[base]}",
            "question": question,
            "language": rec.get("language") or detect(question),
            "tags": ["feedback"],
        }
        if rec.get("audience") in ("raad", "inwoner"):
            item["audience"] = rec["audience"]
        if rec.get("municipality"):
            item["municipality"] = rec["municipality"]
        if rec.get("history"):
            item["history"] = [list(turn)[:2] for turn in rec["history"]]
        notes = [str(rec["comment"]).strip()] if rec.get("comment") else []
        if up and refused:
            item["answerable"] = False  # the user agreed that the documents don't say it
        elif up and sources:
            item.update(sources=sources, reference_answer=answer_body(answer))
        else:
            item.update(needs_review=True)
            item["tags"].append("needs-review")
            if answer.strip():
                notes.append(
                    ("goedgekeurd" if up else "afgekeurd")
                    + " antwoord: "
                    + answer_body(answer)[:500]
                )
        if notes:
            item["notes"] = " | ".join(notes)
        EvalItem.model_validate(item)  # fail here, naming the record, not later in a run
        out.append(item)
    return out


def export_feedback(feedback_jsonl: str | Path, out_dataset: str | Path) -> Path:
    """Read a feedback log (one JSON record a line) and write it as a gold set.

    Args:
        feedback_jsonl: e.g. ``settings.feedback_path``.
        out_dataset: the ``.jsonl`` to write.
    """
    path = Path(feedback_jsonl)
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: geen geldige JSON ({exc.msg})") from None
    return write_dataset(from_feedback(records), out_dataset)

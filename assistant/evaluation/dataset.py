"""The gold-set format: one JSON object per line, one question each.

    {"id": "ivb-001", "question": "Welke thema's ...?", "audience": "raad", "language": "nl",
     "answerable": true, "key_facts": ["cybercrime", "re:maatschappelijke\\s+onrust"],
     "sources": [{"doc_id": "ivb-...", "page": "2"}], "reference_answer": "...",
     "history": [["eerdere vraag", "eerder antwoord"]], "municipality": "Dronten",
     "tags": ["feit"]}

A key fact is a case- and accent-insensitive substring, or a regular expression when it
starts with ``re:``. A source names a document and, optionally, the page label or the
section heading where the answer stands. By default every source is needed
(``sources_mode: "all"``); with ``"any"`` one of them is enough.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.analysis import fold

REGEX_PREFIX = "re:"
_SPACE = re.compile(r"\s+")


class DatasetError(ValueError):
    """A gold-set file a user can fix; ``str(error)`` is ``"<path>:<line>: <reason>"``."""

    def __init__(self, path: str | Path, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {reason}")


class SourceRef(BaseModel):
    """Where the answer to a question stands: a document, and a page label or a section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    doc_id: str = Field(min_length=1)
    page: str | None = None  # printed page label, e.g. "2"
    section: str | None = None  # (part of) the section heading, e.g. "Planning en proces"

    @field_validator("page", mode="before")
    @classmethod
    def _page_as_label(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def label(self) -> str:
        """Short human form: ``doc p. 2`` or ``doc § Planning``."""
        if self.page:
            return f"{self.doc_id} p. {self.page}"
        if self.section:
            return f"{self.doc_id} § {self.section}"
        return self.doc_id


class EvalItem(BaseModel):
    """One gold question."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    history: list[tuple[str, str]] = Field(default_factory=list)
    audience: Literal["raad", "inwoner"] = "raad"
    language: str = "nl"
    answerable: bool | None = True  # None only while needs_review: nobody knows yet
    reference_answer: str | None = None
    key_facts: list[str] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)
    sources_mode: Literal["all", "any"] = "all"
    municipality: str | None = None
    tags: list[str] = Field(default_factory=list)
    needs_review: bool = False  # e.g. from thumbs-down feedback: no gold yet, not run
    notes: str | None = None

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("de vraag is leeg")
        return value

    @field_validator("key_facts")
    @classmethod
    def _facts_compile(cls, facts: list[str]) -> list[str]:
        for fact in facts:
            if not fact.strip():
                raise ValueError("een key_fact is leeg")
            if fact.startswith(REGEX_PREFIX):
                try:
                    re.compile(fact[len(REGEX_PREFIX) :])
                except re.error as exc:
                    raise ValueError(f"key_fact {fact!r} is geen geldige regex: {exc}") from exc
        return facts

    @model_validator(mode="after")
    def _consistent(self) -> EvalItem:
        if self.answerable is None and not self.needs_review:
            raise ValueError("answerable is leeg; dat mag alleen met needs_review: true")
        if self.answerable is False and self.sources:
            raise ValueError("een onbeantwoordbare vraag (answerable=false) heeft geen sources")
        return self

    @property
    def is_injection(self) -> bool:
        return "injection" in self.tags


def _normalise(text: str) -> str:
    return _SPACE.sub(" ", fold(text)).strip()


def fact_found(fact: str, text: str) -> bool:
    """Whether a key fact occurs in a text.

    Plain facts compare folded (lower case, no accents, ’ → ') with runs of white space
    made single; ``re:`` facts are searched case-insensitively in the text as written
    and in its folded form, so a pattern may be written either way.

    Args:
        fact: a substring, or ``re:<pattern>``.
        text: the answer text.
    """
    if fact.startswith(REGEX_PREFIX):
        pattern = re.compile(fact[len(REGEX_PREFIX) :], re.IGNORECASE)
        plain = _SPACE.sub(" ", text)
        return bool(pattern.search(plain) or pattern.search(_normalise(text)))
    return _normalise(fact) in _normalise(text)


def load_dataset(path: str | Path) -> list[EvalItem]:
    """Read and check a gold set.

    Blank lines are skipped. Ids must be unique.

    Args:
        path: a ``.jsonl`` file.

    Raises:
        DatasetError: naming the file and line, and what to fix.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(path, None, "bestand bestaat niet; geef het pad naar een .jsonl-set")
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    text = path.read_text(encoding="utf-8")
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            reason = f"geen geldige JSON ({exc.msg}, kolom {exc.colno})"
            raise DatasetError(path, number, reason) from None
        if not isinstance(data, dict):
            raise DatasetError(path, number, "elke regel moet één JSON-object zijn")
        try:
            item = EvalItem.model_validate(data)
        except ValidationError as exc:
            raise DatasetError(path, number, _explain(exc)) from None
        if item.id in seen:
            raise DatasetError(
                path, number, f"id '{item.id}' staat ook op regel {seen[item.id]}; maak ids uniek"
            )
        seen[item.id] = number
        items.append(item)
    if not items:
        raise DatasetError(path, None, "bevat geen vragen")
    return items


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "regel"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "onbekend veld; zie eval/README.md voor de velden"
        elif err["type"] == "missing":
            msg = "ontbreekt"
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def dump_item(item: EvalItem | dict[str, Any]) -> str:
    """One JSON line for an item, without defaults, so files stay short and readable."""
    if isinstance(item, dict):
        item = EvalItem.model_validate(item)
    full = item.model_dump(mode="json")
    short = item.model_dump(mode="json", exclude_defaults=True)
    always = ("id", "question", "history", "audience", "language", "answerable")
    data = {k: full[k] for k in always if k in short or k != "history"}
    data.update({k: v for k, v in short.items() if k not in data})
    return json.dumps(data, ensure_ascii=False)


def write_dataset(items: Iterable[EvalItem | dict[str, Any]], path: str | Path) -> Path:
    """Write items as a gold set (each is checked first, so the file is always loadable).

    Args:
        items: EvalItems or dicts in the gold format.
        path: the ``.jsonl`` file to write (replaced).
    """
    path = Path(path)
    lines = [dump_item(item) for item in items]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def select(items: Sequence[EvalItem], ids: Sequence[str] | None = None) -> list[EvalItem]:
    """Items with these ids (in the file's order); all items when ids is None."""
    if ids is None:
        return list(items)
    wanted = set(ids)
    missing = wanted - {i.id for i in items}
    if missing:
        raise KeyError(f"onbekende id(s): {', '.join(sorted(missing))}")
    return [i for i in items if i.id in wanted]

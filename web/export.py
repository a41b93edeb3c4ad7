"""A conversation as a file ("Gesprek opslaan"): Markdown or Word (docx, python-docx).

Per answer: the question, the answer, when it was asked and by which model, and its
sources (title, page, each quoted sentence); a refusal is marked as one, with its reason. Pure
rendering: `ExportTurn`s in, bytes out; the chat (web.chat) and the API (web.api) make the
turns. The file's own texts (headings, labels, dates, refusal reasons) are in the visitor's
language, from the catalogue (web.i18n); questions, answers and quotes stay as they were.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from assistant.types import RefusalReason
from web.i18n import text

ExportFormat = Literal["md", "docx"]
EXPORT_FORMATS: tuple[str, ...] = ("md", "docx")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
# The document language a Word file declares.
DOCX_LANGUAGES = {"nl": "nl-NL", "en": "en-GB"}
# Why there is no answer (assistant.types.RefusalReason): the export says it in words, from
# the catalogue key ``export_reason_<reason>``.
REFUSAL_REASON_CODES = tuple(r.value for r in RefusalReason)
# The Dutch wording of each reason (the catalogue's), for callers that quote it.
REFUSAL_REASONS = {r: text(f"export_reason_{r}", "nl") for r in REFUSAL_REASON_CODES}


@dataclass
class ExportSource:
    """One cited source of an answer.

    ``quotes`` holds every sentence of the source the answer rests on, ``quote`` the first
    (a source made with only ``quote`` gets ``quotes == [quote]``).
    """

    n: int
    title: str
    page: str
    quote: str
    doc_id: str = ""
    superseded: bool = False
    quotes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.quotes and self.quote:
            self.quotes = [self.quote]


@dataclass
class ExportTurn:
    """One question and its answer as exported.

    Attributes:
        question: the question as asked.
        answer: the answer text with its [n] marks (for a refusal: what was said instead).
        asked_at: when it was asked (timezone-aware).
        model: the model that answered (or "" when none).
        backend: "extractive", "local" or "openai".
        refused: whether the answer is a refusal.
        refusal_reason: an `assistant.types.RefusalReason` value, or "".
        notice: a line the reader was shown with the answer (e.g. the model failed).
        sources: the cited sources, in citation order.
    """

    question: str
    answer: str
    asked_at: datetime
    model: str = ""
    backend: str = ""
    refused: bool = False
    refusal_reason: str = ""
    notice: str = ""
    sources: list[ExportSource] = field(default_factory=list)

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any], asked_at: datetime) -> ExportTurn:
        """A turn from an answer in the shape of ``Answer.as_dict()`` (the API's answer).

        Args:
            answer: question, answer, refused, refusal_reason, citations, model, backend.
            asked_at: when the question was asked.
        """
        return cls(
            question=str(answer.get("question", "")),
            answer=str(answer.get("answer", "")),
            asked_at=asked_at,
            model=str(answer.get("model", "")),
            backend=str(answer.get("backend", "")),
            refused=bool(answer.get("refused", False)),
            refusal_reason=str(answer.get("refusal_reason", "")),
            notice=str(answer.get("notice", "")),
            sources=[
                ExportSource(
                    n=int(c["n"]),
                    title=str(c.get("title", "")),
                    page=str(c.get("page", "")),
                    quote=str(c.get("quote", "")),
                    doc_id=str(c.get("doc_id", "")),
                    superseded=bool(c.get("superseded", False)),
                    quotes=[str(q) for q in c.get("quotes") or []],
                )
                for c in answer.get("citations", [])
            ],
        )


def export_time(moment: datetime, lang: str = "nl") -> str:
    """'1 december 2026, 14:05 UTC' (English: '1 December 2026, 14:05 UTC'; the moment in
    UTC)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    month = text("export_months", lang).split()[utc.month - 1]
    return f"{utc.day} {month} {utc.year}, {utc:%H:%M} UTC"


def model_line(turn: ExportTurn, lang: str = "nl") -> str:
    """'qwen… (local)', or the backend alone."""
    if turn.model and turn.backend and turn.model != turn.backend:
        return f"{turn.model} ({turn.backend})"
    return turn.model or turn.backend or text("export_unknown", lang)


def refusal_line(turn: ExportTurn, lang: str = "nl") -> str:
    """'Geweigerd: geen antwoord gegeven (reden: …).' (English: 'Refused: no answer given
    (reason: …).')"""
    code = turn.refusal_reason
    if code in REFUSAL_REASON_CODES:
        reason = text(f"export_reason_{code}", lang)
    else:
        reason = code or text("export_unknown", lang)
    return text("export_refused", lang, reason=reason)


def summary_line(turns: Sequence[ExportTurn], lang: str = "nl") -> str:
    """'2 vragen, waarvan 1 geweigerd.' (English: '2 questions, of which 1 refused.')"""
    refused = sum(t.refused for t in turns)
    key = "export_summary_one" if len(turns) == 1 else "export_summary"
    return text(key, lang, n=len(turns), refused=refused)


def export_file_name(moment: datetime, fmt: str, lang: str = "nl") -> str:
    """'gesprek-ivb-20261201-1405.md' (English: 'conversation-ivb-…'; the moment in UTC)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return f"{text('export_file', lang)}-{utc:%Y%m%d-%H%M}.{fmt}"


def _saved_line(turns: Sequence[ExportTurn], exported_at: datetime, lang: str) -> str:
    return text(
        "export_saved", lang, time=export_time(exported_at, lang), summary=summary_line(turns, lang)
    )


def _asked_line(turn: ExportTurn, lang: str) -> str:
    return text(
        "export_asked", lang, time=export_time(turn.asked_at, lang), model=model_line(turn, lang)
    )


def _source_line(source: ExportSource, doc: str, lang: str) -> str:
    """'<doc>, pagina 7 (vervangen door een nieuwere versie)' after the source's title."""
    old = f" ({text('export_superseded', lang)})" if source.superseded else ""
    return f"{doc}, {text('page', lang)} {source.page}{old}"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _md_escape(text: str) -> str:
    """A line that Markdown shows as text: no heading, list, quote or table marks at its
    start, and no HTML."""
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"^(\s*)([#>*+\-|]|\d+[.)])", r"\1\\\2", text, flags=re.MULTILINE)


def to_markdown(turns: Sequence[ExportTurn], exported_at: datetime, lang: str = "nl") -> str:
    """The conversation as Markdown.

    Args:
        turns: the turns, oldest first.
        exported_at: when the export was made.
        lang: the language of the file's own texts ("nl" or "en").
    """
    lines = [
        f"# {text('export_title', lang)}",
        "",
        _saved_line(turns, exported_at, lang),
        "",
        f"*{text('export_disclaimer', lang)}*",
    ]
    for i, turn in enumerate(turns, 1):
        question = _md_escape(_one_line(turn.question))
        lines += ["", f"## {text('export_question', lang, n=i, question=question)}", ""]
        lines += [_asked_line(turn, lang), ""]
        if turn.refused:
            lines += [f"**{refusal_line(turn, lang)}**", ""]
        if turn.notice:
            lines += [f"*{_md_escape(_one_line(turn.notice))}*", ""]
        lines.append(_md_escape(turn.answer.strip()))
        if turn.sources:
            lines += ["", f"**{text('sources', lang)}**", ""]
            for s in turn.sources:
                doc = f" (`{s.doc_id}`)" if s.doc_id else ""
                lines.append(f"- [{s.n}] {_md_escape(s.title)}{_source_line(s, doc, lang)}")
                # One quote paragraph per quoted sentence ("  >" between keeps them apart).
                quoted = [f"  > {_md_escape(_one_line(q))}" for q in s.quotes or [s.quote]]
                lines.append("\n  >\n".join(quoted))
    return "\n".join(lines) + "\n"


def to_docx(turns: Sequence[ExportTurn], exported_at: datetime, lang: str = "nl") -> bytes:
    """The conversation as a Word document (python-docx).

    Args:
        turns: the turns, oldest first.
        exported_at: when the export was made.
        lang: the language of the file's own texts ("nl" or "en").
    """
    from docx import Document
    from docx.shared import Pt

    title = text("export_title", lang)
    doc = Document()
    doc.core_properties.title = title
    doc.core_properties.language = DOCX_LANGUAGES.get(lang, DOCX_LANGUAGES["nl"])
    doc.core_properties.created = exported_at.astimezone(UTC).replace(tzinfo=None)
    doc.add_heading(title, level=0)
    doc.add_paragraph(_saved_line(turns, exported_at, lang))
    doc.add_paragraph().add_run(text("export_disclaimer", lang)).italic = True
    for i, turn in enumerate(turns, 1):
        question = _one_line(turn.question)
        doc.add_heading(text("export_question", lang, n=i, question=question), level=1)
        doc.add_paragraph().add_run(_asked_line(turn, lang)).font.size = Pt(9)
        if turn.refused:
            doc.add_paragraph().add_run(refusal_line(turn, lang)).bold = True
        if turn.notice:
            doc.add_paragraph().add_run(_one_line(turn.notice)).italic = True
        for part in re.split(r"\n\s*\n", turn.answer.strip()):
            if part.strip():
                doc.add_paragraph(part.strip())
        if turn.sources:
            doc.add_heading(text("sources", lang), level=2)
            for s in turn.sources:
                doc_id = f" ({s.doc_id})" if s.doc_id else ""
                item = doc.add_paragraph(style="List Bullet")
                item.add_run(f"[{s.n}] {s.title}").bold = True
                item.add_run(_source_line(s, doc_id, lang))
                for quote in s.quotes or [s.quote]:
                    doc.add_paragraph(_one_line(quote), style="Quote")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def render_export(
    turns: Sequence[ExportTurn], fmt: str, exported_at: datetime | None = None, lang: str = "nl"
) -> tuple[bytes, str]:
    """The file's bytes and its media type.

    Args:
        turns: the turns, oldest first.
        fmt: "md" or "docx".
        exported_at: when the export was made (default: now).
        lang: the language of the file's own texts ("nl" or "en").

    Raises:
        ValueError: an unknown format.
    """
    moment = exported_at or datetime.now(UTC)
    if fmt == "md":
        return to_markdown(turns, moment, lang).encode("utf-8"), MEDIA_TYPES["md"]
    if fmt == "docx":
        return to_docx(turns, moment, lang), MEDIA_TYPES["docx"]
    raise ValueError(f"onbekend exportformaat '{fmt}': kies md of docx")

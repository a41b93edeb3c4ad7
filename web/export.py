"""A conversation as a file ("Gesprek opslaan"): Markdown or Word (docx, python-docx).

Per answer: the question, the answer, when it was asked and by which model, and its
sources (title, page, the quoted text); a refusal is marked as one, with its reason. Pure
rendering: `ExportTurn`s in, bytes out; the chat (web.chat) and the API (web.api) make the
turns.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

ExportFormat = Literal["md", "docx"]
EXPORT_FORMATS: tuple[str, ...] = ("md", "docx")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
TITLE = "Gesprek met de IVB-assistent"
DISCLAIMER = (
    "Dit is geen juridisch advies en geen officieel standpunt van een gemeente. Controleer "
    "belangrijke informatie altijd in de bron."
)
REFUSED_LABEL = "Geweigerd: geen antwoord gegeven"
# Why there is no answer (assistant.types.RefusalReason), as the export says it.
REFUSAL_REASONS = {
    "injection": "de vraag probeert de instructies van de assistent te omzeilen",
    "no_relevant_passage": "geen passage in de documenten past bij de vraag",
    "key_terms_missing": "de best passende passages bevatten de kern van de vraag niet",
    "unknown_terms": "woorden uit de vraag staan in geen enkel document",
    "unsupported": "geen zin in de documenten geeft wat gevraagd wordt",
    "busy": "het taalmodel was bezet; de vraag is niet beantwoord",
}
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")  # fmt: skip


@dataclass
class ExportSource:
    """One cited source of an answer."""

    n: int
    title: str
    page: str
    quote: str
    doc_id: str = ""
    superseded: bool = False


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
                )
                for c in answer.get("citations", [])
            ],
        )


def dutch_time(moment: datetime) -> str:
    """'1 december 2026, 14:05 UTC' (the moment in UTC)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{utc.day} {MONTHS[utc.month - 1]} {utc.year}, {utc:%H:%M} UTC"


def model_line(turn: ExportTurn) -> str:
    """'Model: qwen… (local)' or the backend alone."""
    if turn.model and turn.backend and turn.model != turn.backend:
        return f"{turn.model} ({turn.backend})"
    return turn.model or turn.backend or "onbekend"


def refusal_line(turn: ExportTurn) -> str:
    """'Geweigerd: geen antwoord gegeven (reden: …)'."""
    reason = REFUSAL_REASONS.get(turn.refusal_reason, turn.refusal_reason or "onbekend")
    return f"{REFUSED_LABEL} (reden: {reason})."


def summary_line(turns: Sequence[ExportTurn]) -> str:
    """'2 vragen, waarvan 1 geweigerd.'"""
    refused = sum(t.refused for t in turns)
    noun = "vraag" if len(turns) == 1 else "vragen"
    return f"{len(turns)} {noun}, waarvan {refused} geweigerd."


def export_file_name(moment: datetime, fmt: str) -> str:
    """'gesprek-ivb-20261201-1405.md' (the moment in UTC)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return f"gesprek-ivb-{utc:%Y%m%d-%H%M}.{fmt}"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _md_escape(text: str) -> str:
    """A line that Markdown shows as text: no heading, list, quote or table marks at its
    start, and no HTML."""
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"^(\s*)([#>*+\-|]|\d+[.)])", r"\1\\\2", text, flags=re.MULTILINE)


def to_markdown(turns: Sequence[ExportTurn], exported_at: datetime) -> str:
    """The conversation as Markdown.

    Args:
        turns: the turns, oldest first.
        exported_at: when the export was made.
    """
    lines = [
        f"# {TITLE}",
        "",
        f"Opgeslagen op {dutch_time(exported_at)}. {summary_line(turns)}",
        "",
        f"*{DISCLAIMER}*",
    ]
    for i, turn in enumerate(turns, 1):
        lines += ["", f"## Vraag {i}: {_md_escape(_one_line(turn.question))}", ""]
        lines.append(f"Gesteld op {dutch_time(turn.asked_at)} · Model: {model_line(turn)}")
        lines.append("")
        if turn.refused:
            lines += [f"**{refusal_line(turn)}**", ""]
        if turn.notice:
            lines += [f"*{_md_escape(_one_line(turn.notice))}*", ""]
        lines.append(_md_escape(turn.answer.strip()))
        if turn.sources:
            lines += ["", "**Bronnen**", ""]
            for s in turn.sources:
                old = " (vervangen door een nieuwere versie)" if s.superseded else ""
                doc = f" (`{s.doc_id}`)" if s.doc_id else ""
                lines.append(f"- [{s.n}] {_md_escape(s.title)}{doc}, pagina {s.page}{old}")
                lines.append(f"  > {_md_escape(_one_line(s.quote))}")
    return "\n".join(lines) + "\n"


def to_docx(turns: Sequence[ExportTurn], exported_at: datetime) -> bytes:
    """The conversation as a Word document (python-docx).

    Args:
        turns: the turns, oldest first.
        exported_at: when the export was made.
    """
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.core_properties.title = TITLE
    doc.core_properties.language = "nl-NL"
    doc.core_properties.created = exported_at.astimezone(UTC).replace(tzinfo=None)
    doc.add_heading(TITLE, level=0)
    doc.add_paragraph(f"Opgeslagen op {dutch_time(exported_at)}. {summary_line(turns)}")
    doc.add_paragraph().add_run(DISCLAIMER).italic = True
    for i, turn in enumerate(turns, 1):
        doc.add_heading(f"Vraag {i}: {_one_line(turn.question)}", level=1)
        meta = doc.add_paragraph(f"Gesteld op {dutch_time(turn.asked_at)} · Model: ")
        meta.add_run(model_line(turn))
        for run in meta.runs:
            run.font.size = Pt(9)
        if turn.refused:
            doc.add_paragraph().add_run(refusal_line(turn)).bold = True
        if turn.notice:
            doc.add_paragraph().add_run(_one_line(turn.notice)).italic = True
        for part in re.split(r"\n\s*\n", turn.answer.strip()):
            if part.strip():
                doc.add_paragraph(part.strip())
        if turn.sources:
            doc.add_heading("Bronnen", level=2)
            for s in turn.sources:
                old = " (vervangen door een nieuwere versie)" if s.superseded else ""
                doc_id = f" ({s.doc_id})" if s.doc_id else ""
                item = doc.add_paragraph(style="List Bullet")
                item.add_run(f"[{s.n}] {s.title}").bold = True
                item.add_run(f"{doc_id}, pagina {s.page}{old}")
                doc.add_paragraph(_one_line(s.quote), style="Quote")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def render_export(
    turns: Sequence[ExportTurn], fmt: str, exported_at: datetime | None = None
) -> tuple[bytes, str]:
    """The file's bytes and its media type.

    Args:
        turns: the turns, oldest first.
        fmt: "md" or "docx".
        exported_at: when the export was made (default: now).

    Raises:
        ValueError: an unknown format.
    """
    moment = exported_at or datetime.now(UTC)
    if fmt == "md":
        return to_markdown(turns, moment).encode("utf-8"), MEDIA_TYPES["md"]
    if fmt == "docx":
        return to_docx(turns, moment), MEDIA_TYPES["docx"]
    raise ValueError(f"onbekend exportformaat '{fmt}': kies md of docx")

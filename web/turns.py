"""The conversation a browser session keeps (in a gr.State): one `Turn` per question, with
the sources its answer cites.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.types import Answer, Citation


class CitedSource(Citation):
    """A citation as the source panel shows it.

    Adds ``context``: the whole cited passage (its quotes themselves when the passage is
    not in the answer); ``superseded`` also holds when the passage's document was replaced
    after the answer was checked.
    """

    context: str


@dataclass
class Turn:
    """One question and its checked answer in a web conversation.

    Attributes:
        question: the question as asked (trimmed).
        answer: the answer text (Markdown-free, with [n] marks).
        html: the chat message of the answer (see web.render.answer_html).
        refused: whether the answer is a refusal.
        audience: "raad" or "inwoner".
        language: the answer's language code.
        audit_id: the audit record of this turn (feedback points at it).
        citations: the sources, in citation order.
        asked_at: when it was asked (ISO 8601, UTC; for the export).
        model: the model that answered; backend: the backend it ran on.
        refusal_reason: why it was refused (an `assistant.types.RefusalReason`), or "".
        notice: the line shown above the answer (e.g. the model failed), or "".
    """

    question: str
    answer: str
    html: str
    refused: bool
    audience: str
    language: str
    audit_id: str
    citations: list[CitedSource] = field(default_factory=list)
    asked_at: str = ""
    model: str = ""
    backend: str = ""
    refusal_reason: str = ""
    notice: str = ""

    def source(self, n: int) -> CitedSource | None:
        """The citation numbered ``n``, if this turn has one."""
        return next((c for c in self.citations if c.n == n), None)


def cited_sources(answer: Answer) -> list[CitedSource]:
    """An answer's citations for the source panel, each with its passage as context.

    Args:
        answer: the checked answer.
    """
    passages = {p.chunk.id: p for p in answer.passages}
    sources = []
    for c in answer.citations:
        passage = passages.get(c.chunk_id)
        superseded = bool(c.superseded or (passage and passage.superseded))
        context = passage.chunk.text if passage else " ".join(c.quotes)
        fields = c.model_dump(exclude={"superseded"})
        sources.append(CitedSource(**fields, superseded=superseded, context=context))
    return sources

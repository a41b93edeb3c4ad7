"""The chat: what the page's chat events call.

A question is taken as every channel takes it (`web.questions.QuestionHandlers.prepare`);
then `ChatHandlers.respond` streams the answer into the page, shows its place in the local
model's line while it waits, and keeps the turns for the source panel, the export ("Gesprek
opslaan") and the feedback.
"""

import logging
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.feedback import record_feedback
from assistant.service import Service
from assistant.settings import Settings
from assistant.types import Answer
from web.documents import pdfjs_available
from web.export import ExportSource, ExportTurn, export_file_name, render_export
from web.i18n import request_language
from web.i18n import text as ui_text
from web.page_images import citation_page
from web.questions import Prepared, QuestionHandlers, clean_question
from web.render import (
    answer_html,
    chat_messages,
    error_html,
    page_caption,
    queue_html,
    section_html,
    sources_html,
    streaming_html,
    viewer_html,
)
from web.turns import Turn, cited_sources

log = logging.getLogger("ivb.ui")

EXPORT_KEEP_S = 3600  # how long a conversation's export files stay on disk
_REF_RE = re.compile(r"^(\d{1,4})-(\d{1,3})$")
_OUTPUTS = 7  # chatbot, question box, turns, source panel, page image, detail, examples


class ChatHandlers(QuestionHandlers):
    """The chat, its source panel and feedback, and the page's named API (inherited from
    `QuestionHandlers`, with the way questions are taken and the local model's line).

    Args:
        settings: the settings to serve.
        service: the shared service (store, retriever, models).
    """

    def __init__(self, settings: Settings, service: Service) -> None:
        super().__init__(settings, service)
        self._export_root: Path | None = None

    # -- the chat --------------------------------------------------------------------
    def respond(
        self,
        question: str,
        turns: list[Turn],
        audience: str,
        municipality: str,
        backend: str,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        """Answer a question in the chat, streaming; then the checked answer and its sources.

        With the local model the question first waits its turn in the model's line (its
        place shows in the chat), then holds the model for the whole answer. When too many
        wait, the chat says so and the question stays in the box.

        Yields (chatbot, question box, turns, source panel, page image, source detail,
        example questions).
        """
        question = clean_question(question)
        if not question:
            yield (gr.skip(),) * _OUTPUTS
            return
        turns = list(turns or [])
        history = [(t.question, t.answer) for t in turns]
        lang = request_language(request)
        with self.prepare(question, audience, municipality, backend, history, lang) as prepared:
            if prepared.busy is not None:
                shown = (question, answer_html(prepared.busy, len(turns), lang))
                yield chat_messages(turns, shown), question, *(gr.skip(),) * 5
                return
            session = getattr(request, "session_hash", None)
            yield from self._respond(prepared, turns, session)

    def _respond(
        self, prepared: Prepared, turns: list[Turn], session: str | None
    ) -> Iterator[tuple[Any, ...]]:
        """`respond` once the question is taken (and, for the local model, has a ticket)."""
        turn = len(turns)
        lang = prepared.language or "nl"
        hide_image = gr.Image(value=None, visible=False)
        yield from self._wait_turn(prepared, turns)
        answer: Answer | None = None
        streamed: list[str] = []
        try:
            for piece in self.pipeline.stream(prepared.question, **prepared.options()):
                if isinstance(piece, Answer):
                    answer = piece
                elif prepared.backend != "extractive":
                    streamed.append(piece)
                    shown = (prepared.question, streaming_html("".join(streamed), lang))
                    yield _chat_only(chat_messages(turns, shown))
        except Exception:
            log.exception("answering failed")
            yield _chat_only(chat_messages(turns, (prepared.question, error_html(lang))))
            return
        assert answer is not None
        audit_id = self._audit(answer, session, prepared.municipality, "web")
        turns.append(_turn(prepared.question, answer, turn, audit_id, lang))
        panel = sources_html(turns, turn, None, lang)
        yield chat_messages(turns), gr.skip(), turns, panel, hide_image, "", gr.skip()

    def _wait_turn(self, prepared: Prepared, turns: list[Turn]) -> Iterator[tuple[Any, ...]]:
        """Show the question at once (box cleared, examples hidden), then, for the local
        model, its place in the line until the model is its own."""
        ticket = prepared.ticket
        lang = prepared.language or "nl"
        shown_place = ticket.place() if ticket is not None else 0
        note = queue_html(shown_place, lang) if shown_place else streaming_html("", lang)
        hide_image = gr.Image(value=None, visible=False)
        pending = chat_messages(turns, (prepared.question, note))
        yield pending, "", gr.skip(), gr.skip(), hide_image, "", gr.Column(visible=False)
        if ticket is None:
            return
        # Wait for the model; every poll yields, so a page that went away closes this
        # generator (and frees its place) without waiting for its turn.
        for place in ticket.places():
            if place == shown_place:
                yield (gr.skip(),) * _OUTPUTS
                continue
            shown_place = place
            yield _chat_only(chat_messages(turns, (prepared.question, queue_html(place, lang))))
        if shown_place:
            yield _chat_only(chat_messages(turns, (prepared.question, streaming_html("", lang))))

    def show_source(
        self, turns: list[Turn], evt: gr.EventData, request: gr.Request | None = None
    ) -> tuple[str, Any, str]:
        """Show one citation: the panel with it chosen, and the document viewer opened at
        the cited spot (web.documents; a text source's cited section above it). With
        settings.document_viewer off or pdf.js not installed, a PDF's cited page as an
        image."""
        match = _REF_RE.match(str(getattr(evt, "_data", {}).get("ref", "")))
        turns = turns or []
        if match is None or int(match.group(1)) >= len(turns):
            return gr.skip(), gr.skip(), gr.skip()
        turn, n = int(match.group(1)), int(match.group(2))
        source = turns[turn].source(n)
        if source is None:
            return gr.skip(), gr.skip(), gr.skip()
        lang = request_language(request)
        panel = sources_html(turns, turn, n, lang)
        hidden = gr.Image(value=None, visible=False)
        viewer = self.settings.document_viewer
        if not str(source.source).lower().endswith(".pdf"):
            # The cited section with the quote marked, then the whole text in the viewer.
            detail = section_html(source, lang)
            return panel, hidden, detail + (viewer_html(source, lang) if viewer else "")
        if viewer and pdfjs_available():
            return panel, hidden, viewer_html(source, lang)
        image = citation_page(source)
        if image is None:
            return panel, hidden, section_html(source, lang)
        page, title, quoted = source.page, source.title, " … ".join(source.quotes)
        shown = gr.Image(
            value=image,
            visible=True,
            label=f"{ui_text('source_n', lang, n=n)}: {ui_text('page', lang)} {page}",
            alt_text=ui_text("page_alt", lang, page=page, title=title, quote=quoted[:200]),
        )
        return panel, shown, page_caption(source, lang)

    def clear(self, request: gr.Request | None = None) -> tuple[Any, ...]:
        """A new conversation: an empty chat with the example questions."""
        empty_image = gr.Image(value=None, visible=False)
        panel = sources_html([], None, None, request_language(request))
        return [], [], panel, empty_image, "", gr.Column(visible=True)

    # -- "Gesprek opslaan" ---------------------------------------------------------------
    def export_files(self, turns: list[Turn], request: gr.Request | None = None) -> tuple[Any, Any]:
        """The conversation as a Markdown and a Word file, for the two download buttons
        (hidden while the conversation is empty); their own texts in the page's language."""
        turns = turns or []
        if not turns:
            hidden = gr.DownloadButton(value=None, visible=False)
            return hidden, hidden
        now = datetime.now(UTC)
        lang = request_language(request)
        exported = [_export_turn(t, now) for t in turns]
        folder = self._export_folder(now)
        buttons = []
        for fmt in ("md", "docx"):
            data, _ = render_export(exported, fmt, exported_at=now, lang=lang)
            path = folder / export_file_name(now, fmt, lang)
            path.write_bytes(data)
            buttons.append(gr.DownloadButton(value=str(path), visible=True))
        return buttons[0], buttons[1]

    def _export_folder(self, now: datetime) -> Path:
        """A new folder for one export; those older than EXPORT_KEEP_S go (gradio serves
        its own copy of each file)."""
        if self._export_root is None:
            self._export_root = Path(tempfile.mkdtemp(prefix="ivb-gesprek-"))
        cutoff = now.timestamp() - EXPORT_KEEP_S
        for old in self._export_root.iterdir():
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        folder = self._export_root / uuid.uuid4().hex
        folder.mkdir()
        return folder

    # -- feedback --------------------------------------------------------------------
    def rate(self, turns: list[Turn], data: gr.LikeData, request: gr.Request) -> tuple[Any, ...]:
        """Store a thumbs up/down at once; then offer a comment box for that answer."""
        index = data.index[0] if isinstance(data.index, list | tuple) else data.index
        turn = int(index) // 2
        if not turns or turn >= len(turns):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        rating = "up" if data.liked is True else "down" if data.liked is False else "none"
        self._record_feedback(turns[turn], rating, "", request)
        if rating == "none":
            return None, gr.Column(visible=False), "", ""
        lang = request_language(request)
        verdict = ui_text("feedback_up" if rating == "up" else "feedback_down", lang)
        note = ui_text("feedback_note", lang, n=turn + 1, verdict=verdict)
        return {"turn": turn, "rating": rating}, gr.Column(visible=True), note, ""

    def comment(
        self,
        pending: dict[str, Any] | None,
        text: str,
        turns: list[Turn],
        request: gr.Request,
    ) -> tuple[Any, ...]:
        """Store the comment that goes with the last rating (``pending``: turn, rating)."""
        if not pending or not turns or pending["turn"] >= len(turns):
            return None, gr.Column(visible=False), "", ""
        self._record_feedback(turns[pending["turn"]], pending["rating"], text or "", request)
        thanks = ui_text("feedback_thanks", request_language(request))
        return None, gr.Column(visible=False), "", thanks

    def _record_feedback(self, entry: Turn, rating: str, comment: str, request: gr.Request) -> None:
        record_feedback(
            self.settings,
            question=entry.question,
            answer=entry.answer,
            citations=[c.model_dump(exclude={"context"}) for c in entry.citations],
            rating=rating,  # type: ignore[arg-type]
            comment=comment,
            session_hash=getattr(request, "session_hash", None),
            turn_id=entry.audit_id,
            audience=entry.audience,
            language=entry.language,
            refused=entry.refused,
        )


def _chat_only(messages: list[dict[str, str]]) -> tuple[Any, ...]:
    """The outputs of a chat step that changes only the chat."""
    return messages, *(gr.skip(),) * (_OUTPUTS - 1)


def _turn(question: str, answer: Answer, turn: int, audit_id: str, lang: str = "nl") -> Turn:
    return Turn(
        asked_at=datetime.now(UTC).isoformat(timespec="seconds"),
        model=answer.model,
        backend=answer.backend,
        refusal_reason=str(answer.refusal_reason),
        notice=answer.notice,
        question=question,
        answer=answer.text,
        html=answer_html(answer, turn, lang),
        refused=answer.refused,
        audience=answer.audience,
        language=answer.language,
        audit_id=audit_id,
        citations=cited_sources(answer),
    )


def _export_turn(turn: Turn, default_time: datetime) -> ExportTurn:
    """A chat turn as the export writes it."""
    asked_at = datetime.fromisoformat(turn.asked_at) if turn.asked_at else default_time
    sources = [
        ExportSource(c.n, c.title, c.page, c.quote, c.doc_id, c.superseded, list(c.quotes))
        for c in turn.citations
    ]
    return ExportTurn(
        question=turn.question,
        answer=turn.answer,
        asked_at=asked_at,
        model=turn.model,
        backend=turn.backend,
        refused=turn.refused,
        refusal_reason=turn.refusal_reason,
        notice=turn.notice,
        sources=sources,
    )

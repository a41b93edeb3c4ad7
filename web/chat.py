"""The chat and its API: what the page's chat events and the named API `ask` call.

Both take a question the same way (`ChatHandlers.prepare`): trim it, choose the backend,
map "alle" to no municipality filter, keep the last turns as history and, for the local
model, take a place in its line (`assistant.model_line`), or answer "busy" when the line is
full. Then the chat streams the answer into the page and the API returns it whole.
"""

# No `from __future__ import annotations`: gr.api reads ask_api's annotations to describe
# the API (a string annotation would describe its answer as untyped).

import json
import logging
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import gradio as gr

from assistant import metrics
from assistant.answer import AnswerPipeline
from assistant.audit import prune_audit, record_turn
from assistant.backends import available_backends
from assistant.domain import MUNICIPALITIES, or_list
from assistant.feedback import record_feedback
from assistant.model_line import LineFull, ModelLine, Ticket
from assistant.prompts import busy_text
from assistant.service import Service
from assistant.settings import Settings
from assistant.types import Answer
from web.documents import pdfjs_available
from web.export import ExportSource, ExportTurn, export_file_name, render_export
from web.i18n import request_language
from web.i18n import text as ui_text
from web.page_images import citation_page
from web.render import (
    LOCAL_QUEUE_TEXT,
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

ALL = "alle"
MAX_QUESTION = 1000
MAX_HISTORY = 6  # earlier turns a follow-up is read with
MUNICIPALITY_CHOICES = [("Alle gemeenten", ALL)] + [(m, m) for m in MUNICIPALITIES]
# The local model answers one question at a time, first come first served (ModelLine);
# this many requests per chat_concurrency slot may wait for it, past that they are refused.
LOCAL_WAITING_PER_SLOT = 4
LOCAL_TURN_TEXT = "Het lokale taalmodel beantwoordt uw vraag"
BUSY_TEXT = busy_text("nl")
EXPORT_KEEP_S = 3600  # how long a conversation's export files stay on disk
_REF_RE = re.compile(r"^(\d{1,4})-(\d{1,3})$")
_OUTPUTS = 7  # chatbot, question box, turns, source panel, page image, detail, examples


def clean_question(question: str | None) -> str:
    """A question as it is answered: trimmed, at most MAX_QUESTION characters."""
    return (question or "").strip()[:MAX_QUESTION]


def municipality_filter(municipality: str | None) -> str | None:
    """The municipality to filter on: None for "alle" (or nothing chosen)."""
    return None if municipality in (None, "", ALL) else municipality


@dataclass
class Prepared:
    """A question taken for answering, by the chat or the API.

    Use it as a context manager: leaving it gives up the ticket (the model, or the place
    in its line), also on errors.

    Attributes:
        question: the trimmed question.
        audience: "raad", "inwoner" or None (the settings' default).
        municipality: the municipality filter, None for all.
        backend: the chosen backend, one this server has.
        history: the last MAX_HISTORY (question, answer) pairs.
        ticket: the place in the local model's line (None for other backends).
        busy: the answer when the local model's line is full (then there is no ticket).
        language: the interface language of the fixed texts (refusals, notices); None:
            the question's language (the API).
    """

    question: str
    audience: str | None
    municipality: str | None
    backend: str
    history: list[tuple[str, str]] = field(default_factory=list)
    ticket: Ticket | None = None
    busy: Answer | None = None
    language: str | None = None

    def options(self) -> dict[str, Any]:
        """The keyword arguments of `AnswerPipeline.ask` and `.stream` besides the question."""
        return {
            "history": self.history,
            "audience": self.audience,
            "municipality": self.municipality,
            "backend": self.backend,
            "notice_language": self.language,
        }

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.ticket is not None:
            self.ticket.leave()


class ChatHandlers:
    """The chat, its source panel and feedback, and the API: what their events call.

    Args:
        settings: the settings to serve.
        service: the shared service (store, retriever, models).
    """

    def __init__(self, settings: Settings, service: Service) -> None:
        self.settings = settings
        self.service = service
        self.pipeline = AnswerPipeline(self.service)
        self.backends = available_backends(settings)
        self._pruned_at = 0.0
        self._export_root: Path | None = None
        # One first-come-first-served line for the local model, for the chat and the API.
        self.local_line = ModelLine(settings.chat_concurrency * LOCAL_WAITING_PER_SLOT)

    # -- taking a question (the chat and the API) ---------------------------------------
    def prepare(
        self,
        question: str,
        audience: str | None,
        municipality: str | None,
        backend: str | None,
        history: Sequence[tuple[str, str]],
        language: str | None = None,
    ) -> Prepared:
        """Take a question for answering: the backend chosen, "alle" mapped, the history
        cut, and for the local model a place in its line (or the busy answer).

        Args:
            question: the question, already passed through `clean_question` (not empty).
            audience: "raad", "inwoner", or empty for the settings' default.
            municipality: a municipality, or "alle" / empty for all.
            backend: a backend name, or empty for this server's default.
            history: earlier (question, answer) pairs, oldest first.
            language: the interface language of refusal and notice texts (None: the
                question's).

        Raises:
            gr.Error: the backend is not available on this server.
        """
        prepared = Prepared(
            question=question,
            audience=audience or None,
            municipality=municipality_filter(municipality),
            backend=self._backend(backend),
            history=list(history)[-MAX_HISTORY:],
            language=language,
        )
        if prepared.backend == "local":
            prepared.ticket = self._join_local_line()
            if prepared.ticket is None:
                prepared.busy = self._busy_answer(prepared)
        return prepared

    def _backend(self, backend: str | None) -> str:
        if not backend:
            return self.backends[0]
        if backend not in self.backends:
            raise gr.Error(
                f"Antwoordmodel '{backend}' is hier niet beschikbaar; kies uit "
                f"{', '.join(self.backends)}."
            )
        return backend

    def _join_local_line(self) -> Ticket | None:
        """A place in the local model's line, or None (and a log line) when it is full."""
        try:
            return self.local_line.join()
        except LineFull:
            log.warning(
                "local model busy: %d requests waiting, a question was refused",
                self.local_line.waiting,
            )
            return None

    def _busy_answer(self, prepared: Prepared) -> Answer:
        """The answer when too many questions wait for the local model: try later (counted
        in the metrics as a refusal for "busy")."""
        answer = Answer(
            question=prepared.question,
            text=busy_text(prepared.language),
            refused=True,
            refusal_reason="busy",
            audience=prepared.audience or self.settings.audience,
            backend=prepared.backend,
            model=self.pipeline.model_name(prepared.backend),
            timings={"total": 0.0},
        )
        metrics.observe_answer(prepared.backend, answer)
        return answer

    def _audit(self, answer: Answer, session: str | None, muni: str | None, channel: str) -> str:
        """Log the turn; once a day, also drop audit records past their retention."""
        now = time.monotonic()
        if now - self._pruned_at > 24 * 3600:
            self._pruned_at = now
            prune_audit(self.settings)
        return record_turn(self.settings, answer, session, municipality=muni, channel=channel)

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
        page, title = source.page, source.title
        shown = gr.Image(
            value=image,
            visible=True,
            label=f"{ui_text('source_n', lang, n=n)}: {ui_text('page', lang)} {page}",
            alt_text=ui_text("page_alt", lang, page=page, title=title, quote=source.quote[:200]),
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

    # -- the API ---------------------------------------------------------------------
    def ask_api(
        self,
        question: str,
        audience: str = "raad",
        municipality: str = ALL,
        backend: str = "",
        history_json: str = "[]",
        request: gr.Request | None = None,
    ) -> dict[str, Any]:
        """Answer one question: the structured answer, as `ivb ask --json` gives it.

        With backend "local" the question waits its turn for the model, first come first
        served with the web chat; while it waits, its place is sent as progress ("Wachtrij
        lokaal model: u bent nummer N"). When too many questions wait, the answer is a
        refusal with refusal_reason "busy": ask again later, or use "extractive".

        Args:
            question: the question.
            audience: "raad" or "inwoner".
            municipality: "alle" or one of assistant.domain.MUNICIPALITIES.
            backend: "extractive", "local" or "openai" (empty: the server's default).
            history_json: earlier turns as JSON, [[question, answer], ...].
        """
        question = clean_question(question)
        if not question:
            raise gr.Error("Stel een vraag.")
        if audience not in ("raad", "inwoner"):
            raise gr.Error("audience moet 'raad' of 'inwoner' zijn.")
        muni = municipality_filter(municipality)
        if muni is not None and muni not in dict(MUNICIPALITY_CHOICES).values():
            names = or_list([f"'{v}'" for _, v in MUNICIPALITY_CHOICES])
            raise gr.Error(f"municipality moet {names} zijn.")
        history = _parse_history(history_json)
        with self.prepare(question, audience, municipality, backend, history) as prepared:
            if prepared.busy is not None:
                return prepared.busy.as_dict()
            if prepared.ticket is not None:
                # gr.api does not pass a gr.Progress parameter, but one made here reports
                # to the event that runs this call (a no-op outside one).
                _report_place(prepared.ticket, gr.Progress())
            answer = self.pipeline.ask(question, **prepared.options())
        session = getattr(request, "session_hash", None) if request is not None else None
        self._audit(answer, session, muni, "api")
        return answer.as_dict()


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
        ExportSource(c.n, c.title, c.page, c.quote, c.doc_id, c.superseded) for c in turn.citations
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


def _report_place(ticket: Ticket, progress: gr.Progress) -> None:
    """Wait for a ticket's turn, reporting each new place as progress: index is the place
    (1: next), length how many wait, desc the same in words."""
    shown = 0
    for place in ticket.places():
        if place != shown:
            shown = place
            waiting = max(place, ticket.line.waiting)
            desc = LOCAL_QUEUE_TEXT.format(place=place)
            progress((place, waiting), desc=desc, unit="plaats in de wachtrij")
    if shown:
        progress(None, desc=LOCAL_TURN_TEXT)


def _parse_history(history_json: str | None) -> list[tuple[str, str]]:
    """[[question, answer], ...] or [{"question", "answer"}, ...] from the API."""
    if not history_json or not str(history_json).strip():
        return []
    try:
        data = json.loads(history_json)
    except json.JSONDecodeError as exc:
        raise gr.Error(f"history_json is geen geldige JSON: {exc.msg}.") from exc
    if not isinstance(data, list):
        raise gr.Error("history_json moet een lijst zijn van [vraag, antwoord]-paren.")
    pairs = []
    for item in data:
        if isinstance(item, dict):
            pairs.append((str(item.get("question", "")), str(item.get("answer", ""))))
        elif isinstance(item, list | tuple) and len(item) == 2:
            pairs.append((str(item[0]), str(item[1])))
        else:
            raise gr.Error("history_json moet een lijst zijn van [vraag, antwoord]-paren.")
    return pairs

"""Taking a question for answering, the same way for the chat, the page's named API `ask`
and the REST API (web.api).

A question is trimmed (`clean_question`); then `QuestionHandlers.prepare` chooses the
backend, maps "alle" to no municipality filter, keeps the last turns as history and, for the
local model, takes a place in its line (`assistant.model_line`), or answers "busy" when the
line is full (in the interface's language, else the question's). `QuestionHandlers.ask_api`
(gr.api) returns the whole answer; the chat (`web.chat.ChatHandlers`, a subclass) streams it
into the page.
"""

# No `from __future__ import annotations`: gr.api reads ask_api's annotations to describe
# the API (a string annotation would describe its answer as untyped).

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import gradio as gr

from assistant import metrics
from assistant.answer import AnswerPipeline
from assistant.audit import prune_audit, record_turn
from assistant.backends import available_backends
from assistant.domain import MUNICIPALITIES, or_list
from assistant.language import detect
from assistant.model_line import LineFull, ModelLine, Ticket
from assistant.prompts import busy_text
from assistant.service import Service
from assistant.settings import Settings
from assistant.types import Answer
from web.i18n import DEFAULT_LANGUAGE, request_language, text

log = logging.getLogger("ivb.ui")

ALL = "alle"
MAX_QUESTION = 1000
MAX_HISTORY = 6  # earlier turns a follow-up is read with
MUNICIPALITY_CHOICES = [("Alle gemeenten", ALL)] + [(m, m) for m in MUNICIPALITIES]
# The local model answers one question at a time, first come first served (ModelLine);
# this many requests per chat_concurrency slot may wait for it, past that they are refused.
LOCAL_WAITING_PER_SLOT = 4
# The Dutch texts of the line (a visitor gets them in the page's language); the load tool
# (tests/stress/load.py) reads the progress by these.
LOCAL_TURN_TEXT = text("local_turn", DEFAULT_LANGUAGE)
BUSY_TEXT = busy_text(DEFAULT_LANGUAGE)


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


class QuestionHandlers:
    """Taking questions for answering, and the page's named API `ask`, over one service.

    The chat's handlers (`web.chat.ChatHandlers`) are these plus the chat's own events; the
    REST API (web.api) takes its questions through the same `prepare`, so the chat and both
    APIs share one line for the local model.

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
        # One first-come-first-served line for the local model, for the chat and the API.
        self.local_line = ModelLine(settings.chat_concurrency * LOCAL_WAITING_PER_SLOT)

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
            backend=self.check_backend(backend, language or DEFAULT_LANGUAGE),
            history=list(history)[-MAX_HISTORY:],
            language=language,
        )
        if prepared.backend == "local":
            prepared.ticket = self._join_local_line()
            if prepared.ticket is None:
                prepared.busy = self._busy_answer(prepared)
        return prepared

    def check_backend(self, backend: str | None, lang: str = DEFAULT_LANGUAGE) -> str:
        """The backend to answer with: the one asked for, or this server's default.

        Raises:
            gr.Error: the backend is not available on this server (the message in ``lang``).
        """
        if not backend:
            return self.backends[0]
        if backend not in self.backends:
            choices = ", ".join(self.backends)
            raise gr.Error(text("api_backend_unavailable", lang, backend=backend, choices=choices))
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
        in the metrics as a refusal for "busy"), in the interface's language or, without
        one (the APIs), the question's, as the other refusals there."""
        answer = Answer(
            question=prepared.question,
            text=busy_text(prepared.language or detect(prepared.question)),
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

    # -- the page's named API `ask` (gr.api) -----------------------------------------
    def ask_api(
        self,
        question: str,
        audience: str = "raad",
        municipality: str = ALL,
        backend: str = "",
        history_json: str = "[]",
        request: gr.Request | None = None,
    ) -> dict[str, Any]:
        """Answer one question: the structured answer, as `ivb ask --json` gives it (each
        source only its file name: no server path).

        With backend "local" the question waits its turn for the model, first come first
        served with the web chat; while it waits, its place is sent as progress ("Wachtrij
        lokaal model: u bent nummer N", in the caller's language). When too many questions
        wait, the answer is a refusal with refusal_reason "busy": ask again later, or use
        "extractive". Errors are in the caller's language (ivb_lang, Accept-Language).

        Args:
            question: the question.
            audience: "raad" or "inwoner".
            municipality: "alle" or one of assistant.domain.MUNICIPALITIES.
            backend: "extractive", "local" or "openai" (empty: the server's default).
            history_json: earlier turns as JSON, [[question, answer], ...].
        """
        lang = request_language(request)
        question = clean_question(question)
        if not question:
            raise gr.Error(text("api_empty_question", lang))
        if audience not in ("raad", "inwoner"):
            raise gr.Error(text("api_audience", lang))
        muni = municipality_filter(municipality)
        if muni is not None and muni not in dict(MUNICIPALITY_CHOICES).values():
            names = [f"'{v}'" for _, v in MUNICIPALITY_CHOICES]
            raise gr.Error(text("api_municipality", lang, choices=or_list(names, text("or", lang))))
        history = _parse_history(history_json, lang)
        self.check_backend(backend, lang)
        with self.prepare(question, audience, municipality, backend, history) as prepared:
            if prepared.busy is not None:
                return prepared.busy.public_dict()
            if prepared.ticket is not None:
                # gr.api does not pass a gr.Progress parameter, but one made here reports
                # to the event that runs this call (a no-op outside one).
                _report_place(prepared.ticket, gr.Progress(), lang)
            answer = self.pipeline.ask(question, **prepared.options())
        session = getattr(request, "session_hash", None) if request is not None else None
        self._audit(answer, session, muni, "api")
        return answer.public_dict()


def _report_place(ticket: Ticket, progress: gr.Progress, lang: str = DEFAULT_LANGUAGE) -> None:
    """Wait for a ticket's turn, reporting each new place as progress: index is the place
    (1: next), length how many wait, desc the same in words (in ``lang``)."""
    shown = 0
    for place in ticket.places():
        if place != shown:
            shown = place
            waiting = max(place, ticket.line.waiting)
            desc = text("queue", lang, place=place)
            progress((place, waiting), desc=desc, unit=text("queue_unit", lang))
    if shown:
        progress(None, desc=text("local_turn", lang))


def _parse_history(history_json: str | None, lang: str = DEFAULT_LANGUAGE) -> list[tuple[str, str]]:
    """[[question, answer], ...] or [{"question", "answer"}, ...] from the API."""
    if not history_json or not str(history_json).strip():
        return []
    try:
        data = json.loads(history_json)
    except json.JSONDecodeError as exc:
        raise gr.Error(text("api_history_json", lang, error=exc.msg)) from exc
    if not isinstance(data, list):
        raise gr.Error(text("api_history_pairs", lang))
    pairs = []
    for item in data:
        if isinstance(item, dict):
            pairs.append((str(item.get("question", "")), str(item.get("answer", ""))))
        elif isinstance(item, list | tuple) and len(item) == 2:
            pairs.append((str(item[0]), str(item[1])))
        else:
            raise gr.Error(text("api_history_pairs", lang))
    return pairs

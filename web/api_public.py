"""The REST API's public routes (no login): ``POST /ask`` (the whole answer, or server-sent
events), ``GET /documents`` (the catalog) and ``POST /export`` (a conversation as a file).

A question is taken as the chat takes it (`web.questions.QuestionHandlers.prepare`) and
waits in the same line for the local model; `AskApi` adds the API's own filters, its
concurrency slots, and the streaming that gives up the place when the client goes away.
Error details and the queue text are in the caller's language: ``lang`` in the body, else
the ivb_lang cookie, else Accept-Language, else Dutch.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at run time.

import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio
import gradio as gr
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from assistant.types import Answer
from web.api_errors import ERROR_RESPONSES, ApiError, problem
from web.api_schemas import AnswerOut, AskRequest, DocumentOut, ExportRequest
from web.export import ExportTurn, export_file_name, render_export
from web.i18n import request_language, text
from web.questions import Prepared, clean_question

if TYPE_CHECKING:
    from web.layout import WebApp

log = logging.getLogger("ivb.api")

SSE_MEDIA_TYPE = "text/event-stream"
ASK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {SSE_MEDIA_TYPE: {"schema": {"type": "string"}}},
        "description": "het antwoord; met stream of Accept: text/event-stream als "
        "server-sent events (queue, token, answer)",
    },
    429: {"model": AnswerOut, "description": "te veel vragen wachten op het lokale model"},
    422: ERROR_RESPONSES[422],
}


class AskApi:
    """Questions through the API, over the chat's handlers (`web.layout.WebApp.chat`).

    Args:
        web: the page's handlers: the chat takes the questions and holds the local
            model's line.
    """

    def __init__(self, web: "WebApp") -> None:
        self.chat = web.chat
        self.settings = web.settings
        # The API answers settings.chat_concurrency questions at a time (as the gradio API
        # group does), apart from the chat; the local model's line is shared with the chat.
        self._slots = threading.BoundedSemaphore(self.settings.chat_concurrency)

    def prepare(self, body: AskRequest, lang: str = "nl") -> Prepared:
        """Take a question as the chat does; its refusals and notices in ``body.lang``, or
        without one in the question's language.

        Raises:
            ApiError: 422 for an empty question or a backend this server lacks (in ``lang``).
        """
        question = clean_question(body.question)
        if not question:
            raise problem(422, text("api_empty_question", lang))
        history = [(t.question, t.answer) for t in body.history]
        try:
            self.chat.check_backend(body.backend, lang)
            return self.chat.prepare(
                question, body.audience, body.municipality, body.backend, history, body.lang
            )
        except gr.Error as exc:
            raise problem(422, str(exc.message)) from None

    def options(self, body: AskRequest, prepared: Prepared) -> dict[str, Any]:
        """`AnswerPipeline.stream` keywords: the chat's, plus the API's own filters."""
        return {
            **prepared.options(),
            "doc_type": body.doc_type or None,
            "date_from": body.date_from or None,
            "date_to": body.date_to or None,
        }

    def busy(self, prepared: Prepared) -> JSONResponse:
        """429 with the busy answer and how many wait for the local model."""
        assert prepared.busy is not None
        body = {**prepared.busy.public_dict(), "queue_place": self.chat.local_line.waiting}
        return JSONResponse(body, status_code=429, headers={"Retry-After": "60"})

    def answer(self, body: AskRequest, prepared: Prepared, lang: str = "nl") -> dict[str, Any]:
        """The whole answer (after waiting for the local model when it is chosen)."""
        with prepared, self._slot(prepared):
            if prepared.ticket is not None:
                for _ in prepared.ticket.places():
                    pass
            try:
                answer = self.chat.pipeline.ask(prepared.question, **self.options(body, prepared))
            except Exception:
                log.exception("answering failed (api)")
                raise ApiError(500, text("api_answer_failed", lang)) from None
        self.chat._audit(answer, None, prepared.municipality, "api")
        return answer.public_dict()

    def events(self, body: AskRequest, prepared: Prepared, lang: str = "nl") -> Iterator[str]:
        """The answer as server-sent events: ``queue`` ({place, text}) while it waits for
        the local model, ``token`` ({text}) as the model writes (not for extractive),
        ``answer`` (the whole checked answer) or ``error`` ({detail}) last; the queue text
        and the error's detail in ``lang``."""
        with prepared, self._slot(prepared):
            shown = 0
            if prepared.ticket is not None:
                for place in prepared.ticket.places():
                    if place != shown:
                        shown = place
                        note = text("queue", lang, place=place)
                        yield _sse("queue", {"place": place, "text": note})
                    else:
                        yield ": wachten\n\n"  # a comment keeps the connection alive
            answer: Answer | None = None
            try:
                stream = self.chat.pipeline.stream(
                    prepared.question, **self.options(body, prepared)
                )
                for piece in stream:
                    if isinstance(piece, Answer):
                        answer = piece
                    elif prepared.backend != "extractive":
                        yield _sse("token", {"text": piece})
            except Exception:
                log.exception("answering failed (api stream)")
                yield _sse("error", {"detail": text("api_answer_failed", lang)})
                return
        assert answer is not None
        self.chat._audit(answer, None, prepared.municipality, "api")
        yield _sse("answer", answer.public_dict())

    def _slot(self, prepared: Prepared) -> Any:
        """One of the API's slots; the local model's line does its own ordering."""
        if prepared.backend == "local":
            return _NoSlot()
        return _Held(self._slots)


class _Held:
    """A semaphore held for a with-block."""

    def __init__(self, semaphore: threading.BoundedSemaphore) -> None:
        self.semaphore = semaphore

    def __enter__(self) -> None:
        self.semaphore.acquire()

    def __exit__(self, *exc: object) -> None:
        self.semaphore.release()


class _NoSlot:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_END = object()


async def _until_disconnect(
    events: Iterator[str], request: Request, prepared: Prepared
) -> AsyncIterator[str]:
    """Send a blocking event iterator from worker threads, and close it as soon as the
    client has gone: its ``with`` blocks then give up the place in the model's line.

    (Starlette would run a plain iterator in threads too, but leaves it open when the
    client goes away, holding the place until it is garbage-collected.) The prepared
    question is left in any case, also when the stream never started.
    """
    try:
        while True:
            item = await anyio.to_thread.run_sync(next, events, _END)
            if item is _END or await request.is_disconnected():
                break
            yield item
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(close)
        prepared.__exit__(None, None, None)  # a no-op when the stream already left


def _sse(event: str, data: Any) -> str:
    """One server-sent event (the wire format is three lines; no library needed)."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def add_public_routes(router: APIRouter, web: "WebApp") -> None:
    """Add ``/ask``, ``/documents`` and ``/export`` to the API's router.

    Args:
        router: the API's router (its prefix is /api/v1).
        web: the page's handlers (``demo.ivb_app``).
    """
    api = AskApi(web)

    @router.post(
        "/ask",
        response_model=AnswerOut,
        tags=["vragen"],
        summary="Een vraag stellen",
        responses=ASK_RESPONSES,
    )
    def ask(body: AskRequest, request: Request) -> Any:
        """Answer one question with its checked sources, as the chat does.

        With backend "local" the question waits its turn for the model, first come first
        served with the chat; when too many wait, the answer is 429 with the busy answer
        (refusal_reason "busy") and queue_place. A refusal is a normal 200 answer with
        refused true and its refusal_reason. Refusals and notices are in ``lang``, else in
        the question's language; error details and the queue text in ``lang``, else the
        ivb_lang cookie's, else Accept-Language's, else Dutch.
        """
        lang = body.lang or request_language(request)
        streaming = body.stream or SSE_MEDIA_TYPE in request.headers.get("accept", "")
        prepared = api.prepare(body, lang)
        if prepared.busy is not None:
            return api.busy(prepared)
        if streaming:
            return StreamingResponse(
                _until_disconnect(api.events(body, prepared, lang), request, prepared),
                media_type=SSE_MEDIA_TYPE,
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        return api.answer(body, prepared, lang)

    @router.get(
        "/documents", response_model=list[DocumentOut], tags=["documenten"],
        summary="De documenten in de index",
    )  # fmt: skip
    def documents() -> list[DocumentOut]:
        """Every indexed document with its metadata; superseded_by names newer versions."""
        return [
            DocumentOut(**d.model_dump(exclude={"source", "doc_hash"}))
            for d in web.service.store.documents()
        ]

    @router.post(
        "/export",
        tags=["vragen"],
        summary="Een gesprek opslaan als Markdown of Word",
        response_class=Response,
        responses={200: {"content": {"text/markdown": {}, "application/octet-stream": {}}}},
    )
    def export(body: ExportRequest, request: Request) -> Response:
        """The conversation as a file: per answer its sources (title, page, quote), the date
        and the model; refusals are marked as such. The file's own texts are Dutch or
        English: ``lang`` in the body ("nl" or "en"), else the ``ivb_lang`` cookie, else the
        Accept-Language header, else Dutch. Questions, answers and quotes stay as given."""
        now = datetime.now(UTC)
        turns = [
            ExportTurn.from_answer(t.answer.model_dump(), t.asked_at or now) for t in body.turns
        ]
        lang = body.lang or request_language(request)
        data, media_type = render_export(turns, body.format, exported_at=now, lang=lang)
        name = export_file_name(now, body.format, lang)
        return Response(
            data,
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

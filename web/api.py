"""The REST API beside the page: questions, the document catalog, staff document changes
and the export of a conversation, under /api/v1 (FastAPI; schema at /api/v1/openapi.json).

A question is taken exactly as the chat takes it (`web.chat.ChatHandlers.prepare`: backend,
municipality, history, and for the local model a place in the one line it shares with the
chat, or the busy answer, here a 429). Staff routes need ``Authorization: Bearer <token>``
from ``POST /api/v1/staff/token``: the staff page's login (`assistant.auth.StaffAuth`, the
same sessions and rate limit), and uploads go through the same checks
(`ingest.uploads.ingest_upload`).
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, among
# them the local `Staff` dependency, at run time.

import json
import logging
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio
import gradio as gr
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, field_validator

from assistant.domain import MUNICIPALITIES, parse_date
from assistant.types import Answer
from ingest.uploads import UploadResult, ingest_upload, remove_document, sanitise_filename
from web.chat import ALL, MAX_QUESTION, Prepared, clean_question
from web.export import EXPORT_FORMATS, ExportTurn, export_file_name, render_export
from web.i18n import LANGUAGES, request_language
from web.render import LOCAL_QUEUE_TEXT

if TYPE_CHECKING:
    from web.layout import WebApp

log = logging.getLogger("ivb.api")

PREFIX = "/api/v1"
SSE_MEDIA_TYPE = "text/event-stream"
ANSWER_FAILED = "Er ging iets mis bij het antwoorden. Probeer het opnieuw."
Audience = Literal["raad", "inwoner"]
MunicipalityChoice = Literal[(ALL, *MUNICIPALITIES)]  # type: ignore[valid-type]


# --------------------------------------------------------------------------- models


class HistoryTurn(BaseModel):
    """An earlier turn of the conversation a follow-up is read with."""

    question: str = Field(max_length=MAX_QUESTION)
    answer: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    """A question, with the choices the chat offers."""

    question: str = Field(
        min_length=1,
        max_length=MAX_QUESTION,
        examples=["Welke thema's hebben de drie gemeenten samen geprioriteerd?"],
    )
    audience: Audience | None = Field(
        None, description="raad (precies) of inwoner (eenvoudige taal, B1); leeg: standaard"
    )
    municipality: MunicipalityChoice = Field(  # type: ignore[valid-type]
        ALL, description="alleen documenten van deze gemeente en de gezamenlijke; 'alle': alle"
    )
    doc_type: str | None = Field(None, max_length=40, description="alleen dit soort document")
    date_from: str | None = Field(None, max_length=10, description="vanaf JJJJ[-MM[-DD]]")
    date_to: str | None = Field(None, max_length=10, description="tot en met JJJJ[-MM[-DD]]")
    backend: str | None = Field(
        None, description="extractive, local of openai (wat deze server heeft); leeg: standaard"
    )
    history: list[HistoryTurn] = Field(default_factory=list, max_length=50)
    stream: bool = Field(
        False,
        description="true (of Accept: text/event-stream): server-sent events: queue, token, answer",
    )

    @field_validator("date_from", "date_to")
    @classmethod
    def _a_date(cls, value: str | None) -> str | None:
        if value:
            parse_date(value)  # ValueError with a Dutch message: a 422
        return value or None


class CitationOut(BaseModel):
    """One checked source: the document, its page label and the exact quoted span."""

    n: int
    chunk_id: str
    doc_id: str
    title: str
    page: str
    page_index: int
    source: str
    section: str = ""
    municipality: str = ""
    quote: str
    superseded: bool = False


class PassageOut(BaseModel):
    """A retrieved passage with its scores."""

    id: str
    doc_id: str
    source: str
    title: str
    page: str
    page_index: int
    section: str
    municipality: str
    doc_type: str
    score: float
    dense_score: float | None
    keyword_score: float | None
    superseded: bool
    text: str


class AnswerOut(BaseModel):
    """The structured answer (the shape of ``ivb ask --json``).

    ``refused`` with ``refusal_reason``: injection, no_relevant_passage, key_terms_missing,
    unknown_terms, unsupported or busy. ``timings`` in seconds per stage.
    """

    question: str
    standalone_question: str
    answer: str
    refused: bool
    refusal_reason: str
    language: str
    audience: str
    citations: list[CitationOut]
    unsupported_sentences: list[str]
    passages: list[PassageOut]
    timings: dict[str, float]
    backend: str
    model: str
    fallback: str
    notice: str
    queue_place: int | None = Field(
        None, description="bij 'busy': hoeveel vragen op het lokale model wachten"
    )


class DocumentOut(BaseModel):
    """A document in the index."""

    doc_id: str
    title: str
    municipality: str
    doc_type: str
    date: str
    supersedes: list[str]
    superseded_by: list[str]
    format: str
    pages: int
    chunk_count: int
    ingested_at: str
    content_hash: str


class TokenRequest(BaseModel):
    """The staff login."""

    username: str = Field(max_length=200)
    password: str = Field(max_length=200)


class TokenOut(BaseModel):
    """A staff bearer token, valid for ``expires_in`` seconds (IVB_SESSION_TTL_S)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class UploadOut(BaseModel):
    """What an upload did (`ingest.uploads.UploadResult`)."""

    ok: bool
    doc_id: str
    action: str | None
    chunks: int
    note: str
    ocr_pages: list[str]
    warnings: list[str]


class RemoveOut(BaseModel):
    """A removed document; ``note`` says where a file outside the uploads folder lies."""

    ok: bool
    doc_id: str
    note: str


class Problem(BaseModel):
    """An error: ``detail`` says in Dutch what went wrong and what to do."""

    detail: str
    reasons: list[str] = Field(default_factory=list)
    duplicate_of: str = ""


class ExportTurnIn(BaseModel):
    """One turn of an exported conversation: the answer as /api/v1/ask returned it."""

    answer: AnswerOut
    asked_at: datetime | None = Field(None, description="when it was asked (default: now)")


class ExportRequest(BaseModel):
    """A conversation to export: each question with the answer the API gave."""

    turns: list[ExportTurnIn] = Field(min_length=1, max_length=200)
    format: Literal[EXPORT_FORMATS] = "md"  # type: ignore[valid-type]
    lang: Literal[LANGUAGES] | None = Field(  # type: ignore[valid-type]
        None,
        description=(
            "the language of the file's own texts (headings, labels, dates, refusal "
            "reasons): nl or en; empty: the ivb_lang cookie, else Accept-Language, else nl"
        ),
    )


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error answer: its status, a `Problem` body and headers (`install_error_handlers`
    turns it into the response)."""

    def __init__(
        self, code: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.problem = Problem(detail=detail, **extra)
        self.headers = headers


def _problem(code: int, detail: str, **extra: Any) -> ApiError:
    return ApiError(code, detail, **extra)


def _unauthorized(detail: str) -> ApiError:
    return ApiError(status.HTTP_401_UNAUTHORIZED, detail, {"WWW-Authenticate": "Bearer"})


def install_error_handlers(app: Any, settings: Any) -> None:
    """Errors as a flat `Problem` ({"detail": "...", ...}) with a Dutch detail, also for an
    upload over the limit (413; FastAPI's own body limit answers in English plain text and
    stays behind this one for bodies without a Content-Length).

    Args:
        app: the FastAPI app the API router is part of.
        settings: max_file_mb.
    """

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        body = exc.problem.model_dump(exclude_defaults=True) | {"detail": exc.problem.detail}
        return JSONResponse(body, status_code=exc.code, headers=exc.headers)

    app.add_exception_handler(ApiError, api_error)
    app.add_middleware(UploadLimitMiddleware, settings=settings)


class UploadLimitMiddleware:
    """Refuses a staff upload whose Content-Length exceeds gradio's cap (the page's limit)
    before its body is read, with a Dutch 413 (plain ASGI: streams pass untouched)."""

    def __init__(self, app: Any, settings: Any) -> None:
        from web.server import gradio_upload_limit

        self.app = app
        self.max_file_mb = settings.max_file_mb
        self.limit = gradio_upload_limit(settings)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") in ("POST", "PUT")
            and scope.get("path", "").startswith(f"{PREFIX}/staff/documents")
        ):
            length = dict(scope.get("headers", [])).get(b"content-length", b"")
            if length.isdigit() and int(length) > self.limit:
                detail = (
                    f"Het bestand is te groot; de grens is {self.max_file_mb:g} MB. "
                    "Verklein het bestand of splits het."
                )
                response = JSONResponse({"detail": detail}, status_code=413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# --------------------------------------------------------------------------- handlers


class ApiHandlers:
    """What the API routes call, over one page's handlers (`web.layout.WebApp`).

    Args:
        web: the page's handlers: the chat (questions, the local model's line) and the
            staff page (login sessions, the store).
    """

    def __init__(self, web: "WebApp") -> None:
        self.web = web
        self.chat = web.chat
        self.staff = web.staff
        self.settings = web.settings
        # The API answers settings.chat_concurrency questions at a time (as the gradio API
        # group does), apart from the chat; the local model's line is shared with the chat.
        self._slots = threading.BoundedSemaphore(self.settings.chat_concurrency)
        self._writes = threading.Lock()  # one staff change at a time, as on the page

    # -- questions ---------------------------------------------------------------------
    def prepare(self, body: AskRequest) -> Prepared:
        """Take a question as the chat does.

        Raises:
            ApiError: 422 for an empty question or a backend this server lacks.
        """
        question = clean_question(body.question)
        if not question:
            raise _problem(422, "Stel een vraag.")
        history = [(t.question, t.answer) for t in body.history]
        try:
            return self.chat.prepare(
                question, body.audience, body.municipality, body.backend, history
            )
        except gr.Error as exc:
            raise _problem(422, str(exc.message)) from None

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
        body = {**prepared.busy.as_dict(), "queue_place": self.chat.local_line.waiting}
        return JSONResponse(body, status_code=429, headers={"Retry-After": "60"})

    def answer(self, body: AskRequest, prepared: Prepared) -> dict[str, Any]:
        """The whole answer (after waiting for the local model when it is chosen)."""
        with prepared, self._slot(prepared):
            if prepared.ticket is not None:
                for _ in prepared.ticket.places():
                    pass
            try:
                answer = self.chat.pipeline.ask(prepared.question, **self.options(body, prepared))
            except Exception:
                log.exception("answering failed (api)")
                raise ApiError(500, ANSWER_FAILED) from None
        self.chat._audit(answer, None, prepared.municipality, "api")
        return answer.as_dict()

    def events(self, body: AskRequest, prepared: Prepared) -> Iterator[str]:
        """The answer as server-sent events: ``queue`` ({place, text}) while it waits for
        the local model, ``token`` ({text}) as the model writes (not for extractive),
        ``answer`` (the whole checked answer) or ``error`` ({detail}) last."""
        with prepared, self._slot(prepared):
            shown = 0
            if prepared.ticket is not None:
                for place in prepared.ticket.places():
                    if place != shown:
                        shown = place
                        text = LOCAL_QUEUE_TEXT.format(place=place)
                        yield _sse("queue", {"place": place, "text": text})
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
                yield _sse("error", {"detail": ANSWER_FAILED})
                return
        assert answer is not None
        self.chat._audit(answer, None, prepared.municipality, "api")
        yield _sse("answer", answer.as_dict())

    def _slot(self, prepared: Prepared) -> Any:
        """One of the API's slots; the local model's line does its own ordering."""
        if prepared.backend == "local":
            return _NoSlot()
        return _Held(self._slots)

    # -- staff -------------------------------------------------------------------------
    def login(self, body: TokenRequest, client: str | None) -> TokenOut:
        """A bearer token for the staff login.

        Raises:
            ApiError: 403 when staff login is off, 429 after too many failures
                (Retry-After), 401 for a wrong name or password.
        """
        auth = self.staff.auth
        if not auth.enabled:
            raise _problem(403, "Beheer staat uit: er zijn geen inloggegevens ingesteld.")
        result = auth.login(body.username, body.password, client)
        if result.ok and result.token:
            log.info("staff api login: %s", body.username.strip()[:40])
            return TokenOut(access_token=result.token, expires_in=int(auth.ttl_s))
        log.warning("staff api login failed for %r", body.username[:40])
        if result.retry_after_s:
            retry = {"Retry-After": str(int(result.retry_after_s) + 1)}
            raise ApiError(429, result.message, retry)
        raise _unauthorized(result.message)

    def upload(self, token_user: str, file: UploadFile, meta: dict[str, str]) -> UploadResult:
        """Write the upload to a private temporary folder under its sanitised name, then
        take it in as the staff page does (checks, staging, ingest; a failure changes
        nothing)."""
        name = sanitise_filename(file.filename or "upload")
        with tempfile.TemporaryDirectory(prefix="ivb-api-upload-") as folder:
            path = Path(folder) / name
            with path.open("wb") as out:
                while chunk := file.file.read(1 << 20):
                    out.write(chunk)
            with self._writes:
                result = ingest_upload(self.web.service, path, **meta)
        log.info("staff %s api upload %s: ok=%s %s", token_user, name, result.ok, result.error)
        return result


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


def _upload_out(result: UploadResult) -> UploadOut:
    return UploadOut(
        ok=result.ok,
        doc_id=result.doc_id,
        action=result.action,
        chunks=result.chunks,
        note=result.note,
        ocr_pages=result.ocr_pages,
        warnings=result.warnings,
    )


def _upload_failure(result: UploadResult) -> ApiError:
    """409 for a duplicate or a running ingest, 422 for a file or field that is refused."""
    busy = "Er loopt al een opname" in result.error
    code = 409 if (result.duplicate_of or busy) else 422
    return _problem(code, result.error, reasons=result.reasons, duplicate_of=result.duplicate_of)


# --------------------------------------------------------------------------- routes

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "geen, een onjuist of een verlopen token"},
    422: {"description": "een ongeldige vraag, bestand of veld"},
}


def api_router(web: "WebApp") -> APIRouter:
    """The API's routes over one page's handlers.

    Args:
        web: the page's handlers (``demo.ivb_app``).
    """
    from web.server import gradio_upload_limit

    api = ApiHandlers(web)
    router = APIRouter(prefix=PREFIX)
    bearer = HTTPBearer(auto_error=False, description="token van POST /api/v1/staff/token")
    upload_limit = gradio_upload_limit(web.settings)

    def staff_user(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise _unauthorized("Log in: stuur 'Authorization: Bearer <token>'.")
        user = api.staff.auth.validate(credentials.credentials)
        if user is None:
            raise _unauthorized("Het token is onjuist of verlopen. Vraag een nieuw token.")
        return user

    Staff = Annotated[str, Depends(staff_user)]

    @router.post(
        "/ask",
        response_model=AnswerOut,
        tags=["vragen"],
        summary="Een vraag stellen",
        responses={
            200: {
                "content": {SSE_MEDIA_TYPE: {"schema": {"type": "string"}}},
                "description": "het antwoord; met stream of Accept: text/event-stream als "
                "server-sent events (queue, token, answer)",
            },
            429: {"model": AnswerOut, "description": "te veel vragen wachten op het lokale model"},
            422: _ERRORS[422],
        },
    )
    def ask(body: AskRequest, request: Request) -> Any:
        """Answer one question with its checked sources, as the chat does.

        With backend "local" the question waits its turn for the model, first come first
        served with the chat; when too many wait, the answer is 429 with the busy answer
        (refusal_reason "busy") and queue_place. A refusal is a normal 200 answer with
        refused true and its refusal_reason.
        """
        streaming = body.stream or SSE_MEDIA_TYPE in request.headers.get("accept", "")
        prepared = api.prepare(body)
        if prepared.busy is not None:
            return api.busy(prepared)
        if streaming:
            return StreamingResponse(
                _until_disconnect(api.events(body, prepared), request, prepared),
                media_type=SSE_MEDIA_TYPE,
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        return api.answer(body, prepared)

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
        lang = body.lang or request_language(request)
        turns = [
            ExportTurn.from_answer(t.answer.model_dump(), t.asked_at or now) for t in body.turns
        ]
        data, media_type = render_export(turns, body.format, exported_at=now, lang=lang)
        name = export_file_name(now, body.format, lang)
        return Response(
            data,
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.post(
        "/staff/token",
        response_model=TokenOut,
        tags=["beheer"],
        summary="Inloggen: een bearer token",
        responses={401: _ERRORS[401], 403: {"model": Problem}, 429: {"model": Problem}},
    )
    def token(body: TokenRequest, request: Request) -> TokenOut:
        """Log in with the staff page's username and password; the same limit on failed
        attempts applies (per username and client address)."""
        client = request.client.host if request.client else None
        return api.login(body, client)

    @router.delete(
        "/staff/token", status_code=204, tags=["beheer"], summary="Uitloggen",
        responses={401: _ERRORS[401]},
    )  # fmt: skip
    def logout(
        user: Staff,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Response:
        """End the session of this token."""
        api.staff.auth.logout(credentials.credentials if credentials else None)
        return Response(status_code=204)

    def upload_meta(
        doc_id: str, title: str, municipality: str, doc_type: str, date: str, supersedes: str
    ) -> dict[str, str]:
        return {
            "doc_id": doc_id,
            "title": title,
            "municipality": municipality,
            "doc_type": doc_type,
            "date": date,
            "supersedes": supersedes,
        }

    upload_responses: dict[int | str, dict[str, Any]] = {
        401: _ERRORS[401],
        409: {"model": Problem, "description": "dezelfde tekst staat al in de index, of er "
              "loopt al een opname"},
        413: {"model": Problem, "description": "het bestand is te groot"},
        422: {"model": Problem, "description": "bestandstype, bestand of veld geweigerd"},
    }  # fmt: skip

    @router.post(
        "/staff/documents",
        response_model=UploadOut,
        status_code=201,
        tags=["beheer"],
        summary="Een document toevoegen (of vervangen onder dezelfde id)",
        responses=upload_responses,
        max_body_size=upload_limit,
    )
    def add_document(
        user: Staff,
        file: Annotated[UploadFile, File(description="pdf, docx, md of txt")],
        doc_id: Annotated[str, Form(max_length=200)] = "",
        title: Annotated[str, Form(max_length=500)] = "",
        municipality: Annotated[str, Form(max_length=40)] = "",
        doc_type: Annotated[str, Form(max_length=40)] = "",
        date: Annotated[str, Form(max_length=10)] = "",
        supersedes: Annotated[str, Form(max_length=2000)] = "",
    ) -> UploadOut:
        """Check, store and index a file with the staff page's limits (IVB_MAX_FILE_MB, the
        accepted types, safe file names). Without doc_id the id comes from the file name; an
        existing id replaces that document. A failure changes nothing."""
        meta = upload_meta(doc_id, title, municipality, doc_type, date, supersedes)
        result = api.upload(user, file, meta)
        if not result.ok:
            raise _upload_failure(result)
        return _upload_out(result)

    @router.put(
        "/staff/documents/{doc_id}",
        response_model=UploadOut,
        tags=["beheer"],
        summary="Een document vervangen door een nieuwe versie",
        responses={**upload_responses, 404: {"model": Problem}},
        max_body_size=upload_limit,
    )
    def replace_document(
        doc_id: str,
        user: Staff,
        file: Annotated[UploadFile, File(description="pdf, docx, md of txt")],
        title: Annotated[str, Form(max_length=500)] = "",
        municipality: Annotated[str, Form(max_length=40)] = "",
        doc_type: Annotated[str, Form(max_length=40)] = "",
        date: Annotated[str, Form(max_length=10)] = "",
        supersedes: Annotated[str, Form(max_length=2000)] = "",
    ) -> UploadOut:
        """Replace the document with this id by the uploaded file (same checks as adding)."""
        if web.service.store.document(doc_id) is None:
            raise _problem(404, f"{doc_id} staat niet in de index; voeg het toe met POST.")
        meta = upload_meta(doc_id, title, municipality, doc_type, date, supersedes)
        result = api.upload(user, file, meta)
        if not result.ok:
            raise _upload_failure(result)
        return _upload_out(result)

    @router.delete(
        "/staff/documents/{doc_id}",
        response_model=RemoveOut,
        tags=["beheer"],
        summary="Een document uit de index halen",
        responses={401: _ERRORS[401], 404: {"model": Problem}, 409: {"model": Problem}},
    )
    def delete_document(doc_id: str, user: Staff) -> RemoveOut:
        """Remove the document (and its file in the uploads folder) from the index."""
        with api._writes:
            result = remove_document(web.service, doc_id)
        if not result.ok:
            code = 409 if "Er loopt al een opname" in result.error else 404
            raise _problem(code, result.error)
        log.info("staff %s api delete %s", user, doc_id)
        return RemoveOut(ok=True, doc_id=result.doc_id, note=result.note)

    return router

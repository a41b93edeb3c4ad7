"""The REST API beside the page: questions, the document catalog, staff document changes
and the export of a conversation, under /api/v1 (FastAPI; schema at /api/v1/openapi.json).

A question is taken exactly as the chat takes it (`web.questions.QuestionHandlers.prepare`:
backend, municipality, history, and for the local model a place in the one line it shares
with the chat, or the busy answer, here a 429). Staff routes need
``Authorization: Bearer <token>`` from ``POST /api/v1/staff/token``: the staff page's login
(`assistant.auth.StaffAuth`, the same sessions and rate limit), and uploads go through the
same checks (`ingest.uploads.ingest_upload`).

The routes are in web.api_public (ask, documents, export) and web.api_staff (token,
documents), their bodies in web.api_schemas and their errors in web.api_errors; this
module puts them on one router and installs the error handling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from web.api_errors import ApiError
from web.api_public import add_public_routes
from web.api_staff import add_staff_routes
from web.i18n import request_language, text

if TYPE_CHECKING:
    from web.layout import WebApp

PREFIX = "/api/v1"
ECHO_CHARS = 200
"""The most characters of a caller's input a 422 answer sends back (per value)."""
_ECHO_ITEMS = 10  # items of a list, or fields of an object, echoed


def api_router(web: WebApp) -> APIRouter:
    """The API's routes over one page's handlers.

    Args:
        web: the page's handlers (``demo.ivb_app``).
    """
    router = APIRouter(prefix=PREFIX)
    add_public_routes(router, web)
    add_staff_routes(router, web)
    return router


def install_error_handlers(app: Any, settings: Any) -> None:
    """Errors as a flat `Problem` ({"detail": "...", ...}) with a detail in the caller's
    language, also for an upload over the limit (413; FastAPI's own body limit answers in
    English plain text and stays behind this one for bodies without a Content-Length).

    Args:
        app: the FastAPI app the API router is part of.
        settings: max_file_mb.
    """

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        body = exc.problem.model_dump(exclude_defaults=True) | {"detail": exc.problem.detail}
        return JSONResponse(body, status_code=exc.code, headers=exc.headers)

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{**e, "input": short_echo(e["input"])} if "input" in e else e
                  for e in jsonable_encoder(exc.errors())]  # fmt: skip
        return JSONResponse({"detail": errors}, status_code=422)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_middleware(UploadLimitMiddleware, settings=settings)


def short_echo(value: Any, depth: int = 0) -> Any:
    """A caller's input as a 422 answer echoes it: FastAPI's shape, but no text longer
    than ECHO_CHARS (cut, with "…"), no more than a few items of a list or an object, and
    nothing nested deeper than two levels, so that a 200 KB question is not sent back.

    Args:
        value: the ``input`` of one validation error (JSON-encodable).
        depth: how deep in the input this value is.
    """
    if isinstance(value, str):
        return value if len(value) <= ECHO_CHARS else value[:ECHO_CHARS] + "…"
    if isinstance(value, dict | list) and depth >= 2:
        return "…"
    if isinstance(value, dict):
        items = list(value.items())
        shown = {k[:ECHO_CHARS]: short_echo(v, depth + 1) for k, v in items[:_ECHO_ITEMS]}
        return shown | (
            {"…": f"{len(items) - _ECHO_ITEMS} velden meer"} if len(items) > _ECHO_ITEMS else {}
        )
    if isinstance(value, list):
        rest = [f"… {len(value) - _ECHO_ITEMS} meer"] if len(value) > _ECHO_ITEMS else []
        return [short_echo(v, depth + 1) for v in value[:_ECHO_ITEMS]] + rest
    return value


class UploadLimitMiddleware:
    """Refuses a staff upload whose Content-Length exceeds gradio's cap (the page's limit)
    before its body is read, with a 413 in the caller's language (plain ASGI: streams pass
    untouched)."""

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
                lang = request_language(Request(scope))
                detail = text("api_too_large", lang, limit=self.max_file_mb)
                response = JSONResponse({"detail": detail}, status_code=413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

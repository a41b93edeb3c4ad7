"""The REST API's error answers: an `ApiError` carries a status and a `Problem` body (a
``detail`` in the caller's language that says what went wrong and what to do); web.api
turns it into the response. `ERROR_RESPONSES` documents the common ones in the OpenAPI schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import status

from web.api_schemas import Problem

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "geen, een onjuist of een verlopen token"},
    422: {"description": "een ongeldige vraag, bestand of veld"},
}


class ApiError(Exception):
    """An error answer: its status, a `Problem` body and headers
    (`web.api.install_error_handlers` turns it into the response)."""

    def __init__(
        self, code: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.problem = Problem(detail=detail, **extra)
        self.headers = headers


def problem(code: int, detail: str, **extra: Any) -> ApiError:
    """An `ApiError` with status ``code`` and a `Problem` of ``detail`` and ``extra``
    (reasons, duplicate_of), to raise."""
    return ApiError(code, detail, **extra)


def unauthorized(detail: str) -> ApiError:
    """A 401 `ApiError` that asks for a bearer token (``WWW-Authenticate: Bearer``)."""
    return ApiError(status.HTTP_401_UNAUTHORIZED, detail, {"WWW-Authenticate": "Bearer"})

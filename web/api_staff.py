"""The REST API's staff routes: ``POST``/``DELETE /staff/token`` (log in and out) and
``POST /staff/documents``, ``PUT``/``DELETE /staff/documents/{doc_id}`` (add, replace and
remove a document).

Every route but the login needs ``Authorization: Bearer <token>``: a session of the staff
page's login (`assistant.auth.StaffAuth`, the same sessions and rate limit). Uploads go
through the staff page's checks (`ingest.uploads.ingest_upload`), one change at a time.
Error details and the upload's lines are in the caller's language (`web.i18n.request_language`:
the ivb_lang cookie, else Accept-Language, else Dutch).
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, among
# them the `Staff` dependency made per router, at run time.

import logging
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ingest.errors import Reason
from ingest.upload_meta import UploadMeta
from ingest.uploads import UploadResult, ingest_upload, remove_document, sanitise_filename
from web.api_errors import ERROR_RESPONSES, ApiError, problem, unauthorized
from web.api_schemas import Problem, RemoveOut, TokenOut, TokenRequest, UploadOut
from web.i18n import request_language, text

if TYPE_CHECKING:
    from web.layout import WebApp

log = logging.getLogger("ivb.api")

BEARER = HTTPBearer(auto_error=False, description="token van POST /api/v1/staff/token")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: ERROR_RESPONSES[401],
    409: {"model": Problem, "description": "dezelfde tekst staat al in de index, of er "
          "loopt al een opname"},
    413: {"model": Problem, "description": "het bestand is te groot"},
    422: {"model": Problem, "description": "bestandstype, bestand of veld geweigerd"},
}  # fmt: skip


class StaffApi:
    """What the staff routes call, over the staff page's login and the page's store.

    Args:
        web: the page's handlers: the staff page (login sessions) and the service (store).
    """

    def __init__(self, web: "WebApp") -> None:
        self.web = web
        self.staff = web.staff
        self._writes = threading.Lock()  # one staff change at a time, as on the page

    def staff_user(self, credentials: Bearer, request: Request) -> str:
        """The staff member a bearer token belongs to (the routes' dependency).

        Raises:
            ApiError: 401 without a bearer token, or for a wrong or expired one.
        """
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise unauthorized(text("api_bearer_missing", request_language(request)))
        user = self.staff.auth.validate(credentials.credentials)
        if user is None:
            raise unauthorized(text("api_token_wrong", request_language(request)))
        return user

    def login(self, body: TokenRequest, client: str | None, lang: str = "nl") -> TokenOut:
        """A bearer token for the staff login.

        Raises:
            ApiError: 403 when staff login is off, 429 after too many failures
                (Retry-After), 401 for a wrong name or password; the detail in ``lang``.
        """
        auth = self.staff.auth
        if not auth.enabled:
            raise problem(403, text("api_staff_off", lang))
        result = auth.login(body.username, body.password, client)
        if result.ok and result.token:
            log.info("staff api login: %s", body.username.strip()[:40])
            return TokenOut(access_token=result.token, expires_in=int(auth.ttl_s))
        log.warning("staff api login failed for %r", body.username[:40])
        detail = self.staff.login_failure(result, lang)
        if result.retry_after_s:
            retry = {"Retry-After": str(int(result.retry_after_s) + 1)}
            raise ApiError(429, detail, retry)
        raise unauthorized(detail)

    def upload(
        self, token_user: str, file: UploadFile, meta: UploadMeta, lang: str = "nl"
    ) -> UploadOut:
        """Write the upload to a private temporary folder under its sanitised name, then
        take it in as the staff page does (checks, staging, ingest; a failure changes
        nothing).

        Raises:
            ApiError: 409 for a duplicate or a running ingest, 422 for a refused file or
                field (`_upload_failure`); its detail and reasons in ``lang``.
        """
        name = sanitise_filename(file.filename or "upload")
        with tempfile.TemporaryDirectory(prefix="ivb-api-upload-") as folder:
            path = Path(folder) / name
            with path.open("wb") as out:
                while chunk := file.file.read(1 << 20):
                    out.write(chunk)
            with self._writes:
                result = ingest_upload(self.web.service, path, meta, lang)
        log.info("staff %s api upload %s: %s", token_user, name, result.code or result.action)
        if not result.ok:
            raise _upload_failure(result)
        return _upload_out(result)

    def replace(
        self, token_user: str, file: UploadFile, meta: UploadMeta, lang: str = "nl"
    ) -> UploadOut:
        """`upload` for a document that must already be in the index.

        Raises:
            ApiError: 404 when ``meta.doc_id`` is not in the index; else as `upload`.
        """
        if self.web.service.store.document(meta.doc_id) is None:
            raise problem(404, text("api_not_in_index", lang, doc_id=meta.doc_id))
        return self.upload(token_user, file, meta, lang)

    def remove(self, token_user: str, doc_id: str, lang: str = "nl") -> RemoveOut:
        """Remove a document (and its file in the uploads folder) from the index.

        Raises:
            ApiError: 404 for an id that is not in the index, 409 while an ingest runs.
        """
        with self._writes:
            result = remove_document(self.web.service, doc_id, lang)
        if not result.ok:
            code = 409 if result.code == Reason.REMOVE_BUSY else 404
            raise problem(code, result.error)
        log.info("staff %s api delete %s", token_user, doc_id)
        return RemoveOut(ok=True, doc_id=result.doc_id, note=result.note)


def _upload_out(result: UploadResult) -> UploadOut:
    return UploadOut.model_validate(result, from_attributes=True)


def _upload_failure(result: UploadResult) -> ApiError:
    """409 for a duplicate or a running ingest, 422 for a file or field that is refused."""
    busy = result.code == Reason.UPLOAD_BUSY
    code = 409 if (result.duplicate_of or busy) else 422
    return problem(code, result.error, reasons=result.reasons, duplicate_of=result.duplicate_of)


def add_staff_routes(router: APIRouter, web: "WebApp") -> None:
    """Add the staff routes (token, documents) to the API's router.

    Args:
        router: the API's router (its prefix is /api/v1).
        web: the page's handlers (``demo.ivb_app``).
    """
    from web.server import gradio_upload_limit

    api = StaffApi(web)
    _add_token_routes(router, api)
    _add_document_routes(router, api, gradio_upload_limit(web.settings))


def _add_token_routes(router: APIRouter, api: StaffApi) -> None:
    """``POST /staff/token`` (log in) and ``DELETE /staff/token`` (log out)."""
    Staff = Annotated[str, Depends(api.staff_user)]

    @router.post(
        "/staff/token",
        response_model=TokenOut,
        tags=["beheer"],
        summary="Inloggen: een bearer token",
        responses={
            401: ERROR_RESPONSES[401], 403: {"model": Problem}, 429: {"model": Problem}
        },
    )  # fmt: skip
    def token(body: TokenRequest, request: Request) -> TokenOut:
        """Log in with the staff page's username and password; the same limit on failed
        attempts applies (per username and client address)."""
        client = request.client.host if request.client else None
        return api.login(body, client, request_language(request))

    @router.delete(
        "/staff/token", status_code=204, tags=["beheer"], summary="Uitloggen",
        responses={401: ERROR_RESPONSES[401]},
    )  # fmt: skip
    def logout(user: Staff, credentials: Bearer) -> Response:
        """End the session of this token."""
        api.staff.auth.logout(credentials.credentials if credentials else None)
        return Response(status_code=204)


def _add_document_routes(router: APIRouter, api: StaffApi, upload_limit: int) -> None:
    """``POST /staff/documents`` and ``PUT``/``DELETE /staff/documents/{doc_id}``.

    Args:
        router: the API's router.
        api: the staff handlers.
        upload_limit: the largest request body in bytes (gradio's upload cap).
    """
    Staff = Annotated[str, Depends(api.staff_user)]

    @router.post(
        "/staff/documents",
        response_model=UploadOut,
        status_code=201,
        tags=["beheer"],
        summary="Een document toevoegen (of vervangen onder dezelfde id)",
        responses=UPLOAD_RESPONSES,
        max_body_size=upload_limit,
    )
    def add_document(
        user: Staff,
        request: Request,
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
        meta = UploadMeta.from_form(doc_id, title, municipality, doc_type, date, supersedes)
        return api.upload(user, file, meta, request_language(request))

    @router.put(
        "/staff/documents/{doc_id}",
        response_model=UploadOut,
        tags=["beheer"],
        summary="Een document vervangen door een nieuwe versie",
        responses={**UPLOAD_RESPONSES, 404: {"model": Problem}},
        max_body_size=upload_limit,
    )
    def replace_document(
        doc_id: str,
        user: Staff,
        request: Request,
        file: Annotated[UploadFile, File(description="pdf, docx, md of txt")],
        title: Annotated[str, Form(max_length=500)] = "",
        municipality: Annotated[str, Form(max_length=40)] = "",
        doc_type: Annotated[str, Form(max_length=40)] = "",
        date: Annotated[str, Form(max_length=10)] = "",
        supersedes: Annotated[str, Form(max_length=2000)] = "",
    ) -> UploadOut:
        """Replace the document with this id by the uploaded file (same checks as adding)."""
        meta = UploadMeta.from_form(doc_id, title, municipality, doc_type, date, supersedes)
        return api.replace(user, file, meta, request_language(request))

    @router.delete(
        "/staff/documents/{doc_id}",
        response_model=RemoveOut,
        tags=["beheer"],
        summary="Een document uit de index halen",
        responses={
            401: ERROR_RESPONSES[401], 404: {"model": Problem}, 409: {"model": Problem}
        },
    )  # fmt: skip
    def delete_document(doc_id: str, user: Staff, request: Request) -> RemoveOut:
        """Remove the document (and its file in the uploads folder) from the index."""
        return api.remove(user, doc_id, request_language(request))

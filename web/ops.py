"""Operations endpoints of one replica: ``/healthz``, ``/readyz`` and ``/metrics``.

- ``GET /healthz``: the process serves HTTP (200 ``{"status": "ok"}``); touches nothing
  else, so a liveness probe never restarts a replica for a slow database.
- ``GET /readyz``: the replica can answer: the store (catalog and vector index), the
  embedding model and the LLM of the configured backend are reachable. 200
  ``{"status": "ready", "checks": {...}}``, or 503 ``{"status": "not ready", "not_ready":
  [names], "checks": {name: {"ok": bool, "detail": str}}}``. A load balancer sends
  questions only to ready replicas.
- ``GET /metrics``: Prometheus text format (``assistant.metrics`` plus the HTTP requests
  counted by `MetricsMiddleware`). Each replica shows only its own.

`install_ops` puts the router and the middleware on the server's FastAPI app.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from assistant import metrics
from assistant.service import Service
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.model_line import ModelLine

LLM_CHECK_TIMEOUT_S = 2.0
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

# Why a service's embedding model failed to load in `warm_embedder`, for /readyz.
_LOAD_ERRORS: weakref.WeakKeyDictionary[Service, str] = weakref.WeakKeyDictionary()

HTTP_REQUESTS = Counter(
    "ivb_http_requests",
    "HTTP requests served, by method, route template and status",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "ivb_http_request_seconds",
    "Seconds from request to the end of the response (a streamed answer included)",
    ["route"],
    buckets=HTTP_BUCKETS,
)


@dataclass(frozen=True)
class Check:
    """One readiness check: whether it passed, and what was found (or what is wrong)."""

    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail}


def check_store(service: Service) -> Check:
    """The catalog (SQLite or PostgreSQL) and the vector index (Chroma) answer."""
    try:
        chunks = service.store.count_chunks()
        vectors = service.store.vectors.count()
    except Exception as exc:
        return Check(False, f"{type(exc).__name__}: {_short(exc)}")
    return Check(True, f"{chunks} current chunks, {vectors} vectors")


def check_embedder(service: Service) -> Check:
    """The embedding model is in memory (loading is started by `warm_embedder`)."""
    if service.retriever.embedder_loaded:
        return Check(True, "loaded")
    error = _LOAD_ERRORS.get(service)
    if error:
        return Check(False, f"failed to load: {error}")
    return Check(False, "loading")


def check_llm(settings: Settings) -> Check:
    """The generator of the configured backend answers: nothing for ``extractive``; the
    endpoint's ``/models`` for ``openai``; the supervised process for ``local``."""
    backend = settings.llm_backend
    if backend == "extractive":
        return Check(True, "extractive: no language model needed")
    if backend == "openai":
        return _check_openai(settings)
    try:
        from assistant.model_process import local_model_process

        process = local_model_process(settings, start=False)
    except Exception as exc:
        return Check(False, f"local model: {_short(exc)}")
    if process.ready:
        return Check(True, "local model process ready")
    return Check(False, f"local model: {process.reason or 'not started'}")


def _check_openai(settings: Settings) -> Check:
    import httpx

    base = settings.openai_base_url
    if not base:
        return Check(False, "openai: IVB_OPENAI_BASE_URL is not set")
    headers = {}
    if settings.openai_api_key is not None:
        headers["Authorization"] = f"Bearer {settings.openai_api_key.get_secret_value()}"
    url = f"{base.rstrip('/')}/models"
    try:
        response = httpx.get(url, headers=headers, timeout=LLM_CHECK_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return Check(False, f"openai: {url} unreachable ({type(exc).__name__})")
    if response.status_code >= 400:
        return Check(False, f"openai: {url} answered {response.status_code}")
    return Check(True, f"openai: {url} answered {response.status_code}")


def readiness(settings: Settings, service: Service) -> dict[str, Any]:
    """All readiness checks: {"status", "not_ready", "checks"} (see the module doc)."""
    checks = {
        "store": check_store(service),
        "embedding_model": check_embedder(service),
        "llm": check_llm(settings),
    }
    failing = [name for name, check in checks.items() if not check.ok]
    return {
        "status": "not ready" if failing else "ready",
        "not_ready": failing,
        "checks": {name: check.as_dict() for name, check in checks.items()},
    }


def warm_embedder(service: Service) -> threading.Thread | None:
    """Load the embedding model in a background thread (once), so the replica becomes
    ready without waiting for a first question; None when it is already loaded."""
    if service.retriever.embedder_loaded:
        return None

    def load() -> None:
        try:
            service.retriever.embedder  # noqa: B018 - the property loads it
        except Exception as exc:
            _LOAD_ERRORS[service] = _short(exc)

    thread = threading.Thread(target=load, name="ivb-embedder-warm", daemon=True)
    thread.start()
    return thread


def ops_router(settings: Settings, service: Service) -> APIRouter:
    """The three endpoints over one replica's settings and service."""
    router = APIRouter(tags=["beheer"])

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    def readyz() -> JSONResponse:  # sync: FastAPI runs it in its thread pool
        body = readiness(settings, service)
        return JSONResponse(body, status_code=200 if body["status"] == "ready" else 503)

    @router.get("/metrics")
    def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


class MetricsMiddleware:
    """Counts every HTTP request by its route template (``/gradio_api/queue/data``, not
    the path with its ids, so the label values stay few) and times it to the end of the
    response. Plain ASGI, so streamed answers pass through untouched."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            HTTP_REQUESTS.labels(scope.get("method", ""), route, str(status)).inc()
            HTTP_SECONDS.labels(route).observe(time.perf_counter() - started)


def install_ops(
    app: FastAPI, settings: Settings, service: Service, model_line: ModelLine | None = None
) -> None:
    """Put /healthz, /readyz and /metrics and the request metrics on a FastAPI app (before
    it starts serving; before a page mounted at / so that these paths stay ours), and
    start loading the embedding model.

    Args:
        app: the server's app (``web.server.create_app``).
        settings: the settings served.
        service: the replica's store and models.
        model_line: the local model's line, reported as ``ivb_model_queue_length``.
    """
    app.include_router(ops_router(settings, service))
    app.add_middleware(MetricsMiddleware)
    if model_line is not None:
        metrics.watch_model_line(model_line)
    warm_embedder(service)


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__

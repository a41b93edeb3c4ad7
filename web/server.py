"""The one HTTP server: a FastAPI app with the REST API (web.api) and the gradio page
mounted at ``/``, served by uvicorn.

`create_app` builds the app (other routers are included there); `serve` runs it, in the
foreground (``ivb serve``) or in a thread (tests). The page keeps the options it had when
gradio launched it itself: Dutch and offline (`DutchPageMiddleware`), gradio's upload cap
above ours, no server-side rendering, PWA, MCP server, monitoring or run history.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.routing import Mount

from assistant.settings import Settings
from web.assets import CSS, DutchPageMiddleware, brand_css, head_html, theme
from web.i18n import I18N

log = logging.getLogger("ivb.server")

PAGE_PATH = "/"
API_TITLE = "IVB-assistent API"
API_VERSION = "1"
OPENAPI_URL = "/api/v1/openapi.json"
UPLOAD_SLACK = 1.5  # gradio's own upload cap, as a multiple of settings.max_file_mb
START_TIMEOUT_S = 30.0
# Seconds uvicorn waits for open requests (a streaming answer) when asked to stop.
GRACEFUL_SHUTDOWN_S = 5


def gradio_upload_limit(settings: Settings) -> int:
    """Bytes gradio itself accepts per upload: half as much again as settings.max_file_mb.

    gradio refuses a larger file with its own English message before our handler runs;
    with this slack, a file a bit over the limit reaches `ingest.uploads.check_upload`,
    which names it and the limit in Dutch.

    Args:
        settings: max_file_mb.
    """
    return int(settings.max_file_mb * 1_000_000 * UPLOAD_SLACK)


def page_options(settings: Settings) -> dict[str, Any]:
    """The options the page is mounted with (`gr.mount_gradio_app` keywords).

    Args:
        settings: host, port and upload limit.
    """
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "theme": theme(settings),
        "css": CSS + brand_css(settings),
        "head": head_html(),
        "i18n": I18N,
        "footer_links": ["api"],
        "max_file_size": f"{gradio_upload_limit(settings)}b",
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "enable_monitoring": False,
        "run_history": False,
        "show_error": False,
        "app_kwargs": {"middleware": [Middleware(DutchPageMiddleware)]},
    }


def create_app(
    settings: Settings, demo: gr.Blocks, options: dict[str, Any] | None = None
) -> FastAPI:
    """The whole server: the REST API under /api/v1 and the page at /.

    Args:
        settings: the settings served (the same ones the page was built with).
        demo: the page from `web.layout.build_app` (its handlers: ``demo.ivb_app``).
        options: the page's mount options (default: `page_options(settings)`).

    Returns:
        A FastAPI app for any ASGI server; its OpenAPI schema is at OPENAPI_URL.
    """
    from web.api import api_router, install_error_handlers
    from web.documents import document_routes
    from web.ops import install_ops

    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=(
            "Vragen aan de IVB-assistent en de documenten in de index. Antwoorden noemen "
            "hun bron (document, pagina, citaat). Beheer vraagt een bearer token van "
            "POST /api/v1/staff/token."
        ),
        openapi_url=OPENAPI_URL,
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN: offline, none
        redoc_url=None,
    )
    app.state.ivb_app = demo.ivb_app
    app.include_router(api_router(demo.ivb_app))
    web = demo.ivb_app
    # /healthz, /readyz, /metrics and the request metrics (web.ops), before the page's mount.
    install_ops(app, web.settings, web.service, web.chat.local_line)
    install_error_handlers(app, settings)
    # The viewer, the documents by id, the accessibility statement, the npm assets.
    app.include_router(document_routes(settings, web.service))
    # The page last: a mount at / matches every path the routes above leave.
    gr.mount_gradio_app(app, demo, path=PAGE_PATH, **(options or page_options(settings)))
    # As Blocks.launch does: the page knows the app that serves it, so that demo.close()
    # stops that app's streams (heartbeats) and the queue reports to it.
    page_app = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "")
    demo.app = demo.server_app = page_app
    demo._queue.set_server_app(page_app)
    return app


class AppServer:
    """uvicorn serving one app, in the foreground or in a thread.

    ``demo.close()`` (gradio) stops it too: `serve` makes this the page's ``server``.

    Args:
        app: the app from `create_app`.
        host: the address to listen on.
        port: the port to listen on.
        options: the page options the app was made with (kept for tests and logs).
    """

    def __init__(self, app: FastAPI, host: str, port: int, options: dict[str, Any]) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.options = options
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The page's address, e.g. ``http://127.0.0.1:7860/``."""
        host = "localhost" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}/"

    def run(self) -> None:
        """Serve until interrupted (SIGINT/SIGTERM); uvicorn handles the signals."""
        self._server.run()

    def start(self) -> None:
        """Serve in a daemon thread; return once the server listens.

        Raises:
            OSError: it did not start (the port is taken, or startup failed).
        """
        self._thread = threading.Thread(target=self._server.run, name="ivb-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive():
                raise OSError(f"the server did not start on {self.host}:{self.port}")
            if time.monotonic() > deadline:
                self.close()
                raise OSError(f"the server did not start within {START_TIMEOUT_S:g} s")
            time.sleep(0.01)

    def close(self) -> None:
        """Stop serving (open requests get GRACEFUL_SHUTDOWN_S seconds)."""
        self._server.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=GRACEFUL_SHUTDOWN_S + 5)


def serve(
    demo: gr.Blocks,
    settings: Settings,
    *,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
    **options: Any,
) -> AppServer:
    """Serve the page and the API on settings.host:settings.port.

    Args:
        demo: the page from `web.layout.build_app`.
        settings: host, port and upload limit.
        prevent_thread_lock: serve in a thread and return at once (tests); else block
            until interrupted.
        quiet: print no address.
        options: page options that replace those of `page_options` (e.g. server_port).

    Returns:
        The server (already stopped when prevent_thread_lock is False).
    """
    merged = {**page_options(settings), **options}
    app = create_app(settings, demo, merged)
    server = AppServer(app, merged["server_name"], merged["server_port"], merged)
    demo.server = server  # gradio's demo.close() stops it
    return _run(server, demo, background=prevent_thread_lock, quiet=quiet)


def _run(server: AppServer, demo: gr.Blocks, *, background: bool, quiet: bool) -> AppServer:
    """Start the server (tests replace this to see what would be served)."""
    if background:
        server.start()
        if not quiet:
            print(f"* IVB-assistent: {server.url} (API: {server.url}api/v1/)")
        return server
    if not quiet:
        print(f"* IVB-assistent: {server.url} (API: {server.url}api/v1/)", flush=True)
    try:
        server.run()
    finally:
        demo.close(verbose=False)
    return server

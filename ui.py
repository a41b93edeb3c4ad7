"""The web app's entry point: fill an empty store, then serve the page (web/) on
settings.host:settings.port, offline and Dutch.

Run with ``ivb serve`` or ``python ui.py``. The page itself is the web package: its layout
(web.layout), the chat and API (web.chat), the staff page (web.staff), its HTML
(web.render) and its stylesheet and scripts (web.assets).
"""

import logging
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from assistant.audit import prune_audit
from assistant.service import get_service
from assistant.settings import Settings, get_settings
from web.assets import CSS, DutchPageMiddleware, brand_css, head_html, theme
from web.documents import document_routes
from web.i18n import I18N
from web.layout import build_app

log = logging.getLogger("ivb.ui")

UPLOAD_SLACK = 1.5  # gradio's own upload cap, as a multiple of settings.max_file_mb


def gradio_upload_limit(settings: Settings) -> int:
    """Bytes gradio itself accepts per upload: half as much again as settings.max_file_mb.

    gradio refuses a larger file with its own English message before our handler runs;
    with this slack, a file a bit over the limit reaches `ingest.uploads.check_upload`,
    which names it and the limit in Dutch.

    Args:
        settings: max_file_mb.
    """
    return int(settings.max_file_mb * 1_000_000 * UPLOAD_SLACK)


def launch(demo: gr.Blocks, settings: Settings, **kwargs: Any) -> Any:
    """Start the server for a page made by `build_app`, offline, in Dutch or English, with
    the app's own routes (web.documents).

    Args:
        demo: the page.
        settings: host, port and upload limit.
        kwargs: more `Blocks.launch` arguments (tests pass prevent_thread_lock, quiet).
    """
    options: dict[str, Any] = {
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
        "app_kwargs": {
            "middleware": [Middleware(DutchPageMiddleware)],
            # The viewer, the documents by id, the accessibility statement, the assets.
            "routes": document_routes(settings, demo.ivb_app.service).routes,
        },
    }
    options.update(kwargs)
    return demo.launch(**options)


def main(settings: Settings | None = None) -> None:
    """Fill an empty store from the corpus folder (with progress), prune the audit log,
    then serve the page on settings.host:settings.port.

    Args:
        settings: the settings (the process-wide ones when None).
    """
    from rich.console import Console

    from ingest.progress import fill_empty_store

    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    console = Console(stderr=True)
    service = get_service(settings)
    fill_empty_store(settings, service.store, console)
    dropped = prune_audit(settings)
    if dropped:
        console.print(
            f"Auditlog: {dropped} regels ouder dan {settings.audit_retention_days} "
            "dagen verwijderd."
        )
    start_local_model_if_used(settings, console)
    demo = build_app(settings, service)
    launch(demo, settings)


def start_local_model_if_used(settings: Settings, console: Any) -> None:
    """Start the local model's process and wait for its self-test when the page will offer
    it; a model that cannot start leaves the app on the other backends, with the reason
    in the log, the terminal and on the page."""
    from assistant.backends import local_model_available, local_model_notice
    from assistant.llm import LocalModelStartError, start_local_model

    if not local_model_available(settings):
        return
    console.print("Lokaal taalmodel starten (eigen proces) …")
    try:
        process = start_local_model(settings)
    except LocalModelStartError as exc:
        log.error("local model not started: %s", exc)
        console.print(local_model_notice(settings) or str(exc), markup=False)
        return
    console.print(f"Lokaal taalmodel klaar: zelftest {process.self_test.seconds:.1f} s.")


if __name__ == "__main__":
    main()

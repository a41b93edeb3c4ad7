"""The web app's entry point: fill an empty store, then serve the page and the REST API
(web/) on settings.host:settings.port, offline and Dutch.

Run with ``ivb serve`` or ``python ui.py``: one command, with the same options. The page
itself is the web package: its layout (web.layout), the chat (web.chat), how every channel
takes a question and the named API `ask` (web.questions), the staff page (web.staff), its
HTML (web.render) and its stylesheet and scripts (web.assets); web.server puts it and the
REST API (web.api) in one FastAPI app served by uvicorn.
"""

import logging
import sys
from typing import Any

import gradio as gr

from assistant.audit import prune_audit
from assistant.service import get_service
from assistant.settings import Settings, get_settings
from assistant.store import StoreLockedError
from web.layout import build_app
from web.server import AppServer, gradio_upload_limit, serve

log = logging.getLogger("ivb.ui")

__all__ = ["cli", "gradio_upload_limit", "launch", "main"]


def launch(demo: gr.Blocks, settings: Settings, **kwargs: Any) -> AppServer:
    """Serve a page made by `build_app`, with the REST API beside it (web.server), offline
    and Dutch, on settings.host:settings.port.

    Args:
        demo: the page.
        settings: host, port and upload limit.
        kwargs: prevent_thread_lock (serve in a thread and return; tests), quiet, and page
            options that replace those of `web.server.page_options`.
    """
    return serve(demo, settings, **kwargs)


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
    try:
        fill_empty_store(settings, service.store, console)
    except StoreLockedError:
        # Replicas that start together over one database: one fills the store, the
        # others serve what is there (and answer from the corpus once it is in).
        console.print("Een ander proces vult de index al; deze server start zonder te wachten.")
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


def cli(args: list[str] | None = None) -> None:
    """``python ui.py [--host H] [--port P] [--store DIR]``: the same command as
    ``ivb serve``, so both take the same options and refuse an unknown one (status 2).

    Args:
        args: the command line after ``ui.py`` (``sys.argv[1:]`` when None).
    """
    from assistant.cli import app

    app(["serve", *(sys.argv[1:] if args is None else args)], prog_name="python ui.py")


if __name__ == "__main__":
    cli()

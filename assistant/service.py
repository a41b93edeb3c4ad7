"""The process-wide assistant: one store, one retriever, models loaded once and kept warm."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from assistant.retrieval import Retriever
from assistant.settings import Settings
from assistant.store import Store
from assistant.store.postgres import database_url


class Service:
    """Everything a request needs, opened once per process.

    Args:
        settings: the settings this service runs with.
        embedder: an embedding model already loaded (loaded lazily when None).
    """

    def __init__(self, settings: Settings, embedder: Any | None = None) -> None:
        self.settings = settings
        self.store = Store(settings)
        self.retriever = Retriever(settings, self.store, embedder)


_services: dict[tuple[Path, str | None, str, str | None], Service] = {}
_lock = threading.Lock()


def get_service(settings: Settings, embedder: Any | None = None) -> Service:
    """The shared service for these settings' store.

    Args:
        settings: the settings whose store the service opens.
        embedder: an embedding model already loaded, used when the service is created.
    """
    url = database_url(settings)
    key = (Path(settings.store_dir).resolve(), settings.chroma_url, settings.collection, url)
    with _lock:
        if key not in _services:
            _services[key] = Service(settings, embedder)
        return _services[key]

"""The answer backends: their names, their labels for the page, and which ones this server
can use now.

The one place backend names are listed: settings (`Backend`), the LLM factory
(assistant.llm), the CLI's --llm help and the web page's choice all read them here. Adding a
backend is a name and a label here, its chat model in assistant.llm, and its settings.
"""

from __future__ import annotations

import logging
from importlib.util import find_spec
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from assistant.settings import Settings

log = logging.getLogger("ivb.backends")

Backend = Literal["local", "openai", "extractive"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)
# What the web page calls each backend (Dutch, for the "Antwoordmodel" choice).
BACKEND_LABELS: dict[Backend, str] = {
    "extractive": "Alleen citaten (zonder taalmodel, snel)",
    "local": "Lokaal taalmodel (op deze server)",
    "openai": "Taalmodel via de ingestelde server",
}


def backend_names() -> str:
    """The backend names as Dutch text: "local, openai of extractive"."""
    return f"{', '.join(BACKENDS[:-1])} of {BACKENDS[-1]}"


def local_model_available(settings: Settings) -> bool:
    """Whether the local backend can answer: llama-cpp-python is installed and the GGUF
    file is there and intact (checked without downloading anything).

    Args:
        settings: llm_gguf and the model cache folder.
    """
    if find_spec("llama_cpp") is None:
        return False
    from assistant.models import ModelFetchError, ModelHashError, llm_model_path

    try:
        return llm_model_path(settings, fetch=False).is_file()
    except (OSError, ModelHashError, ModelFetchError) as exc:  # ModelMissingError is an OSError
        log.info("local model not offered: %s", exc)
        return False


def available_backends(settings: Settings) -> list[Backend]:
    """The answer backends this server can use, the configured one first.

    Args:
        settings: llm_backend, llm_gguf and openai_base_url.
    """
    backends: list[Backend] = ["extractive"]
    if local_model_available(settings):
        backends.append("local")
    if settings.openai_base_url:
        backends.append("openai")
    if settings.llm_backend in backends:
        backends.remove(settings.llm_backend)
        backends.insert(0, settings.llm_backend)
    return backends

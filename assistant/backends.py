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


LOCAL_RUNTIME_MISSING = (
    "De lokale LLM-backend heeft llama-cpp-python met zijn server nodig, en dat is niet "
    "geïnstalleerd: installeer met pip install '.[local-llm]' (bash scripts/bootstrap.sh), "
    "of kies llm_backend 'openai' of 'extractive'."
)
# What the local model's process imports: llama.cpp and its OpenAI-compatible server.
_LOCAL_RUNTIME = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")


def local_runtime_missing() -> str | None:
    """Why the local model's process cannot start here (a package is missing), or None.

    Looks the packages up without importing them: llama.cpp is never loaded in the app's
    own process.
    """
    if any(find_spec(module) is None for module in _LOCAL_RUNTIME):
        return LOCAL_RUNTIME_MISSING
    return None


def local_model_available(settings: Settings) -> bool:
    """Whether the local backend can answer: llama-cpp-python and its server are installed,
    the GGUF file is there and intact (checked without downloading anything), and its
    process, once started, passed its self-test.

    Args:
        settings: llm_gguf and the model cache folder.
    """
    if local_runtime_missing():
        return False
    from assistant.model_fetch import llm_model_path
    from assistant.model_files import ModelFetchError, ModelHashError
    from assistant.model_process import running_local_model

    try:
        if not llm_model_path(settings, fetch=False).is_file():
            return False
    except (OSError, ModelHashError, ModelFetchError) as exc:  # ModelMissingError is an OSError
        log.info("local model not offered: %s", exc)
        return False
    process = running_local_model(settings)
    if process is not None and not process.ready:
        log.info("local model not offered: %s", process.reason)
        return False
    return True


def local_model_notice(settings: Settings) -> str | None:
    """A Dutch line for the page when the configured local model is not answering, or None.

    Args:
        settings: llm_backend and the local model's settings.
    """
    if settings.llm_backend != "local" or local_model_available(settings):
        return None
    from assistant.model_process import running_local_model

    process = running_local_model(settings)
    reason = process.reason if process is not None and process.reason else "niet geïnstalleerd"
    return (
        f"Het lokale taalmodel is niet gestart ({reason}). De assistent antwoordt nu met "
        "letterlijke passages uit de documenten."
    )


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

"""Generator LLM backends behind LangChain's chat-model interface.

One code path: every generator is an OpenAI-compatible endpoint reached through
``langchain_openai.ChatOpenAI``. ``openai`` is any configured endpoint; ``local`` is the
packaged GGUF served by llama-cpp-python in its own supervised process
(``assistant.model_process``), never inside the app; ``extractive`` has no generator (the
caller quotes passages instead), so ``make_chat_model`` gives ``None``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import SecretStr

from assistant.backends import BACKENDS, local_runtime_missing
from assistant.model_fetch import llm_model_path
from assistant.model_files import PACKAGED_LLM, REGISTRY, ModelError
from assistant.settings import Settings

OPENAI_URL_MISSING = (
    "llm_backend 'openai' heeft een openai_base_url nodig: zet IVB_OPENAI_BASE_URL "
    "(bijvoorbeeld http://127.0.0.1:8000/v1) of openai_base_url in ivb.toml, "
    "of kies llm_backend 'local' of 'extractive'."
)


class LLMConfigError(RuntimeError):
    """The configured LLM backend cannot run: a package, a file or a setting is missing."""


# --------------------------------------------------------------------------- local model


class ModelUnavailableError(RuntimeError):
    """The model cannot answer now: its process is starting, down, crashed or stalled.

    ``str(exc)`` is a Dutch reason. The answer pipeline quotes the documents instead.
    """


class ModelFailedError(ModelUnavailableError):
    """A request to the model broke off or stalled (the process died or hung)."""


class LocalModelStartError(ModelError, RuntimeError):
    """The local model's process did not come up (missing or damaged file, illegal
    instruction, too little memory, too slow); ``ivb`` stops with one line and status 3."""


class LocalProcessChat(BaseChatModel):
    """The local GGUF model, served by its supervised process over the OpenAI-compatible API.

    The same client as the ``openai`` backend talks to it; this wrapper only refuses while
    the process is not ready and reports a broken or stalled request to the supervisor
    (which ends and restarts the process). Both raise ``ModelUnavailableError``.
    """

    process: Any  # assistant.model_process.LocalModelProcess
    client: BaseChatModel  # ChatOpenAI pointed at process.base_url
    # A question that finds the process starting or restarting waits this long (s) for it;
    # one that finds it failed (between retries) is answered by quoting at once.
    start_wait_s: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-process"

    def load(self) -> Any:
        """Start the model's process now (not at the first question) and wait for its
        self-test; returns the ready ``LocalModelProcess``.

        Raises:
            LocalModelStartError: The process did not pass its self-test in time.
        """
        self.process.start()
        return _wait_ready(self.process, self.start_wait_s or self.process.startup_timeout_s)

    def _ready_client(self) -> BaseChatModel:
        if not self.process.ready and self.start_wait_s > 0:
            self.process.wait(self.start_wait_s)
        if not self.process.ready:
            raise ModelUnavailableError(
                self.process.reason or "het lokale taalmodel wordt nog gestart"
            )
        return self.client

    def _failed(self, exc: Exception) -> ModelFailedError:
        why = " ".join(str(exc).split())[:200] or type(exc).__name__
        self.process.report_failure(why)
        return ModelFailedError(f"het lokale taalmodel viel uit ({why})")

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        client = self._ready_client()
        try:
            # One plain request (with its usage figures), not a stream gathered up.
            message = client.invoke(messages, stop=stop, stream=False, **kwargs)
        except Exception as exc:
            raise self._failed(exc) from exc
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        client = self._ready_client()
        try:
            for chunk in client.stream(messages, stop=stop, **kwargs):
                yield ChatGenerationChunk(message=chunk)
        except Exception as exc:
            raise self._failed(exc) from exc


def start_local_model(settings: Settings, wait_s: float | None = None) -> Any:
    """Start (or find) the supervised local model process and wait until it is ready.

    Args:
        settings: llm_gguf, llm_context, llm_threads, llm_startup_timeout_s.
        wait_s: How long to wait (s); ``settings.llm_startup_timeout_s`` plus a margin
            when None.

    Returns:
        The ready ``LocalModelProcess``.

    Raises:
        LLMConfigError: llama-cpp-python or its server packages are missing.
        assistant.model_files.ModelError: The GGUF is missing or damaged.
        LocalModelStartError: The process did not pass its self-test in time.
    """
    from assistant.model_process import local_model_process

    missing = local_runtime_missing()
    if missing:
        raise LLMConfigError(missing)
    process = local_model_process(settings)
    wait_s = settings.llm_startup_timeout_s + 15 if wait_s is None else wait_s
    return _wait_ready(process, wait_s, ". Kies --llm extractive, of zie `ivb models --verify`.")


def _wait_ready(process: Any, wait_s: float, hint: str = "") -> Any:
    """Wait up to ``wait_s`` seconds for the process's self-test; return the process.

    Raises:
        LocalModelStartError: not ready in time (its reason, then ``hint``).
    """
    if not process.wait(wait_s):
        reason = process.reason or "geen antwoord"
        raise LocalModelStartError(f"het lokale taalmodel start niet: {reason}{hint}")
    return process


# --------------------------------------------------------------------------- factory


def make_chat_model(settings: Settings, backend: str | None = None) -> BaseChatModel | None:
    """The chat model for a backend, ready to ``invoke`` or ``stream``.

    Args:
        settings: Model, thread, context and endpoint settings.
        backend: ``local``, ``openai`` or ``extractive``; ``settings.llm_backend`` when None.

    Returns:
        A LangChain chat model, or None for ``extractive`` (no generator).

    Raises:
        LLMConfigError: llama-cpp-python is missing, the GGUF file does not exist, no
            ``openai_base_url`` is set, or the backend name is unknown.
        assistant.model_files.ModelHashError: The packaged GGUF differs from its upstream hash.
    """
    backend = _backend(settings, backend)
    if backend == "extractive":
        return None
    if backend == "openai":
        if not settings.openai_base_url:
            raise LLMConfigError(OPENAI_URL_MISSING)
        return _openai_client(
            settings, settings.openai_base_url, settings.openai_model, settings.openai_api_key
        )
    from assistant.model_process import MODEL_ALIAS, local_model_process

    missing = local_runtime_missing()
    if missing:
        raise LLMConfigError(missing)
    path = llm_model_path(settings, fetch=False)
    if not path.is_file():
        raise LLMConfigError(
            f"GGUF-bestand {path} bestaat niet: zet llm_gguf op een bestaand *.gguf-bestand, "
            f"of op '{PACKAGED_LLM}' en draai `ivb models --fetch`."
        )
    process = local_model_process(settings)
    return LocalProcessChat(
        process=process,
        client=_openai_client(settings, process.base_url, MODEL_ALIAS, None),
        start_wait_s=settings.llm_startup_timeout_s,
    )


def model_name(settings: Settings, backend: str | None = None) -> str:
    """A short name of the generator for the audit log; fetches and loads nothing.

    Args:
        settings: The configuration in use.
        backend: As for ``make_chat_model``; ``settings.llm_backend`` when None.
    """
    backend = _backend(settings, backend)
    if backend == "extractive":
        return "extractive"
    if backend == "openai":
        return f"openai:{settings.openai_model}@{settings.openai_base_url or '-'}"
    packaged = REGISTRY.get(settings.llm_gguf)
    name = packaged.target if packaged is not None else Path(settings.llm_gguf).name
    return f"llama.cpp:{name}"


def check_backend(settings: Settings, backend: str | None = None) -> str:
    """The backend's name when these settings can use it; loads and starts nothing.

    Args:
        settings: The configuration in use.
        backend: As for ``make_chat_model``; ``settings.llm_backend`` when None.

    Raises:
        LLMConfigError: the name is unknown, or ``openai`` has no ``openai_base_url``.
    """
    backend = _backend(settings, backend)
    if backend == "openai" and not settings.openai_base_url:
        raise LLMConfigError(OPENAI_URL_MISSING)
    return backend


def _backend(settings: Settings, backend: str | None) -> str:
    backend = backend or settings.llm_backend
    if backend not in BACKENDS:
        raise LLMConfigError(f"Onbekende llm_backend {backend!r}: kies uit {', '.join(BACKENDS)}.")
    return backend


def _openai_client(
    settings: Settings, base_url: str, model: str, api_key: SecretStr | None
) -> BaseChatModel:
    """The one client for every generator: a remote endpoint or the local model's process."""
    import httpx
    from langchain_openai import ChatOpenAI

    # Only the key configured for this app is sent: an OPENAI_API_KEY from the environment
    # must not leak to whatever server openai_base_url names. Keyless local servers get a dummy.
    return ChatOpenAI(
        base_url=base_url,
        model=model,
        api_key=api_key or SecretStr("no-key"),
        temperature=0,
        streaming=True,
        # A model that sends nothing for llm_stall_timeout_s has stalled; no retry: the
        # pipeline quotes the documents instead of asking again.
        timeout=httpx.Timeout(settings.llm_stall_timeout_s, connect=5.0),
        max_retries=0,
        # ChatOpenAI's max_tokens goes out as max_completion_tokens, which llama.cpp's and
        # other compatible servers ignore; the classic field is understood by all of them.
        extra_body={"max_tokens": settings.llm_max_tokens},
    )

"""Generator LLM backends behind LangChain's chat-model interface.

``local`` runs a GGUF file in-process with llama-cpp-python, ``openai`` talks to any
OpenAI-compatible endpoint through ``langchain_openai.ChatOpenAI``, and ``extractive`` has no
generator at all (the caller quotes passages instead), so ``make_chat_model`` gives ``None``.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    convert_to_openai_messages,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import SecretStr

from assistant.backends import BACKENDS
from assistant.models import PACKAGED_LLM, REGISTRY, llm_model_path
from assistant.settings import Settings

if TYPE_CHECKING:
    from llama_cpp import Llama

LLAMA_CPP_MISSING = (
    "De lokale LLM-backend heeft llama-cpp-python nodig, en dat is niet geïnstalleerd: "
    "installeer met pip install '.[local-llm]', of kies llm_backend 'openai' of 'extractive'."
)
OPENAI_URL_MISSING = (
    "llm_backend 'openai' heeft een openai_base_url nodig: zet IVB_OPENAI_BASE_URL "
    "(bijvoorbeeld http://127.0.0.1:8000/v1) of openai_base_url in ivb.toml, "
    "of kies llm_backend 'local' of 'extractive'."
)


class LLMConfigError(RuntimeError):
    """The configured LLM backend cannot run: a package, a file or a setting is missing."""


# --------------------------------------------------------------------------- llama.cpp


@dataclass
class _LoadedLlama:
    llama: Llama
    lock: threading.Lock  # llama.cpp contexts are not thread-safe: one generation at a time


_LOADED: dict[tuple[str, int, int], _LoadedLlama] = {}
_LOAD_LOCK = threading.Lock()


@atexit.register
def _close_models() -> None:
    """Free loaded models before the interpreter tears down the modules llama-cpp-python
    needs for that (otherwise its finaliser prints a TypeError at exit)."""
    for loaded in list(_LOADED.values()):
        with contextlib.suppress(Exception):
            loaded.llama.close()
    _LOADED.clear()


def _import_llama() -> type[Llama]:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise LLMConfigError(LLAMA_CPP_MISSING) from exc
    return Llama


def _load_llama(model_path: str, n_ctx: int, n_threads: int) -> _LoadedLlama:
    """Load a GGUF once per process for each (path, context, threads) and keep it."""
    key = (str(Path(model_path).resolve()), n_ctx, n_threads)
    with _LOAD_LOCK:
        loaded = _LOADED.get(key)
        if loaded is None:
            llama_cls = _import_llama()
            if not Path(model_path).is_file():
                raise LLMConfigError(
                    f"GGUF-bestand {model_path} bestaat niet: zet llm_gguf op een bestaand "
                    f"*.gguf-bestand, of op '{PACKAGED_LLM}' en draai `ivb models --fetch`."
                )
            llama = llama_cls(
                model_path=model_path,
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                verbose=False,
            )
            loaded = _LOADED[key] = _LoadedLlama(llama, threading.Lock())
    return loaded


class LlamaCppChat(BaseChatModel):
    """A GGUF model run in-process by llama-cpp-python, with the chat template from the GGUF.

    The model is loaded on first use and shared by every instance with the same path,
    context size and thread count. Generations are serialised by a lock; do not call the
    model again from the thread that is still consuming one of its streams.
    """

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 2
    max_tokens: int = 384
    temperature: float = 0.0  # 0 is greedy decoding in llama.cpp

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "n_ctx": self.n_ctx,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    def load(self) -> Llama:
        """Load the model now instead of at the first question, and return it."""
        return _load_llama(self.model_path, self.n_ctx, self.n_threads).llama

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "messages": convert_to_openai_messages(messages),
            "temperature": kwargs.get("temperature", self.temperature),
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "stop": stop or None,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        loaded = _load_llama(self.model_path, self.n_ctx, self.n_threads)
        with loaded.lock:
            response = loaded.llama.create_chat_completion(**self._request(messages, stop, kwargs))
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            usage_metadata=UsageMetadata(
                input_tokens=usage.get("prompt_tokens", 0),
                output_tokens=usage.get("completion_tokens", 0),
                total_tokens=usage.get("total_tokens", 0),
            ),
            response_metadata={
                "model_name": Path(self.model_path).name,
                "finish_reason": choice.get("finish_reason"),
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # BaseChatModel reports each chunk to the callbacks itself, so this only yields.
        loaded = _load_llama(self.model_path, self.n_ctx, self.n_threads)
        with loaded.lock:
            request = self._request(messages, stop, kwargs)
            for part in loaded.llama.create_chat_completion(**request, stream=True):
                choice = part["choices"][0]
                text = choice["delta"].get("content")
                if text:
                    yield ChatGenerationChunk(message=AIMessageChunk(content=text))
                if choice.get("finish_reason"):
                    yield ChatGenerationChunk(
                        message=AIMessageChunk(content="", chunk_position="last"),
                        generation_info={
                            "model_name": Path(self.model_path).name,
                            "finish_reason": choice["finish_reason"],
                        },
                    )


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
        assistant.models.ModelHashError: The packaged GGUF differs from its upstream hash.
    """
    backend = _backend(settings, backend)
    if backend == "extractive":
        return None
    if backend == "openai":
        return _make_openai(settings)
    _import_llama()  # fail now with the install hint, not at the first question
    path = llm_model_path(settings)
    if not path.is_file():
        raise LLMConfigError(
            f"GGUF-bestand {path} bestaat niet: zet llm_gguf op een bestaand *.gguf-bestand, "
            f"of op '{PACKAGED_LLM}' en draai `ivb models --fetch`."
        )
    return LlamaCppChat(
        model_path=str(path),
        n_ctx=settings.llm_context,
        n_threads=settings.llm_threads,
        max_tokens=settings.llm_max_tokens,
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


def _backend(settings: Settings, backend: str | None) -> str:
    backend = backend or settings.llm_backend
    if backend not in BACKENDS:
        raise LLMConfigError(f"Onbekende llm_backend {backend!r}: kies uit {', '.join(BACKENDS)}.")
    return backend


def _make_openai(settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    if not settings.openai_base_url:
        raise LLMConfigError(OPENAI_URL_MISSING)
    # Only the key configured for this app is sent: an OPENAI_API_KEY from the environment
    # must not leak to whatever server openai_base_url names. Keyless local servers get a dummy.
    api_key = settings.openai_api_key or SecretStr("no-key")
    return ChatOpenAI(
        base_url=settings.openai_base_url,
        model=settings.openai_model,
        api_key=api_key,
        temperature=0,
        streaming=True,
        # ChatOpenAI's max_tokens goes out as max_completion_tokens, which llama.cpp's and
        # other compatible servers ignore; the classic field is understood by all of them.
        extra_body={"max_tokens": settings.llm_max_tokens},
    )

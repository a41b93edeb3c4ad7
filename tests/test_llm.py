"""LLM backends: the real packaged GGUF in its supervised process, and ChatOpenAI against a
real local server.

Both run llama-cpp-python's own OpenAI-compatible server serving the same GGUF on a loopback
port (``assistant.model_process``; ``tests/openai_server.py`` for the ``openai`` backend), so
every backend is tested over real HTTP + SSE.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.language_models.chat_models import BaseChatModel

from assistant import llm, model_fetch
from assistant.model_process import stop_local_model
from assistant.settings import Settings

needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python is not installed (pip install '.[local-llm]')",
)

PASSAGE = (
    "Bron [1]: In 2024 telde de gemeente Urk 21.882 inwoners. "
    "Het veiligheidsbeleid loopt van 2024 tot en met 2027."
)
QUESTION = [
    ("system", "Je beantwoordt vragen in het Nederlands, kort, alleen met de gegeven bron."),
    ("human", f"{PASSAGE}\n\nVraag: Hoeveel inwoners telde Urk in 2024?"),
]


@pytest.fixture(scope="module")
def gguf() -> Path:
    return model_fetch.llm_model_path(Settings())


@pytest.fixture(scope="module")
def local_chat(gguf: Path) -> Iterator[BaseChatModel]:
    settings = Settings(llm_backend="local")
    process = llm.start_local_model(settings)
    chat = llm.make_chat_model(settings)
    assert isinstance(chat, llm.LocalProcessChat)
    assert chat.process is process and process.model_path == gguf.resolve()
    yield chat
    stop_local_model(settings)


@pytest.fixture(scope="module")
def openai_base_url(openai_server_url: str) -> str:
    """The session's server (tests/conftest.py ``openai_server_url``)."""
    return openai_server_url


@pytest.mark.llm
@needs_llama
def test_local_model_answers_in_dutch(local_chat: BaseChatModel) -> None:
    answer = local_chat.invoke(QUESTION)
    assert "21.882" in answer.content or "21882" in answer.content
    assert answer.usage_metadata["output_tokens"] > 0
    assert answer.response_metadata["finish_reason"] == "stop"


@pytest.mark.llm
@needs_llama
def test_local_model_streams_tokens(local_chat: BaseChatModel) -> None:
    chunks = [c.content for c in local_chat.stream(QUESTION)]
    assert len([c for c in chunks if c]) > 1
    streamed = "".join(chunks)
    assert "21.882" in streamed or "21882" in streamed
    assert streamed == local_chat.invoke(QUESTION).content  # greedy: the same text both ways


@pytest.mark.llm
@needs_llama
def test_local_model_is_loaded_once_and_serialises_threads(local_chat: BaseChatModel) -> None:
    other = llm.make_chat_model(Settings(llm_backend="local"))
    assert other.process is local_chat.process and other.process.starts == 1

    answers: list[str] = []
    threads = [
        threading.Thread(target=lambda: answers.append(other.invoke(QUESTION).content))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 2 and answers[0] == answers[1]
    assert "21.882" in answers[0] or "21882" in answers[0]


@pytest.mark.llm
@needs_llama
def test_openai_backend_streams_from_a_real_server(openai_base_url: str) -> None:
    settings = Settings(
        llm_backend="openai", openai_base_url=openai_base_url, openai_model="ivb-test"
    )
    chat = llm.make_chat_model(settings)
    chunks = [c.content for c in chat.stream(QUESTION)]
    assert len([c for c in chunks if c]) > 1
    streamed = "".join(chunks)
    assert "21.882" in streamed or "21882" in streamed
    assert llm.model_name(settings) == f"openai:ivb-test@{openai_base_url}"


@pytest.mark.llm
@needs_llama
def test_openai_backend_sends_the_token_budget(openai_base_url: str) -> None:
    settings = Settings(
        llm_backend="openai",
        openai_base_url=openai_base_url,
        openai_model="ivb-test",
        llm_max_tokens=4,
    )
    answer = llm.make_chat_model(settings).invoke([("human", "Tel van 1 tot 30, met komma's.")])
    assert "30" not in answer.content
    assert len(answer.content) < 20


def test_extractive_backend_has_no_model() -> None:
    settings = Settings(llm_backend="extractive")
    assert llm.make_chat_model(settings) is None
    assert llm.model_name(settings) == "extractive"


def test_openai_backend_without_url_says_what_to_set() -> None:
    with pytest.raises(llm.LLMConfigError, match="openai_base_url"):
        llm.make_chat_model(Settings(openai_base_url=None), backend="openai")


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(llm.LLMConfigError, match="Onbekende llm_backend"):
        llm.make_chat_model(Settings(), backend="gpt")


def test_missing_llama_cpp_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulates an install without the extra: a None entry makes `import llama_cpp` fail.
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(llm.LLMConfigError, match=r"pip install '\.\[local-llm\]'"):
        llm.make_chat_model(Settings(), backend="local")


def test_missing_user_gguf_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "weg.gguf"
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed; the install hint comes first")
    with pytest.raises(llm.LLMConfigError, match=r"weg\.gguf"):
        llm.make_chat_model(Settings(llm_gguf=str(missing)), backend="local")


def test_model_name_for_the_local_backend_loads_nothing(tmp_path: Path) -> None:
    assert llm.model_name(Settings(), "local") == (
        "llama.cpp:qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    )
    own = Settings(llm_gguf=str(tmp_path / "eigen.gguf"), model_cache_dir=tmp_path / "c")
    assert llm.model_name(own, "local") == "llama.cpp:eigen.gguf"
    assert not (tmp_path / "c").exists()

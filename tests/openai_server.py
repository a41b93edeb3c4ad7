"""A real OpenAI-compatible server for tests: llama-cpp-python's own, on a free loopback port.

Use it from a fixture::

    @pytest.fixture(scope="module")
    def openai_base_url(gguf_path):
        with running_openai_server(gguf_path) as url:
            yield url

It is the app's own supervised model process (``assistant.model_process``), so the tests
start the server exactly as ``ivb serve`` does. Needs the ``server`` extras of
llama-cpp-python (fastapi, uvicorn, sse-starlette, starlette-context, pydantic-settings).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from assistant.llm import local_runtime_missing
from assistant.model_process import LocalModelProcess


def server_extras_missing() -> str | None:
    """Why ``llama_cpp.server`` cannot start here, or None when it can."""
    return local_runtime_missing()


@contextlib.contextmanager
def running_openai_server(
    model_path: Path,
    n_ctx: int = 2048,
    n_threads: int = 2,
    model_alias: str = "ivb-test",
    startup_timeout_s: float = 180.0,
) -> Iterator[str]:
    """Start the model's server and yield its base URL (``http://127.0.0.1:N/v1``).

    Args:
        model_path: The GGUF file to serve.
        n_ctx: Context size of the served model.
        n_threads: CPU threads for generation.
        model_alias: The model name the server answers to and lists in /v1/models.
        startup_timeout_s: How long to wait until the server passed its self-test.

    Raises:
        RuntimeError: The server did not come up; the message says why.
    """
    process = LocalModelProcess(
        model_path, n_ctx=n_ctx, n_threads=n_threads, startup_timeout_s=startup_timeout_s,
        alias=model_alias,
    )  # fmt: skip
    process.start()
    try:
        if not process.wait(startup_timeout_s + 15):
            raise RuntimeError(f"llama_cpp.server did not come up: {process.reason}")
        yield process.base_url
    finally:
        process.stop()

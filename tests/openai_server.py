"""A real OpenAI-compatible server for tests: llama-cpp-python's own, on a free loopback port.

Use it from a fixture::

    @pytest.fixture(scope="module")
    def openai_base_url(gguf_path):
        with running_openai_server(gguf_path) as url:
            yield url

Needs the ``server`` extras of llama-cpp-python (fastapi, uvicorn, sse-starlette,
starlette-context, pydantic-settings, PyYAML). The server's output goes to a log file whose
tail is put into the error when it does not come up.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_extras_missing() -> str | None:
    """Why ``llama_cpp.server`` cannot start here, or None when it can."""
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError as exc:
        return f"llama-cpp-python server extras are not installed ({exc})"
    return None


@contextlib.contextmanager
def running_openai_server(
    model_path: Path,
    n_ctx: int = 2048,
    n_threads: int = 2,
    model_alias: str = "ivb-test",
    startup_timeout_s: float = 180.0,
) -> Iterator[str]:
    """Start ``python -m llama_cpp.server`` and yield its base URL (``http://127.0.0.1:N/v1``).

    Args:
        model_path: The GGUF file to serve.
        n_ctx: Context size of the served model.
        n_threads: CPU threads for generation.
        model_alias: The model name the server answers to and lists in /v1/models.
        startup_timeout_s: How long to wait until /v1/models answers.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--model_alias",
        model_alias,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(n_threads),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "DO_NOT_TRACK": "1"}
    with tempfile.TemporaryFile(mode="w+b") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            _wait_ready(proc, base_url, model_alias, startup_timeout_s, log)
            yield base_url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def _wait_ready(
    proc: subprocess.Popen[bytes], base_url: str, alias: str, timeout_s: float, log: IO[bytes]
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                listed = json.load(response)
            if any(m.get("id") == alias for m in listed.get("data", [])):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(0.25)
    raise TimeoutError(
        f"llama_cpp.server did not answer on {base_url} in {timeout_s} s:\n{_tail(log)}"
    )


def _tail(log: IO[bytes], size: int = 4000) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode("utf-8", errors="replace")[-size:]

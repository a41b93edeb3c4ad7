"""Real servers started by tests on loopback ports: Chroma (`chroma run`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def server_process(
    cmd: list[str],
    log_path: Path,
    ready_url: str,
    timeout_s: float,
    stop_s: float = 10,
    **popen,
) -> Iterator[subprocess.Popen]:
    """A child process that serves HTTP: started with its output in log_path, yielded once
    ready_url answers, terminated (killed after stop_s) on exit."""  # fmt: skip
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **popen)
        try:
            wait_http(ready_url, timeout_s, proc)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(stop_s)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """A real Chroma server (`chroma run`, shipped with chromadb) on a free loopback port."""
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    assert exe, "the chroma CLI ships with chromadb"
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    cmd = [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    ready = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    with server_process(cmd, path.parent / f"chroma-{port}.log", ready, 60, env=env):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def running_app(settings, embedder) -> Iterator[tuple[str, object]]:
    """The real web app on settings.host:port over a store seeded from corpus/.

    Yields the page URL and the app's WebApp (``demo.ivb_app``).
    """
    import ui
    from assistant.service import get_service
    from assistant.settings import REPO_ROOT
    from ingest.pipeline import ingest_paths
    from web.layout import build_app

    report = ingest_paths([REPO_ROOT / "corpus"], settings, embedder=embedder)
    assert report.ok, report.failed
    demo = build_app(settings, get_service(settings, embedder))
    ui.launch(demo, settings, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{settings.port}/", demo.ivb_app
    finally:
        demo.close()

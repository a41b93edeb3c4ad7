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


# Settings that only decide how the app serves, never what an ingest writes: stores
# built with settings that differ in these alone are the same store.
_SERVING_ONLY = frozenset({
    "store_dir", "host", "port", "staff_username", "staff_password_hash", "session_ttl_s",
    "login_max_failures", "login_window_s", "llm_backend", "llm_max_tokens",
    "openai_base_url", "openai_model", "openai_api_key",
})  # fmt: skip
_SEEDED: dict[str, Path] = {}


def seed_store(settings, embedder) -> None:
    """Fill the empty store of ``settings`` with corpus/ (the seed PDF).

    corpus/ is ingested for real once per set of index settings, into a store of its
    own; each store after that is a copy of its folder, which costs far less than parsing
    and embedding the same PDF again. A store in PostgreSQL or on a Chroma server, or a
    folder that already holds something, is ingested instead.
    """
    import atexit
    import tempfile

    from assistant.settings import REPO_ROOT
    from assistant.store import Store
    from ingest.pipeline import ingest_paths

    corpus = [REPO_ROOT / "corpus"]
    target = Path(settings.store_dir)
    if settings.database_url or settings.chroma_url or (target.exists() and any(target.iterdir())):
        report = ingest_paths(corpus, settings, embedder=embedder)
        assert report.ok, report.failed
        return
    key = settings.model_dump_json(exclude=set(_SERVING_ONLY))
    if key not in _SEEDED:
        folder = Path(tempfile.mkdtemp(prefix="ivb-seeded-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = settings.model_copy(update={"store_dir": folder / "store"})
        store = Store(template)
        report = ingest_paths(corpus, template, store=store, embedder=embedder)
        store.close()
        assert report.ok, report.failed
        _SEEDED[key] = template.store_dir
    shutil.copytree(_SEEDED[key], target, dirs_exist_ok=True)


@contextlib.contextmanager
def running_app(settings, embedder) -> Iterator[tuple[str, object]]:
    """The real web app on settings.host:port over a store seeded from corpus/
    (``seed_store``).

    Yields the page URL and the app's WebApp (``demo.ivb_app``).
    """
    import ui
    from assistant.service import get_service
    from web.layout import build_app

    seed_store(settings, embedder)
    demo = build_app(settings, get_service(settings, embedder))
    ui.launch(demo, settings, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{settings.port}/", demo.ivb_app
    finally:
        demo.close()

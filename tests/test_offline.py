"""No data leaves the machine: ingestion and chat turns run inside a network namespace
with no network at all (`unshare -n`). Any library that phones home, or any code that
reaches for a model hub, makes these commands fail or hang."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import CORPUS, THEMES_PAGES


def _unshare_available() -> str | None:
    if not shutil.which("unshare"):
        return "unshare is not installed"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    return None if probe.returncode == 0 else f"unshare -n is not permitted: {probe.stderr}"


def _offline(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    # A new network namespace has no network at all, its loopback down too; a machine
    # without network still has loopback, and the local model's process is reached there.
    up = 'ip link set lo up 2>/dev/null; exec "$0" "$@"'
    return subprocess.run(
        ["unshare", "-n", "sh", "-c", up, sys.executable, "-m", "assistant", *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_ingest_and_chat_without_any_network(tmp_path):
    reason = _unshare_available()
    if reason:
        pytest.skip(reason)
    store = str(tmp_path / "store")
    ingest = _offline("ingest", str(CORPUS), "--store", store, "--json")
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    assert json.loads(ingest.stdout)["chunks_embedded"] > 0
    question = "Welke thema's hebben de drie gemeenten samen geprioriteerd?"
    ask = _offline("ask", question, "--llm", "extractive", "--store", store, "--json")
    assert ask.returncode == 0, ask.stderr[-3000:]
    answer = json.loads(ask.stdout)
    assert not answer["refused"] and any(c["page"] in THEMES_PAGES for c in answer["citations"])
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return
    local = _offline("ask", question, "--llm", "local", "--store", store, "--json")
    assert local.returncode == 0, local.stderr[-3000:]
    assert any(c["page"] in THEMES_PAGES for c in json.loads(local.stdout)["citations"])

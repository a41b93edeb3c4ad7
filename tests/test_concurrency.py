"""Ingest while serving: a document is replaced again and again while chat sessions run.
Every answer cites either the old version or the new one, never a mix, and no request
fails."""

from __future__ import annotations

import threading
import time

import pytest

from assistant.answer import AnswerPipeline
from assistant.service import Service
from ingest.pipeline import ingest_paths

pytestmark = pytest.mark.both_stores

V1 = """# Verslag themasessie cameratoezicht Urk

Het cameratoezicht op het haventerrein van Urk loopt door tot en met 2025.
De camera's worden bekeken door de meldkamer van de politie.
"""
V2 = V1.replace("2025", "2027").replace("meldkamer van de politie", "gemeentelijke toezichthouders")
QUESTION = "Tot wanneer loopt het cameratoezicht op het haventerrein van Urk?"


def test_answers_cite_one_version_while_it_is_replaced(settings, embedder, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    doc = notes / "cameratoezicht.md"
    doc.write_text(V1, encoding="utf-8")
    assert ingest_paths([notes], settings, embedder=embedder).ok
    service = Service(settings, embedder)
    pipeline = AnswerPipeline(service)

    answers, errors = [], []
    stop = threading.Event()

    def chat() -> None:
        while not stop.is_set():
            try:
                answers.append(pipeline.ask(QUESTION, backend="extractive"))
            except Exception as exc:
                errors.append(repr(exc))

    workers = [threading.Thread(target=chat) for _ in range(3)]
    for w in workers:
        w.start()
    versions = [V2, V1, V2, V1]
    for text in versions:
        time.sleep(0.5)
        doc.write_text(text, encoding="utf-8")
        report = ingest_paths([notes], settings, store=service.store, embedder=embedder)
        assert report.ok and report.updated == ["cameratoezicht"]
    time.sleep(0.5)
    stop.set()
    for w in workers:
        w.join(60)

    assert errors == []
    assert len(answers) >= 8
    for answer in answers:
        assert not answer.refused, answer.text
        cited = {c.chunk_id.split(":")[1] for c in answer.citations}
        assert len(cited) == 1, cited  # one document version per answer
        text = answer.text
        assert ("2025" in text) != ("2027" in text), text
    assert service.store.check()["consistent"]

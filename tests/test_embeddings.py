"""The embedding model's sentence cache (the real EmbeddingGemma model)."""

from __future__ import annotations

import numpy as np


def test_sentence_vectors_are_remembered_and_equal_fresh_ones(embedder, monkeypatch):
    texts = [
        "De raad vergadert op 5 oktober in het gemeentehuis van Dronten.",
        "Urk reserveert 60.000 euro per jaar voor een flexibele inzet van boa's.",
        "De raad vergadert op 5 oktober in het gemeentehuis van Dronten.",
    ]
    assert embedder.precision == "fp32"  # the shipped default: vectors do not depend on batch
    first = embedder.encode_sentences(texts)
    assert first.shape == (3, embedder.dimension) and first.dtype == np.float32
    assert np.allclose(first, embedder.encode_documents(texts), atol=1e-5)
    assert np.array_equal(first[0], first[2])

    embedded: list[list[str]] = []
    real = embedder.encode_documents
    monkeypatch.setattr(embedder, "encode_documents", lambda t: embedded.append(t) or real(t))
    again = embedder.encode_sentences([texts[1], "Een nieuwe zin over cameratoezicht."])
    assert embedded == [["Een nieuwe zin over cameratoezicht."]]  # only the unseen one
    assert np.array_equal(again[0], first[1])
    assert embedder.encode_sentences([]).shape == (0, embedder.dimension)

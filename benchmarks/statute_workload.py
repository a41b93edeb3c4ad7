"""The statute workload of the latency benchmarks: questions, and a store of any size.

The texts are real statute chunks (nl-wetten-2017, chunked as ingest chunks them; past
the end of the corpus the statutes are used again under new document ids), and the
vectors are SYNTHETIC: a sample of chunks is embedded by the real model and every other
chunk gets a copy of one of those vectors with Gaussian noise (cosine ≈ 0.85 to the
original). Chunks are written with `Store.stage` + `Store.commit`, as ingest writes them.
The BM25 side therefore sees real text; the dense side sees realistic vectors but not
meaningful neighbours. Used by query_latency.py and postgres_store.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from assistant.types import Chunk, Document
from benchmarks.common import STATUTE_QUESTIONS, Timer, documents_with_chunks, statute_sample

NOISE = 0.6  # norm of the noise added to a sampled vector before renormalising
EXTRA_QUESTIONS = [
    "Wanneer mag de burgemeester een noodverordening uitvaardigen?",
    "Welke bevoegdheden heeft de gemeenteraad bij het vaststellen van de begroting?",
    "Wat zijn de taken van de veiligheidsregio bij rampen en crises?",
    "Hoe lang mag iemand in verzekering worden gesteld?",
    "Wie is bevoegd om een vergunning in te trekken na een Bibob-onderzoek?",
    "Welke regels gelden voor het openbaar maken van documenten door een bestuursorgaan?",
    "Wat is de bezwaartermijn tegen een besluit van een bestuursorgaan?",
    "Mag de politie identiteitsbewijzen vorderen en wanneer?",
]


def questions(n: int) -> list[str]:
    """n Dutch questions about statutes (the wetten-burgemeester set plus a few more)."""
    base = (
        [
            json.loads(line)["question"]
            for line in STATUTE_QUESTIONS.read_text().splitlines()
            if line.strip()
        ]
        if STATUTE_QUESTIONS.is_file()
        else []
    )
    base += EXTRA_QUESTIONS
    return [base[i % len(base)] for i in range(n)]


# -- filling a store with real texts and synthetic vectors ---------------------------------------
def chunk_stream(settings: Any, seed: int) -> Iterator[tuple[Document, list[Chunk]]]:
    """Statutes in a seeded order, chunked as ingest does; then again as copies with new ids."""
    paths = statute_sample(10_000, seed=seed)
    for copy in range(1_000):
        for path in paths:
            for doc, chunks in documents_with_chunks([path], settings):
                if not chunks:
                    continue
                if copy:
                    doc_id = f"{doc.doc_id}-copy{copy}"
                    meta = doc.meta.model_copy(update={"doc_id": doc_id})
                    doc = doc.model_copy(update={"meta": meta})
                    chunks = [
                        c.model_copy(
                            update={"doc_id": doc_id, "id": f"{doc_id}:{c.id.split(':', 1)[1]}"}
                        )
                        for c in chunks
                    ]
                yield doc, chunks


class SyntheticVectors:
    """Real vectors for the first `sample` chunks; noisy copies of them for the rest."""

    def __init__(self, embedder: Any, sample_texts: list[str], seed: int) -> None:
        self.real = embedder.encode_documents(sample_texts)
        self.rng = np.random.default_rng(seed)
        self.issued = 0

    def next(self, n: int) -> np.ndarray:
        idx = np.arange(self.issued, self.issued + n)
        self.issued += n
        out = self.real[idx % len(self.real)].copy()
        copies = idx >= len(self.real)
        if copies.any():
            dim = out.shape[1]
            noise = self.rng.normal(0.0, NOISE / np.sqrt(dim), size=(int(copies.sum()), dim))
            out[copies] += noise.astype(np.float32)
            out[copies] /= np.linalg.norm(out[copies], axis=1, keepdims=True)
        return out


class StoreFiller:
    """Grows one store to each requested size, document by document."""

    def __init__(self, store: Any, settings: Any, embedder: Any, sample: int, seed: int) -> None:
        from assistant.embeddings import embedding_text

        self.store = store
        self.stream = chunk_stream(settings, seed)
        self.pending: list[tuple[Document, list[Chunk]]] = []
        texts: list[str] = []
        while len(texts) < sample:  # the first chunks of the stream get real vectors
            doc, chunks = next(self.stream)
            self.pending.append((doc, chunks))
            texts += [embedding_text(c.title, c.section, c.text) for c in chunks]
        with Timer() as t:
            self.vectors = SyntheticVectors(embedder, texts[:sample], seed)
        self.sample_embed_s = t.seconds
        self.count = 0
        self.documents = 0
        self.fill_s = 0.0

    def _next_doc(self) -> tuple[Document, list[Chunk]]:
        return self.pending.pop(0) if self.pending else next(self.stream)

    def grow_to(self, size: int) -> None:
        with Timer() as t, self.store.writer():
            while self.count < size:
                doc, chunks = self._next_doc()
                chunks = chunks[: size - self.count]
                self.store.stage(chunks, self.vectors.next(len(chunks)))
                self.store.commit(doc, chunks[0].doc_hash, len(chunks))
                self.count += len(chunks)
                self.documents += 1
        self.fill_s += t.seconds

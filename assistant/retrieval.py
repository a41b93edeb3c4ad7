"""Hybrid retrieval: dense (embedding model) + BM25 (Dutch stems), fused by reciprocal rank.

Every passage also gets its cosine similarity to the question, whichever list found it:
that absolute number is what the refusal threshold is calibrated on.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.analysis import article_references
from assistant.question import Question
from assistant.settings import Settings
from assistant.store import Filters, Store
from assistant.types import Chunk, Passage

Mode = Literal["hybrid", "dense", "keyword"]
RRF_K = 60
SUPERSEDED_PENALTY = 0.5
CONTEXT_CHARS = 300
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="retrieve")


class Retriever:
    """Hybrid search over a store.

    Args:
        settings: candidates per list, top_k, reranker.
        store: the open store.
        embedder: the embedding model (loaded lazily from settings when None).
    """

    def __init__(self, settings: Settings, store: Store, embedder: Any | None = None) -> None:
        self.settings = settings
        self.store = store
        self._embedder = embedder
        self._reranker: Any | None = None
        self.last_timings: dict[str, float] = {}

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from assistant.embeddings import get_embedder

            self._embedder = get_embedder(self.settings)
        return self._embedder

    @property
    def embedder_loaded(self) -> bool:
        """Whether the embedding model is in memory (reading it does not load it)."""
        return self._embedder is not None

    def search(
        self,
        query: str | Question,
        k: int | None = None,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
    ) -> list[Passage]:
        """The k best passages for a question.

        Args:
            query: the (standalone) question, as text or as read by `Question.read`.
            k: how many passages (settings.top_k when None).
            filters: municipality, document type, date range (a Question's own when None).
            mode: "hybrid", or one list alone for evaluation.
        """
        if isinstance(query, Question):
            refs: list[str] | tuple[str, ...] = query.article_refs
            filters = filters if filters is not None else query.filters
            query = query.text
        else:
            refs = article_references(query)
        k = k or self.settings.top_k
        n = max(self.settings.candidates, k)
        t0 = time.perf_counter()
        keyword_future = (
            _pool.submit(self.store.keyword_search, query, n, filters) if mode != "dense" else None
        )
        qvec = self.embedder.encode_queries([query])[0]
        t1 = time.perf_counter()
        dense = self.store.dense_search(qvec, n, filters) if mode != "keyword" else []
        keyword = keyword_future.result() if keyword_future else []
        t2 = time.perf_counter()
        # Both lists were read at slightly different moments; keep only chunks of the
        # versions current now, so an answer never mixes an old and a new version.
        current = self.store.current_versions([c.doc_id for c, _ in dense + keyword])
        dense = [(c, s) for c, s in dense if current.get(c.doc_id) == c.doc_hash]
        keyword = [(c, s) for c, s in keyword if current.get(c.doc_id) == c.doc_hash]
        weight = self.settings.keyword_weight_reference if refs else self.settings.keyword_weight
        passages = self._fuse(dense, keyword, qvec, weight)
        passages = distinct_passages(self._rerank(query, passages))
        for rank, p in enumerate(passages[:k], start=1):
            p.rank = rank
            self._add_context(p)
        self.last_timings = {"embed_query": t1 - t0, "search": t2 - t1,
                             "fuse": time.perf_counter() - t2}  # fmt: skip
        return passages[:k]

    def _fuse(
        self,
        dense: list[tuple[Chunk, float]],
        keyword: list[tuple[Chunk, float]],
        qvec: np.ndarray,
        keyword_weight: float,
    ) -> list[Passage]:
        by_id: dict[str, Passage] = {}
        for rank, (chunk, sim) in enumerate(dense, start=1):
            p = by_id.setdefault(chunk.id, Passage(chunk=chunk, score=0.0))
            p.dense_score = sim
            p.score += 1.0 / (RRF_K + rank)
        for rank, (chunk, bm25) in enumerate(keyword, start=1):
            p = by_id.setdefault(chunk.id, Passage(chunk=chunk, score=0.0))
            p.keyword_score = bm25
            p.score += keyword_weight / (RRF_K + rank)
        missing = [p for p in by_id.values() if p.dense_score is None]
        if missing:
            found = self.store.vectors.embeddings([p.chunk.id for p in missing])
            for p in missing:
                vec = found.get(p.chunk.id)
                p.dense_score = float(np.dot(np.asarray(vec), qvec)) if vec is not None else 0.0
        superseded = self.store.superseded_ids() if by_id else set()
        for p in by_id.values():
            if p.chunk.doc_id in superseded:
                p.superseded = True
                p.score *= SUPERSEDED_PENALTY
        return sorted(by_id.values(), key=lambda p: p.score, reverse=True)

    def _add_context(self, passage: Passage) -> None:
        """Where a chunk starts or ends mid-sentence (a page break, a size split), add
        the rest of that sentence from the neighbouring chunk, so the passage reads whole."""
        text = passage.chunk.text.strip()
        starts_mid = bool(text) and (text[0].islower() or text[0] in ",;:)")
        ends_mid = bool(text) and text[-1] not in ".!?:;”’\"'"
        if not (starts_mid or ends_mid):
            return
        before, after = self.store.neighbours(passage.chunk)
        if starts_mid and before is not None:
            tail = _SENTENCE_END.split(before.text.strip())[-1]
            passage.context_before = tail[-CONTEXT_CHARS:]
        if ends_mid and after is not None:
            head = _SENTENCE_END.split(after.text.strip(), maxsplit=1)[0]
            passage.context_after = head[:CONTEXT_CHARS]

    def _rerank(self, query: str, passages: list[Passage]) -> list[Passage]:
        """Optional cross-encoder rescoring of the fused list (off unless configured)."""
        if not self.settings.reranker or not passages:
            return passages
        if self._reranker is None:
            from sentence_transformers import CrossEncoder

            self._reranker = CrossEncoder(self.settings.reranker, local_files_only=True)
        scores = self._reranker.predict([(query, p.chunk.text) for p in passages])
        for p, s in zip(passages, scores, strict=True):
            p.score = float(s) * (SUPERSEDED_PENALTY if p.superseded else 1.0)
        return sorted(passages, key=lambda p: p.score, reverse=True)


def distinct_passages(passages: list[Passage]) -> list[Passage]:
    """The passages in order, without a later one whose text equals an earlier one's
    (case and white space aside): two copies of a document, or one passage indexed twice,
    never fill two places of a result list.

    Args:
        passages: ranked passages, best first.
    """
    seen: set[str] = set()
    out: list[Passage] = []
    for p in passages:
        key = " ".join(p.chunk.text.casefold().split())
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


class LangChainRetriever(BaseRetriever):
    """The hybrid retriever behind LangChain's retriever interface.

    Each LangChain document carries its Passage under ``metadata["passage"]``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    k: int = 5
    filters: Filters | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        passages = self.retriever.search(query, k=self.k, filters=self.filters)
        return [
            LCDocument(
                page_content=p.chunk.text,
                metadata={"passage": p, "doc_id": p.chunk.doc_id, "page": p.chunk.page_label},
            )
            for p in passages
        ]

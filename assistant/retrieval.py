"""Hybrid retrieval: dense (embedding model) + BM25 (Dutch stems), fused by reciprocal rank.

Every passage also gets its cosine similarity to the question, whichever list found it:
that absolute number is what the refusal threshold is calibrated on.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.article_refs import analysed_reference, law_match, named_articles, section_article
from assistant.question import Question
from assistant.settings import Settings
from assistant.store import Filters, Store
from assistant.types import Chunk, Passage

Mode = Literal["hybrid", "dense", "keyword"]
RRF_K = 60
SUPERSEDED_PENALTY = 0.5
CONTEXT_CHARS = 300
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

READ_RETRIES = 3  # reads again when a document version changed during a read
REFERENCE_SCAN = 5000  # chunks naming one article read at most (all, in practice)

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="retrieve")


@dataclass(frozen=True)
class Fusion:
    """How the candidate lists are weighed (see `Retriever.rank`).

    Attributes:
        keyword: the BM25 list's weight (the dense list's is 1).
        keyword_reference: the BM25 list's weight when the question names an article.
        reference: the weight of the list of the named article's chunks.
    """

    keyword: float
    keyword_reference: float
    reference: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Fusion:
        """The weights the settings give."""
        return cls(
            keyword=settings.keyword_weight,
            keyword_reference=settings.keyword_weight_reference,
            reference=settings.reference_weight,
        )


@dataclass
class Candidates:
    """What one search read from the store, before ranking.

    Attributes:
        query: the question text.
        articles: the article numbers it names ("13b").
        qvec: its L2-normalised vector.
        dense: (chunk, cosine), nearest first.
        keyword: (chunk, BM25 score), best first.
        reference: chunks of the named articles (of the named law), most similar first.
        similarity: chunk id → cosine similarity to the question, for every candidate.
        superseded: ids of documents a newer one supersedes.
        embed_seconds: time spent embedding the question.
    """

    query: str
    articles: tuple[str, ...]
    qvec: np.ndarray
    dense: list[tuple[Chunk, float]]
    keyword: list[tuple[Chunk, float]]
    reference: list[Chunk] = field(default_factory=list)
    similarity: dict[str, float] = field(default_factory=dict)
    superseded: set[str] = field(default_factory=set)
    embed_seconds: float = 0.0


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
        k = k or self.settings.top_k
        t0 = time.perf_counter()
        found = self.candidates(query, k, filters, mode)
        t1 = time.perf_counter()
        passages = self.rank(found)[:k]
        for rank, p in enumerate(passages, start=1):
            p.rank = rank
            self._add_context(p)
        self.last_timings = {"embed_query": found.embed_seconds,
                             "search": t1 - t0 - found.embed_seconds,
                             "fuse": time.perf_counter() - t1}  # fmt: skip
        return passages

    def candidates(
        self,
        query: str | Question,
        k: int | None = None,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
    ) -> Candidates:
        """Everything the ranking needs, read once from the store: the dense list, the
        BM25 list and the chunks of the articles the question names, with the question's
        cosine similarity to each of them.

        Args:
            query: the (standalone) question, as text or as read by `Question.read`.
            k: passages wanted (each list holds at least settings.candidates).
            filters: municipality, document type, date range (a Question's own when None).
            mode: "hybrid", or one list alone for evaluation.
        """
        if isinstance(query, Question):
            filters = filters if filters is not None else query.filters
            query = query.text
        n = max(self.settings.candidates, k or self.settings.top_k)
        # A document replaced while the lists are read could leave only chunks of the old
        # version, dropped below as not current: then read again (the same query vector).
        generation = self.store.generation()
        found = self._read(query, n, filters, mode)
        for _ in range(READ_RETRIES):
            now = self.store.generation()
            if now == generation:
                break
            generation = now
            found = self._read(query, n, filters, mode, (found.qvec, found.embed_seconds))
        return found

    def _read(
        self,
        query: str,
        n: int,
        filters: Filters | None,
        mode: Mode,
        embedded: tuple[np.ndarray, float] | None = None,
    ) -> Candidates:
        """One read of the candidate lists (see `candidates`); ``embedded``: the query's
        vector and its embedding time from an earlier read."""
        keyword_future = (
            _pool.submit(self.store.keyword_search, query, n, filters) if mode != "dense" else None
        )
        if embedded is None:
            t = time.perf_counter()
            qvec = self.embedder.encode_queries([query])[0]
            embed_seconds = time.perf_counter() - t
        else:
            qvec, embed_seconds = embedded
        dense = self.store.dense_search(qvec, n, filters) if mode != "keyword" else []
        keyword = keyword_future.result() if keyword_future else []
        articles = named_articles(query)
        reference = self._article_chunks(articles, filters) if mode == "hybrid" else []
        # The lists were read at slightly different moments; keep only chunks of the
        # versions current now, so an answer never mixes an old and a new version.
        every = dense + keyword + [(c, 0.0) for c in reference]
        current = self.store.current_versions([c.doc_id for c, _ in every])
        dense = [(c, s) for c, s in dense if current.get(c.doc_id) == c.doc_hash]
        keyword = [(c, s) for c, s in keyword if current.get(c.doc_id) == c.doc_hash]
        reference = [c for c in reference if current.get(c.doc_id) == c.doc_hash]
        # The named article's chunks of the law the question names (all of them when it
        # names none, or none of theirs), most similar first.
        levels = {c.doc_id: law_match(query, c.title) for c in reference}
        best = max(levels.values(), default=0)
        reference = [c for c in reference if levels[c.doc_id] == best]
        similarity = {c.id: s for c, s in dense}
        missing = list(dict.fromkeys(c.id for c, _ in keyword if c.id not in similarity))
        missing += [c.id for c in reference if c.id not in similarity and c.id not in missing]
        if missing:
            vectors = self.store.vectors.embeddings(missing)
            for cid in missing:
                vec = vectors.get(cid)
                similarity[cid] = float(np.dot(np.asarray(vec), qvec)) if vec is not None else 0.0
        reference.sort(key=lambda c: similarity.get(c.id, 0.0), reverse=True)
        return Candidates(
            query=query,
            articles=tuple(articles),
            qvec=qvec,
            dense=dense,
            keyword=keyword,
            reference=reference[:n],
            similarity=similarity,
            superseded=self.store.superseded_ids() if every else set(),
            embed_seconds=embed_seconds,
        )

    def _article_chunks(self, articles: list[str], filters: Filters | None) -> list[Chunk]:
        """Chunks whose heading path ends in an article the question names."""
        out: dict[str, Chunk] = {}
        for number in articles:
            term = analysed_reference(number)
            for chunk in self.store.chunks_with_term(term, REFERENCE_SCAN, filters):
                if section_article(chunk.section) == number:
                    out.setdefault(chunk.id, chunk)
        return list(out.values())

    def rank(self, found: Candidates, fusion: Fusion | None = None) -> list[Passage]:
        """All candidate passages, best first: the lists fused by reciprocal rank (dense
        weight 1; BM25 ``fusion.keyword``, or ``fusion.keyword_reference`` when the
        question names an article; the named article's chunks ``fusion.reference``),
        superseded documents ranked down, then the optional cross-encoder; a text that
        stands twice is kept once.

        Args:
            found: what `candidates` read.
            fusion: the weights (from settings when None).
        """
        fusion = fusion or Fusion.from_settings(self.settings)
        weight = fusion.keyword_reference if found.articles else fusion.keyword
        by_id: dict[str, Passage] = {}
        lists = (
            ([c for c, _ in found.dense], 1.0),
            ([c for c, _ in found.keyword], weight),
            (found.reference, fusion.reference),
        )
        for chunks, w in lists:
            for rank, chunk in enumerate(chunks if w > 0 else [], start=1):
                p = by_id.setdefault(chunk.id, Passage(chunk=chunk, score=0.0))
                p.score += w / (RRF_K + rank)
        keyword_scores = {c.id: s for c, s in found.keyword}
        for p in by_id.values():
            p.dense_score = found.similarity.get(p.chunk.id, 0.0)
            p.keyword_score = keyword_scores.get(p.chunk.id)
            if p.chunk.doc_id in found.superseded:
                p.superseded = True
                p.score *= SUPERSEDED_PENALTY
        passages = sorted(by_id.values(), key=lambda p: p.score, reverse=True)
        return distinct_passages(self._rerank(found.query, passages))

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

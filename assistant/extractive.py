"""The `extractive` backend: no LLM; the best supporting sentences, quoted verbatim.

Fast and always faithful: every sentence of the answer is a span of a retrieved chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.analysis import analyse
from assistant.prompts import EXTRACTIVE_INTRO
from assistant.sentences import Span, split_spans
from assistant.types import Passage

MAX_SENTENCES = 3
MAX_PASSAGES = 3
RELATIVE_CUTOFF = 0.8  # keep sentences scoring at least this share of the best one


@dataclass
class Candidate:
    passage: int
    span: Span
    score: float


def select_sentences(
    question: str, passages: Sequence[Passage], embedder: Any, max_sentences: int = MAX_SENTENCES
) -> list[Candidate]:
    """The sentences of the top passages that best answer the question.

    Args:
        question: the standalone question.
        passages: retrieved passages, best first.
        embedder: has ``encode_queries`` and ``encode_documents`` (normalised vectors).
        max_sentences: how many sentences at most.
    """
    cands: list[Candidate] = []
    for i, p in enumerate(passages[:MAX_PASSAGES]):
        for span in split_spans(p.chunk.text):
            if len(span.text) >= 25 or any(ch.isdigit() for ch in span.text):
                cands.append(Candidate(i, span, 0.0))
    if not cands:
        return []
    qvec = embedder.encode_queries([question])[0]
    svecs = embedder.encode_documents([c.span.text for c in cands])
    sims = svecs @ qvec
    qterms = set(analyse(question))
    for c, sim in zip(cands, sims, strict=True):
        terms = set(analyse(c.span.text))
        overlap = len(qterms & terms) / len(qterms) if qterms else 0.0
        rank_prior = 1.0 - 0.1 * c.passage  # trust the retriever's order a little
        c.score = float((0.6 * sim + 0.4 * overlap) * rank_prior)
    cands.sort(key=lambda c: c.score, reverse=True)
    best = cands[0].score
    chosen = [c for c in cands if c.score >= RELATIVE_CUTOFF * best][:max_sentences]
    # Read in document order: by passage rank, then position in the chunk.
    return sorted(chosen, key=lambda c: (c.passage, c.span.start))


def render_extractive(quotes: Sequence[tuple[str, int]], language: str) -> str:
    """An answer made only of quoted sentences, each followed by its citation number."""
    lines = [f"“{quote}” [{n}]" for quote, n in quotes]
    return EXTRACTIVE_INTRO.get(language, EXTRACTIVE_INTRO["nl"]) + "\n\n" + "\n\n".join(lines)

"""The `extractive` backend: no LLM; the best supporting sentences, quoted verbatim.

Fast and always faithful: every sentence of the answer is a span of a retrieved chunk.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.analysis import analyse, file_words, fold, words
from assistant.answer_kinds import attachment, has_kind, needs_attachment
from assistant.letterhead import content_bounds, repeated_lines
from assistant.prompts import EXTRACTIVE_INTRO
from assistant.question import Question
from assistant.sentences import Span, split_spans
from assistant.types import Passage

MAX_SENTENCES = 3
# Sentences are chosen from the top five passages (settings.top_k): on real PDFs the passage
# that holds the asked-for value is often fourth or fifth (mixed dev set, calibrated held out:
# 3 passages refused 64% of unanswerable questions at 6.8% false refusals, 5 passages 86% at
# 4.3%, benchmarks/calibrate_refusal.py).
MAX_PASSAGES = 5
RELATIVE_CUTOFF = 0.85  # keep sentences scoring at least this share of the best one
TYPE_MISMATCH = 0.6  # weight of a sentence without the kind of answer asked for


@dataclass
class Candidate:
    """A sentence of a passage, with its score for the question.

    Attributes:
        passage: index of its passage in the list given to `select_sentences`.
        span: the sentence, verbatim, and where it stands in the passage's text.
        score: how well it answers (higher is better).
        attached: `answer_kinds.attachment` of the sentence (1.0 for a question of no
            attached kind): whether its value of the asked kind is about the subject.
    """

    passage: int
    span: Span
    score: float
    attached: float = 1.0


def select_sentences(
    question: str | Question,
    passages: Sequence[Passage],
    embedder: Any,
    max_sentences: int = MAX_SENTENCES,
    idf: Callable[[Sequence[str]], dict[str, float]] | None = None,
) -> list[Candidate]:
    """The sentences of the top passages that best answer the question.

    Args:
        question: the question the sentences must answer (a plain string is read here).
        passages: retrieved passages, best first.
        embedder: has ``encode_queries`` and ``encode_documents`` (normalised vectors).
        max_sentences: how many sentences at most.
        idf: inverse document frequency of analysed terms over the whole index (the
            store's); without it, frequency over the candidate sentences is used.
    """
    if isinstance(question, str):
        question = Question.read(question)
    cands = _candidates(question, passages)
    if not cands:
        return []
    qvec = embedder.encode_queries([question.text])[0]
    # A sentence is read with its heading ("19:30 uur Opening" under "Agenda
    # beeldvormende vergadering 5 oktober" is about that meeting, at half weight), and a
    # chunk's first sentence with the part of it that stands in the previous chunk.
    texts = [_with_context(passages[c.passage], c.span) for c in cands]
    encode = getattr(embedder, "encode_sentences", embedder.encode_documents)
    sims = encode(texts) @ qvec
    cand_terms = [set(analyse(t)) for t in texts]
    # The sentence before also counts at half weight: "Voor Dronten zijn dat ..."
    # answers what its predecessor named ("lokale speerpunten").
    head_terms = [
        set(
            analyse(
                f"{_last_heading(passages[c.passage])} {_previous(passages[c.passage], c.span)}"
            )
        )
        for c in cands
    ]
    weights = _attach(question, passages, cands, idf, cand_terms)
    total = sum(weights.values()) or 1.0
    for c, sim, terms, heads in zip(cands, sims, cand_terms, head_terms, strict=True):
        overlap = (
            sum(w if t in terms else 0.5 * w if t in heads else 0.0 for t, w in weights.items())
            / total
        )
        # A question of time, number, date or person is answered by a sentence that
        # holds one (for amounts, quantities, contact details, dates and times: one about
        # the question's subject); the others are kept, ranked down.
        if needs_attachment(question):
            fit = TYPE_MISMATCH + (1.0 - TYPE_MISMATCH) * c.attached
        else:
            fit = 1.0 if has_kind(c.span.text, question.kind, question.text) else TYPE_MISMATCH
        rank_prior = 1.0 - 0.05 * c.passage  # trust the retriever's order a little
        c.score = float((0.5 * sim + 0.5 * overlap) * fit * rank_prior)
    cands.sort(key=lambda c: c.score, reverse=True)
    best = cands[0]
    chosen = [best]
    for c in cands[1:]:
        if len(chosen) >= max_sentences or c.score < RELATIVE_CUTOFF * best.score:
            break
        if any(_repeats(c, x) for x in chosen):
            continue  # the same sentence again, whole or in part (chunks overlap)
        if c.passage == best.passage or c.score >= 0.95 * best.score:
            chosen.append(c)
    # The sentence whose value is best attached to the question's subject is always
    # quoted: an answer carries what was asked (the pipeline refuses on `best_attachment`).
    if needs_attachment(question):
        most = max(cands, key=lambda c: c.attached)
        if most.attached > max(c.attached for c in chosen):
            chosen = [*chosen[: max_sentences - 1], most]
    # Read in document order: by passage rank, then position in the chunk.
    return sorted(chosen, key=lambda c: (c.passage, c.span.start))


def best_attachment(
    question: str | Question,
    passages: Sequence[Passage],
    idf: Callable[[Sequence[str]], dict[str, float]] | None = None,
) -> float:
    """The best `answer_kinds.attachment` among the sentences `select_sentences` weighs
    (1.0 for a question of no attached kind; 0.0 when no sentence holds a value of its
    kind about its subject). No model is needed: the pipeline refuses below
    settings.min_attachment, and the calibration grades exactly this number.

    Args:
        question: the question (a plain string is read here).
        passages: retrieved passages, best first.
        idf: as for `select_sentences`.
    """
    if isinstance(question, str):
        question = Question.read(question)
    if not needs_attachment(question):
        return 1.0
    cands = _candidates(question, passages)
    if not cands:
        return 0.0
    terms = [set(analyse(_with_context(passages[c.passage], c.span))) for c in cands]
    _attach(question, passages, cands, idf, terms)
    return max(c.attached for c in cands)


def _candidates(question: Question, passages: Sequence[Passage]) -> list[Candidate]:
    """The sentences of the top passages that could answer: letterhead cut off."""
    top = passages[:MAX_PASSAGES]
    repeated = _running_lines(top)
    cands: list[Candidate] = []
    for i, p in enumerate(top):
        headings = fold(f"{p.chunk.title} > {p.chunk.section}")
        text = p.chunk.text
        for span in split_spans(text):
            # Letterhead (a title, heading, running header or footer, page number,
            # table-of-contents entry) is cut off a sentence, and never quoted alone.
            bounds = content_bounds(
                text, span.start, span.end, question.kind == "contact", repeated[p.chunk.doc_id]
            )
            if bounds is None:
                continue
            span = Span(text[bounds[0] : bounds[1]], *bounds)
            # A heading names a topic; it does not answer a question about it. Nor does
            # a bare list of names ("Dronten, Urk, Noordoostpolder."), the tail of a list
            # item, unless a person is asked for.
            if len(words(span.text)) < 2 or fold(span.text) in headings:
                continue
            if question.kind != "person" and _only_names(span.text):
                continue
            cands.append(Candidate(i, span, 0.0))
    return cands


_NAME_LIST_JOINS = frozenset({"en", "of", "and", "or"})


def _only_names(text: str) -> bool:
    """Whether a sentence is only capitalised words joined by commas, "en" or "of", and
    holds no number ("Dronten, Urk, Noordoostpolder.")."""
    if any(ch.isdigit() for ch in text):
        return False
    tokens = re.findall(r"[^\W\d_]+", text)
    return len(tokens) >= 2 and all(t[0].isupper() or t in _NAME_LIST_JOINS for t in tokens)


def _repeats(a: Candidate, b: Candidate) -> bool:
    """Whether one candidate's sentence holds the other's whole (overlapping chunks cut
    the same sentence twice: "op drie geprioriteerde thema's, namelijk …" is the tail of
    the sentence before the chunk boundary)."""
    x, y = fold(a.span.text).strip(" .;:"), fold(b.span.text).strip(" .;:")
    return bool(x) and bool(y) and (x in y or y in x)


def _attach(
    question: Question,
    passages: Sequence[Passage],
    cands: Sequence[Candidate],
    idf: Callable[[Sequence[str]], dict[str, float]] | None,
    cand_terms: Sequence[set[str]],
) -> dict[str, float]:
    """Set each candidate's attachment (read with its document's title and file name, its
    heading and the sentence before it); return the question terms' weights."""
    qterms = list(question.terms)
    weights = idf(qterms) if idf else _term_weights(qterms, cand_terms)
    if needs_attachment(question):
        for c in cands:
            context = sentence_context(passages[c.passage], c.span)
            c.attached = attachment(question, c.span.text, context, weights)
    return weights


def sentence_context(passage: Passage, span: Span) -> str:
    """What a sentence is read with: its document's title and file name, its heading and
    the sentence before it ("Voor Dronten zijn dat ..." answers what its predecessor
    named)."""
    document = f"{passage.chunk.title} {file_words(passage.chunk.source)}"
    return f"{document} {_last_heading(passage)} {_previous(passage, span)}"


def answer_scope(passage: Passage) -> str:
    """What a chosen sentence speaks within: its chunk, heading, document title and file
    name ("aa-en-hunze-coalitieakkoord-2018-2022.pdf" names the municipality)."""
    c = passage.chunk
    return f"{c.title} {c.section} {c.text} {file_words(passage.chunk.source)}"


def carrying(chosen: Sequence[Candidate], min_attachment: float) -> list[Candidate]:
    """The chosen sentences that carry the answer: those whose value of the asked kind is
    about the subject (attached at least ``min_attachment``; every sentence for a question
    of no attached kind, whose candidates all have attached 1.0)."""
    return [c for c in chosen if c.attached >= min_attachment]


def _running_lines(passages: Sequence[Passage]) -> dict[str, set[str]]:
    """Per document, the lines that stand on more than one page of its passages."""
    pages: dict[str, list[tuple[str, str]]] = {}
    for p in passages:
        pages.setdefault(p.chunk.doc_id, []).append((_page_key(p), p.chunk.text))
    return {doc: repeated_lines(texts) for doc, texts in pages.items()}


def _page_key(passage: Passage) -> str:
    return f"{passage.chunk.page_start}-{passage.chunk.page_end}"


def _with_context(passage: Passage, span: Span) -> str:
    if span.start == 0 and passage.context_before:
        return f"{passage.context_before} {span.text}"
    return span.text


def _previous(passage: Passage, span: Span) -> str:
    """The text of the sentence before a span in its chunk (or the context before it)."""
    before = passage.chunk.text[: span.start].rstrip()
    if not before:
        return passage.context_before
    spans = split_spans(before)
    return spans[-1].text if spans else ""


def _last_heading(passage: Passage) -> str:
    return passage.chunk.section.rsplit(" > ", 1)[-1]


def _term_weights(qterms: Sequence[str], cand_terms: Sequence[set[str]]) -> dict[str, float]:
    """IDF-like weights of the question's terms over the candidate sentences: a term
    that stands in every sentence (the document's topic) says little about which one
    answers; a rare one says much."""
    n = len(cand_terms)
    weights = {}
    for term in qterms:
        df = sum(term in terms for terms in cand_terms)
        weights[term] = math.log(1.0 + n / (1.0 + df))
    return weights


def render_extractive(quotes: Sequence[tuple[str, int]], language: str) -> str:
    """An answer made only of quoted sentences, each followed by its citation number."""
    lines = [f"“{quote}” [{n}]" for quote, n in quotes]
    return EXTRACTIVE_INTRO.get(language, EXTRACTIVE_INTRO["nl"]) + "\n\n" + "\n\n".join(lines)

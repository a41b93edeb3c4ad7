"""Scoring functions: pure, small, and each testable on a hand-computed case.

Conventions:
- A score is a float in [0, 1]; ``None`` means "does not apply" (no gold source, no
  reference answer, nothing cited) and is left out of averages, never counted as 0.
- Retrieval is scored at two levels. ``"doc"``: a passage is relevant when it comes from
  a gold document. ``"page"``: it must also cover the gold page label and/or lie in the
  gold section. Each gold source is credited once, however many passages match it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

from assistant.analysis import MONTHS_NL, WEEKDAYS_NL, analyse, fold, words
from assistant.evaluation.dataset import EvalItem, SourceRef, fact_found
from assistant.language import detect
from assistant.types import PAGE_RANGE, Chunk, Citation, Passage

Level = Literal["doc", "page"]
Mode = Literal["all", "any"]


# -- where a passage or citation is --------------------------------------------------------
@dataclass(frozen=True)
class Located:
    """A retrieved passage or a citation, reduced to where it stands."""

    doc_id: str
    pages: frozenset[str] = frozenset()
    section: str = ""

    @classmethod
    def from_chunk(cls, chunk: Chunk) -> Located:
        return cls(
            chunk.doc_id, page_span(chunk.page_label_start, chunk.page_label_end), chunk.section
        )

    @classmethod
    def from_citation(cls, citation: Citation) -> Located:
        start, sep, end = citation.page.partition(PAGE_RANGE)
        if not sep:  # results written before ranges took an en dash
            start, _, end = citation.page.partition("-")
        return cls(citation.doc_id, page_span(start, end or start), citation.section)


def page_span(start: str, end: str) -> frozenset[str]:
    """Every page label from start to end (numeric labels), else just the two labels."""
    if start.isdigit() and end.isdigit() and int(start) <= int(end):
        return frozenset(str(n) for n in range(int(start), int(end) + 1))
    return frozenset({start, end} - {""})


def matches(where: Located, source: SourceRef, level: Level = "page") -> bool:
    """Whether a passage or citation lies in a gold source.

    Args:
        where: the passage's or citation's place.
        source: a gold source; without page and section it names a whole document.
        level: "doc" compares documents only; "page" also the page label and section.
    """
    if where.doc_id != source.doc_id:
        return False
    if level == "doc":
        return True
    if source.page is not None:
        # A gold page may be a range itself ("2–3", from a citation kept as feedback).
        start, sep, end = source.page.partition(PAGE_RANGE)
        gold = page_span(start, end) if sep else {source.page}
        if not gold & where.pages:
            return False
    return source.section is None or section_matches(source.section, where.section)


def section_matches(gold: str, section_path: str) -> bool:
    """Whether a gold section ('Artikel 5') names a part of a section path, as a whole
    part or its start: 'Artikel 5' matches 'Wet X > Artikel 5' and 'Artikel 5 Begrippen',
    not 'Artikel 50' or 'Artikel 5a'."""
    wanted = " ".join(fold(gold).split())
    for part in section_path.split(" > "):
        part = " ".join(fold(part).split())
        if part == wanted or (part.startswith(wanted) and not part[len(wanted)].isalnum()):
            return True
    return False


def gold_units(sources: Sequence[SourceRef], level: Level) -> list[SourceRef]:
    """The distinct things to find: documents ("doc") or the sources themselves ("page")."""
    if level == "doc":
        return [SourceRef(doc_id=d) for d in dict.fromkeys(s.doc_id for s in sources)]
    return list(dict.fromkeys(sources))


# -- ranking ----------------------------------------------------------------------------------
def _credited(ranked: Sequence[Located], units: Sequence[SourceRef], level: Level) -> list[int]:
    """For each rank, the gold unit it is the first to find (-1: none new)."""
    found: set[int] = set()
    out = []
    for where in ranked:
        new = next(
            (u for u, src in enumerate(units) if u not in found and matches(where, src, level)),
            -1,
        )
        if new >= 0:
            found.add(new)
        out.append(new)
    return out


def _relevant(ranked: Sequence[Located], units: Sequence[SourceRef], level: Level) -> list[bool]:
    return [any(matches(w, s, level) for s in units) for w in ranked]


def hit_at(
    ranked: Sequence[Located], sources: Sequence[SourceRef], k: int, level: Level = "page"
) -> float | None:
    """1.0 when any of the first k passages lies in a gold source (None without gold)."""
    units = gold_units(sources, level)
    if not units:
        return None
    return 1.0 if any(_relevant(ranked[:k], units, level)) else 0.0


def recall_at(
    ranked: Sequence[Located],
    sources: Sequence[SourceRef],
    k: int,
    level: Level = "page",
    mode: Mode = "all",
) -> float | None:
    """Share of the gold sources found in the first k passages ("any": 1.0 if one is)."""
    units = gold_units(sources, level)
    if not units:
        return None
    found = sum(1 for u in _credited(ranked[:k], units, level) if u >= 0)
    if mode == "any":
        return 1.0 if found else 0.0
    return found / len(units)


def reciprocal_rank(
    ranked: Sequence[Located], sources: Sequence[SourceRef], level: Level = "page"
) -> float | None:
    """1 / rank of the first relevant passage (0.0 when none is; None without gold)."""
    units = gold_units(sources, level)
    if not units:
        return None
    for rank, rel in enumerate(_relevant(ranked, units, level), start=1):
        if rel:
            return 1.0 / rank
    return 0.0


def ndcg_at(
    ranked: Sequence[Located],
    sources: Sequence[SourceRef],
    k: int = 10,
    level: Level = "page",
    mode: Mode = "all",
) -> float | None:
    """Binary nDCG@k where each gold source earns gain once (at the first passage that
    finds it), so several chunks of one page do not inflate the score.

    The ideal ranking finds all gold sources first ("any": one).
    """
    units = gold_units(sources, level)
    if not units:
        return None
    wanted = 1 if mode == "any" else len(units)
    dcg = 0.0
    credited = 0
    for rank, unit in enumerate(_credited(ranked[:k], units, level), start=1):
        if unit >= 0 and credited < wanted:
            credited += 1
            dcg += 1.0 / math.log2(rank + 1)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(wanted, k) + 1))
    return dcg / ideal


# -- answer text --------------------------------------------------------------------------
_MARKER = re.compile(r"\s*\[\d{1,2}(?:\s*[,;]\s*\d{1,2})*\]")
_INTRO = re.compile(r"^\s*(volgens de documenten|according to the documents)[^:\n]*:\s*", re.I)


def answer_body(text: str) -> str:
    """An answer without its [n] markers, quotation marks and extractive intro line."""
    text = _INTRO.sub("", text)
    text = _MARKER.sub("", text)
    return re.sub(r"[“”„]", "", text).strip()


def key_fact_recall(text: str, facts: Sequence[str]) -> float | None:
    """Share of the key facts found in the answer (None when there are none)."""
    if not facts:
        return None
    return sum(1 for f in facts if fact_found(f, text)) / len(facts)


def missing_facts(text: str, facts: Sequence[str]) -> list[str]:
    """The key facts the answer does not contain."""
    return [f for f in facts if not fact_found(f, text)]


def _f1_tokens(text: str) -> list[str]:
    return analyse(answer_body(text), compounds=False)


def token_f1(prediction: str, reference: str | None) -> float | None:
    """SQuAD-style token F1 on stemmed content words (Dutch analyser, stop words out).

    Args:
        prediction: the answer.
        reference: the reference answer (None: not scored).
    """
    if reference is None:
        return None
    pred, ref = Counter(_f1_tokens(prediction)), Counter(_f1_tokens(reference))
    if not pred and not ref:
        return 1.0
    common = sum((pred & ref).values())
    if common == 0:
        return 0.0
    precision = common / sum(pred.values())
    recall = common / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def semantic_similarity(prediction: str, reference: str | None, embedder: Any) -> float | None:
    """Cosine similarity of the two texts' embeddings, clipped to [0, 1].

    Args:
        prediction: the answer.
        reference: the reference answer (None: not scored).
        embedder: has ``encode_documents(list[str])`` returning normalised vectors.
    """
    if reference is None:
        return None
    body = answer_body(prediction)
    if not body.strip() or not reference.strip():
        return 0.0
    vecs = embedder.encode_documents([body, reference])
    return float(np.clip(float(vecs[0] @ vecs[1]), 0.0, 1.0))


# -- citations ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Cited:
    """One citation of an answer: which chunk, the quoted span and where it stands."""

    chunk_id: str
    quote: str
    where: Located

    @classmethod
    def from_citation(cls, citation: Citation) -> Cited:
        return cls(citation.chunk_id, citation.quote, Located.from_citation(citation))


def _unique(citations: Iterable[Cited]) -> list[Cited]:
    return list(dict.fromkeys(citations))


def quote_verbatim(citation: Cited, chunk_texts: Mapping[str, str]) -> bool:
    """Whether the quote is a non-empty span of the cited chunk's text."""
    text = chunk_texts.get(citation.chunk_id)
    return bool(citation.quote.strip()) and text is not None and citation.quote in text


def citation_precision(
    citations: Sequence[Cited], chunk_texts: Mapping[str, str], sources: Sequence[SourceRef]
) -> float | None:
    """Share of distinct citations whose quote is verbatim in the cited chunk AND that lie
    in a gold source (page level). None when nothing is cited or there is no gold."""
    cited = _unique(citations)
    if not cited or not sources:
        return None
    good = sum(
        1
        for c in cited
        if quote_verbatim(c, chunk_texts) and any(matches(c.where, s, "page") for s in sources)
    )
    return good / len(cited)


def citation_recall(
    citations: Sequence[Cited], sources: Sequence[SourceRef], mode: Mode = "all"
) -> float | None:
    """Share of the gold sources that some citation lies in ("any": 1.0 if one is)."""
    units = gold_units(sources, "page")
    if not units:
        return None
    found = sum(1 for u in units if any(matches(c.where, u, "page") for c in citations))
    if mode == "any":
        return 1.0 if found else 0.0
    return found / len(units)


# -- faithfulness -------------------------------------------------------------------------
@dataclass
class Claim:
    """One answer sentence and the passages its citations point to."""

    text: str
    passages: list[Passage] = field(default_factory=list)


def _claims(claims: Sequence[Claim]) -> list[Claim]:
    # A "sentence" without a single word (a stray marker, a dash) is no claim.
    return [c for c in claims if words(answer_body(c.text))]


def faithfulness(claims: Sequence[Claim], checker: Any, language: str = "nl") -> float | None:
    """Share of sentences that a passage they cite supports, by the pipeline's own
    ``CitationChecker`` (score ≥ its threshold). A sentence citing nothing is unsupported.

    Args:
        claims: the answer's sentences with their cited passages.
        checker: an ``assistant.citations.CitationChecker``.
        language: the answer's language (the checker weighs embeddings by it).
    """
    claims = _claims(claims)
    if not claims:
        return None
    union: dict[str, Passage] = {}
    for c in claims:
        for p in c.passages:
            union.setdefault(p.chunk.id, p)
    order = {cid: i for i, cid in enumerate(union)}
    rows = checker.supports([c.text for c in claims], list(union.values()), language)
    supported = 0
    for claim, row in zip(claims, rows, strict=True):
        scores = [row[order[p.chunk.id]].score for p in claim.passages]
        if scores and max(scores) >= checker.threshold:
            supported += 1
    return supported / len(claims)


# The strict check below deliberately shares nothing with the pipeline's scoring: no
# stemming, no embeddings; its own number pattern (times like 19:30 are one number).
# It only borrows the language detection (assistant.language), which scores nothing.
_STRICT_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_STRICT_STOP = frozenset(STOPWORDS_DUTCH) | frozenset(STOPWORDS_EN)
STRICT_CONTAINMENT = 0.8


def _strict_numbers(text: str) -> set[str]:
    return {n.replace(",", ".").rstrip(".:") for n in _STRICT_NUMBER.findall(text)}


def _word_in(word: str, vocabulary: set[str]) -> bool:
    """Exact, or the same word with a short inflection (thema / themas, geprioriteerd/e)."""
    if word in vocabulary:
        return True
    if len(word) < 5:
        return False
    return any(
        abs(len(v) - len(word)) <= 2 and (v.startswith(word) or word.startswith(v))
        for v in vocabulary
        if len(v) >= 5
    )


# Across languages words cannot match (a faithful translation shares none with its
# passage), so there the check keeps to what a translation must leave as it is: numbers,
# names and terms in quotes. Its own patterns: a quoted term (a straight ' only around
# words, not in thema's or 's avonds), and the places where a capitalised word is
# capitalised only because something begins there (sentence, line, list item, colon).
_STRICT_QUOTED = re.compile(
    r"‘(?=\S)(.{1,80}?)(?<=\S)’(?![^\W_])"
    r"|(?<![\w'’])'(?![st]\b)(?=[^\s'])([^'\n]{1,80}?)(?<=\S)'(?![^\W_])"
    r"|[“„\"«](?=\S)([^“”„\"«»]{1,80}?)(?<=\S)[”“\"»]",
    re.DOTALL,
)
_STRICT_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# English capitalises month and weekday names; a translation of "januari" is "January".
_STRICT_DATE_EN = dict(
    zip(
        ("january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december", "monday", "tuesday", "wednesday",
         "thursday", "friday", "saturday", "sunday"),
        (*MONTHS_NL, *WEEKDAYS_NL),
        strict=True,
    )
)  # fmt: skip
_STRICT_BEGINS = re.compile(r"(?:^|[\n:.!?•*–-]|\d[.)])[\s\"'“„‘(]*$")


@lru_cache(maxsize=4096)
def _strict_language(text: str) -> str:
    return detect(text)


def _phrase_in(phrase: Sequence[str], text: Sequence[str]) -> bool:
    """Whether the words of a phrase stand in the text in a row (each allowing a short
    inflection)."""
    n = len(phrase)
    return any(
        all(_word_in(w, {t}) for w, t in zip(phrase, text[i : i + n], strict=True))
        for i in range(len(text) - n + 1)
    )


def _strict_translation_support(sentence: str, passage_text: str) -> bool:
    """The cross-lingual rule of `strict_support` (numbers are checked by the caller)."""
    vocabulary = set(words(passage_text))
    body = answer_body(sentence)
    for match in _STRICT_WORD.finditer(body):
        word = match.group()
        if len(word) < 2 or not word[0].isupper() or _STRICT_BEGINS.search(body[: match.start()]):
            continue
        if not all(_word_in(_STRICT_DATE_EN.get(w, w), vocabulary) for w in words(word)):
            return False
    passage_words = words(passage_text)
    quoted = _STRICT_QUOTED.finditer(_MARKER.sub("", sentence))
    terms = [next(g for g in q.groups() if g is not None) for q in quoted]
    return all(_phrase_in(words(term), passage_words) for term in terms)


def strict_support(sentence: str, passage_text: str) -> bool:
    """A literal grounding test: every number of the sentence occurs in the passage,
    every content word (no stop word, 3+ letters) occurs in it (allowing a 2-letter
    inflection), and at least 80% of all its words do.

    A sentence in another language than its passage (by `assistant.language.detect`) is
    a translation, whose words cannot be the passage's. For it words are not compared:
    every number, every capitalised word that does not just begin the sentence, a line
    or a list item (names, places, acronyms; an English month or weekday as its Dutch
    name) and every quoted term must stand in the passage, a quoted term word for word
    in a row (case and a 2-letter inflection aside). So it checks what a translation
    must leave as it is, not what it says; that is left to `faithfulness`.

    Args:
        sentence: one answer sentence (citation markers are ignored).
        passage_text: the text of a cited chunk.
    """
    body = answer_body(sentence)
    tokens = words(body)
    if not tokens:
        return False
    if not _strict_numbers(body) <= _strict_numbers(passage_text):
        return False
    if _strict_language(body) != _strict_language(passage_text):
        return _strict_translation_support(sentence, passage_text)
    vocabulary = set(words(passage_text))
    content = [t for t in tokens if t not in _STRICT_STOP and len(t) >= 3 and not t.isdigit()]
    if not all(_word_in(t, vocabulary) for t in content):
        return False
    contained = sum(1 for t in tokens if _word_in(t, vocabulary))
    return contained / len(tokens) >= STRICT_CONTAINMENT


def strict_faithfulness(claims: Sequence[Claim]) -> float | None:
    """Share of sentences that pass `strict_support` against at least one cited passage."""
    claims = _claims(claims)
    if not claims:
        return None
    ok = sum(1 for c in claims if any(strict_support(c.text, p.chunk.text) for p in c.passages))
    return ok / len(claims)


# -- refusals -----------------------------------------------------------------------------
def refusal_accuracy(outcomes: Sequence[tuple[bool, bool]]) -> float | None:
    """Share of unanswerable questions that were refused.

    Args:
        outcomes: (answerable, refused) per question.
    """
    unanswerable = [refused for answerable, refused in outcomes if not answerable]
    return sum(unanswerable) / len(unanswerable) if unanswerable else None


def false_refusal_rate(outcomes: Sequence[tuple[bool, bool]]) -> float | None:
    """Share of answerable questions that were refused (lower is better)."""
    answerable = [refused for ok, refused in outcomes if ok]
    return sum(answerable) / len(answerable) if answerable else None


def refusal_correct(item: EvalItem, refused: bool) -> bool:
    """Whether refusing (or answering) was the right call for this question."""
    return refused != item.answerable


# -- latency and averages -----------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def latency_stats(timings: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """p50, p95, mean and count of every stage over the questions that have it."""
    stages: dict[str, list[float]] = {}
    for t in timings:
        for stage, seconds in t.items():
            stages.setdefault(stage, []).append(float(seconds))
    return {
        stage: {
            "p50": percentile(vals, 50),
            "p95": percentile(vals, 95),
            "mean": sum(vals) / len(vals),
            "n": len(vals),
        }
        for stage, vals in stages.items()
    }


def mean(values: Iterable[float | None]) -> tuple[float | None, int]:
    """Average of the values that apply, and how many did."""
    vals = [v for v in values if v is not None]
    return (sum(vals) / len(vals) if vals else None), len(vals)

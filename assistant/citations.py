"""Citations decided by code, not by the model.

Each answer sentence is scored against every retrieved passage, lexically (share of the
sentence's stemmed content words found in the passage, numbers must match) and by
embedding similarity. A `[n]` the model wrote is kept only if passage n supports the
sentence; otherwise it is re-pointed to the best supporting passage or removed. A
sentence no passage supports is dropped (default) or flagged. Every citation carries
the exact spans quoted from its chunk: each sentence of it that a supported answer
sentence rests on (`with_quotes`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

from assistant.analysis import MONTHS_NL, analyse, words
from assistant.sentences import Span, sentence_units, split_spans, strip_markers
from assistant.types import AnswerSentence, Citation, Passage

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_ENUMERATOR = re.compile(
    r"(?m)^\s*(?:\d{1,2}|[a-z])[.)](?=\s*[^\W\d])"  # a list line: "1. Cybercrime"
    r"|(?<!\S)\d{1,2}\)(?=\s*[^\W\d])"  # inline: "zijn 1) cybercrime en 2) drugs"
)
# Cosine similarities of a supported sentence and its passage lie mostly above HIGH;
# unrelated text below LOW. Mapped linearly onto 0..1 to be comparable with lexical.
EMB_LOW, EMB_HIGH = 0.30, 0.70
UnsupportedPolicy = Literal["drop", "flag"]
UNSUPPORTED_MARK = "[niet onderbouwd]"


@dataclass
class Support:
    """How well one passage supports one sentence."""

    passage: int  # 0-based index into passages
    score: float
    lexical: float
    semantic: float
    span: Span


def numbers(text: str) -> set[str]:
    """The numbers a text states; the numbering of a list ("1. Cybercrime") is not one."""
    text = _ENUMERATOR.sub(" ", text)
    return {n.replace(",", ".").rstrip(".") for n in _NUMBER.findall(text)}


def lexical_support(sentence: str, passage_text: str) -> float:
    """Share of the sentence's content stems that occur in the passage (0 when a number
    in the sentence is not in the passage)."""
    sent_terms = set(analyse(sentence, compounds=False))
    if not sent_terms:
        return 0.0
    if not numbers(sentence) <= numbers(passage_text):
        return 0.0
    passage_terms = set(analyse(passage_text, compounds=False))
    return len(sent_terms & passage_terms) / len(sent_terms)


def best_span(sentence: str, spans: Sequence[Span]) -> tuple[Span, float]:
    """The passage sentence that shares most content words with the answer sentence."""
    terms = set(analyse(sentence, compounds=False))
    best, best_score = spans[0], -1.0
    for span in spans:
        span_terms = set(analyse(span.text, compounds=False))
        if not span_terms:
            continue
        overlap = len(terms & span_terms)
        score = overlap / (len(terms) + 0.5 * len(span_terms)) if terms else 0.0
        if score > best_score:
            best, best_score = span, score
    return best, max(best_score, 0.0)


class CitationChecker:
    """Attach answer sentences to the passages that support them.

    Args:
        embedder: an object with ``encode_documents(list[str]) -> np.ndarray`` (normalised).
        threshold: minimum support (0..1) for a sentence to count as supported.
        policy: "drop" removes unsupported sentences, "flag" keeps them marked.
    """

    def __init__(self, embedder: Any, threshold: float = 0.5, policy: UnsupportedPolicy = "drop"):
        self.embedder = embedder
        self.threshold = threshold
        self.policy = policy

    def supports(
        self, sentences: Sequence[str], passages: Sequence[Passage], language: str = "nl"
    ) -> list[list[Support]]:
        """Support of every passage for every sentence."""
        if not sentences or not passages:
            return [[] for _ in sentences]
        texts = [p.chunk.text for p in passages]
        encode = getattr(self.embedder, "encode_sentences", self.embedder.encode_documents)
        vecs = encode(list(sentences) + texts)
        sent_vecs, pass_vecs = vecs[: len(sentences)], vecs[len(sentences) :]
        sims = np.clip((sent_vecs @ pass_vecs.T - EMB_LOW) / (EMB_HIGH - EMB_LOW), 0.0, 1.0)
        spans = [split_spans(t) or [Span(t, 0, len(t))] for t in texts]
        out: list[list[Support]] = []
        for i, sent in enumerate(sentences):
            row = []
            for j, text in enumerate(texts):
                lex = lexical_support(sent, text)
                sem = float(sims[i, j])
                if not numbers(sent) <= numbers(text):
                    sem = 0.0  # a number the passage does not contain is never supported
                span, _ = best_span(sent, spans[j])
                score = max(lex, 0.5 * lex + 0.5 * sem) if language == "nl" else max(lex, sem)
                row.append(Support(j, score, lex, sem, span))
            out.append(row)
        return out

    def check(
        self, answer: str, passages: Sequence[Passage], language: str = "nl"
    ) -> tuple[str, list[AnswerSentence], list[Citation]]:
        """Verify and renumber the citations of a generated answer.

        Args:
            answer: the model's text with its own [n] markers.
            passages: the passages as numbered in the prompt (1-based).
            language: the answer's language.

        Returns:
            The answer text with checked markers, its sentences, and the citations.
        """
        raw = [s.text for s in sentence_units(answer, language)]
        parsed = [strip_markers(s) for s in raw]
        parsed = [(clean, nums) for clean, nums in parsed if words(clean)]
        supports = self.supports([c for c, _ in parsed], passages, language)
        citations: list[Citation] = []
        by_chunk: dict[str, int] = {}
        sentences: list[AnswerSentence] = []
        for (clean, claimed), row in zip(parsed, supports, strict=True):
            chosen = self._choose(claimed, row)
            numbers_out: list[int] = []
            quotes: dict[int, list[str]] = {}
            for sup in chosen:
                chunk = passages[sup.passage].chunk
                if chunk.id not in by_chunk:
                    by_chunk[chunk.id] = len(citations) + 1
                    citations.append(
                        citation_for(by_chunk[chunk.id], passages[sup.passage], sup.span.text)
                    )
                numbers_out.append(by_chunk[chunk.id])
                quotes.setdefault(by_chunk[chunk.id], []).append(sup.span.text)
            best = max((s.score for s in row), default=0.0)
            sentences.append(
                AnswerSentence(text=clean, citations=numbers_out, supported=bool(chosen),
                               support=round(best, 3), quotes=quotes)
            )  # fmt: skip
        return self.render(sentences), sentences, with_quotes(citations, sentences)

    def _choose(self, claimed: Sequence[int], row: Sequence[Support]) -> list[Support]:
        """The model's own markers that check out, else the best supporting passage."""
        ok = [
            row[n - 1]
            for n in dict.fromkeys(claimed)
            if 1 <= n <= len(row) and row[n - 1].score >= self.threshold
        ]
        if ok:
            return ok
        best = max(row, key=lambda s: s.score, default=None)
        return [best] if best is not None and best.score >= self.threshold else []

    def render(self, sentences: Sequence[AnswerSentence]) -> str:
        """The answer text: supported sentences with [n]; unsupported dropped or flagged."""
        parts = []
        for s in sentences:
            if s.supported:
                marks = "".join(f"[{n}]" for n in s.citations)
            elif self.policy == "flag":
                marks = UNSUPPORTED_MARK
            else:
                continue
            text = s.text
            if text[-1:] in ".!?":
                parts.append(f"{text[:-1]} {marks}{text[-1]}")
            else:
                parts.append(f"{text} {marks}")
        return " ".join(parts).strip()


# -- The literal rule for phrased answers -------------------------------------------------
# A model that phrases chosen sentences may reorder and shorten them, not bring in words
# of its own: in a Dutch answer every content word of a sentence stands in the sentences
# it cites (or the same word with an inflection of at most two letters: thema/thema's,
# geprioriteerd/geprioriteerde), and most of its words do. Written here rather than
# taken from the evaluation, whose strict check must stay independent of the pipeline.
_STOP_WORDS = frozenset(STOPWORDS_DUTCH) | frozenset(STOPWORDS_EN)
LITERAL_CONTAINMENT = 0.8
_ITEM_START = re.compile(r"(?:^|\n|:|\d[.)]|[-•*▪·–])\s*$")
_CAPITALISED = re.compile(r"(?<![\w'’])[A-Z][\w'’-]+")
_DATE_WORDS = frozenset((*MONTHS_NL, "voorjaar", "zomer", "najaar", "winter"))
# A term set in quotes (‘zorg & veiligheid’, “ondermijning”, 'evenementen'): the name of a
# theme or a defined term. A straight ' opens only before a word that is not the Dutch
# 's/'t ('s avonds) and closes only where no word goes on (thema's); a quote of more than
# 80 characters is taken for stray quote marks, not a term.
_QUOTED = re.compile(
    r"‘(?=\S)(.{1,80}?)(?<=\S)’(?![^\W_])"
    r"|(?<![\w'’])'(?![st]\b)(?=[^\s'])([^'\n]{1,80}?)(?<=\S)'(?![^\W_])"
    r"|[“„\"«](?=\S)([^“”„\"«»]{1,80}?)(?<=\S)[”“\"»]",
    re.DOTALL,
)


def _inflected_in(word: str, vocabulary: set[str]) -> bool:
    if word in vocabulary:
        return True
    if len(word) < 5:
        return False
    return any(
        abs(len(v) - len(word)) <= 2 and (v.startswith(word) or word.startswith(v))
        for v in vocabulary
        if len(v) >= 5
    )


def literal_support(sentence: str, source: str, context: str = "") -> bool:
    """Whether a sentence says only what its source says, in the source's own words.

    Args:
        sentence: one answer sentence without markers.
        source: the text of the sentences it cites.
        context: the chunks those sentences stand in; their small words ("de", "is",
            "om") may join the source's words.

    Returns:
        True when every number and every content word (no stop word, 3+ letters) of the
        sentence is in the source (a content word allowing a 2-letter inflection), and at
        least 80% of all its words are in the source or its context.
    """
    tokens = words(sentence)
    if not tokens or not numbers(sentence) <= numbers(source):
        return False
    vocabulary = set(words(source))
    content = [t for t in tokens if t not in _STOP_WORDS and len(t) >= 3 and not t.isdigit()]
    if not all(_inflected_in(t, vocabulary) for t in content):
        return False
    vocabulary |= set(words(context))
    return sum(_inflected_in(t, vocabulary) for t in tokens) / len(tokens) >= LITERAL_CONTAINMENT


def quoted_terms(text: str) -> list[str]:
    """The terms a text sets in quotes, without the quote marks."""
    return [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(text)]


def key_tokens(sentence: str, language: str = "nl") -> set[str]:
    """What a phrasing of a sentence must keep: its numbers, its capitalised words after
    the first (names, places, and in Dutch also capitalised list items), the words of
    the terms it sets in quotes (in every language: a quoted policy term is a name, the
    phrasing keeps it as written) and, in Dutch, its months and seasons. Folded, as
    `words` gives them.

    Args:
        sentence: a chosen source sentence.
        language: the answer's language (months and seasons are only kept in Dutch).
    """
    keep = set(numbers(sentence))
    tokens = words(sentence)
    # The first word (after a leading time or number: "19:40 uur Toelichting …") is
    # capitalised because it comes first.
    first = next((t for t in tokens if not t.isdigit() and t != "uur"), "")
    for match in _CAPITALISED.finditer(sentence):
        # In a translation, a list item ("2. Ondermijning") is translated; a name is not.
        if language != "nl" and _ITEM_START.search(sentence[: match.start()]):
            continue
        for word in words(match.group()):
            if word != first and word not in _STOP_WORDS and len(word) >= 2:
                keep.add(word)
    for term in quoted_terms(sentence):
        keep |= {w for w in words(term) if w not in _STOP_WORDS}
    if language == "nl":
        keep |= {t for t in tokens if t in _DATE_WORDS}
    return keep


def dropped_tokens(answer: str, sentences: Sequence[str], language: str = "nl") -> set[str]:
    """The key tokens of the source sentences that a phrased answer leaves out.

    Args:
        answer: the answer text (markers may stay in).
        sentences: the chosen sentences it was phrased from.
        language: the answer's language.
    """
    needed: set[str] = set()
    for sentence in sentences:
        needed |= key_tokens(sentence, language)
    answer = re.sub(r"\[\d+\]", " ", answer)
    present, stated = set(words(answer)), numbers(answer)
    return {t for t in needed if t not in stated and not _inflected_in(t, present)}


def citation_for(n: int, passage: Passage, *quotes: str) -> Citation:
    """A citation of a passage with the quoted spans.

    Args:
        n: the citation number.
        passage: the cited passage.
        quotes: one or more spans, each verbatim in the chunk text; the first is ``quote``.
    """
    c = passage.chunk
    return Citation(
        n=n, chunk_id=c.id, doc_id=c.doc_id, title=c.title, page=c.page_label,
        page_index=c.page_start, source=c.source, section=c.section,
        municipality=c.municipality, quote=quotes[0], quotes=list(dict.fromkeys(quotes)),
        superseded=passage.superseded,
    )  # fmt: skip


def with_quotes(
    citations: Sequence[Citation], sentences: Sequence[AnswerSentence]
) -> list[Citation]:
    """Each citation quoting every span that the supported sentences citing it rest on
    (``AnswerSentence.quotes``), once each, in the order the answer first uses them; a
    citation no sentence says its spans for keeps its own.

    Args:
        citations: the citations, by their current numbers.
        sentences: the answer's sentences, citing those numbers.
    """
    gathered: dict[int, dict[str, None]] = {}
    for s in sentences:
        for n in s.citations if s.supported else ():
            gathered.setdefault(n, {}).update(dict.fromkeys(s.quotes.get(n, ())))
    out = []
    for c in citations:
        quotes = list(gathered.get(c.n, ()))
        out.append(c.model_copy(update={"quote": quotes[0], "quotes": quotes}) if quotes else c)
    return out

"""Does retrieval support an answer at all? Decided before any text is generated.

Two signals: the best passage's cosine similarity to the question (dense), and the
share of the question's content words that the top passages contain (coverage). A
question about a party, a budget or a statistic the documents never mention finds
topically similar passages (high similarity) that lack its key words (low coverage).
Coverage is only used for Dutch questions: an English question shares no words with
Dutch passages, and there the cross-lingual dense score decides alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.analysis import analyse
from assistant.settings import Settings
from assistant.types import Passage

# Question words and generic words of this domain, which say nothing about the topic.
_GENERIC = set(
    analyse(
        "hoeveel welke welk wanneer waarom hoe wie wat waar kan kun mag moet wordt worden "
        "zijn is heeft hebben gaat gaan doet doen komt staat geef graag vertel uitleg "
        "gemeente gemeenten ik mijn we wij u jullie iets er over",
        compounds=False,
    )
)
TOP_PASSAGES = 3


@dataclass
class Answerability:
    """The evidence for answering, and the decision."""

    dense: float
    coverage: float
    missing: list[str]
    answerable: bool
    reason: str


def content_terms(question: str) -> list[str]:
    return [t for t in dict.fromkeys(analyse(question, compounds=False)) if t not in _GENERIC]


def coverage(question: str, passages: Sequence[Passage]) -> tuple[float, list[str]]:
    """Share of the question's content stems found in the top passages, and the missing ones."""
    terms = content_terms(question)
    if not terms:
        return 1.0, []
    seen: set[str] = set()
    for p in passages[:TOP_PASSAGES]:
        c = p.chunk
        seen.update(analyse(f"{c.title} {c.section} {c.text}", compounds=True))
    missing = [t for t in terms if t not in seen]
    return 1.0 - len(missing) / len(terms), missing


def assess(
    question: str, passages: Sequence[Passage], language: str, settings: Settings
) -> Answerability:
    """Decide whether the passages can answer the question.

    Args:
        question: the standalone question.
        passages: retrieved passages, best first.
        language: the question's language.
        settings: refusal_threshold (minimum similarity), confident_threshold (similarity
            above which coverage is not needed) and min_coverage.
    """
    dense = max((p.dense_score or 0.0 for p in passages), default=0.0)
    cov, missing = coverage(question, passages) if language == "nl" else (1.0, [])
    if dense < settings.refusal_threshold:
        return Answerability(dense, cov, missing, False, "no_relevant_passage")
    if dense < settings.confident_threshold and cov < settings.min_coverage:
        return Answerability(dense, cov, missing, False, "key_terms_missing")
    return Answerability(dense, cov, missing, True, "")


_QUANTITY = (
    "hoeveel",
    "how much",
    "how many",
    "welk bedrag",
    "hoe groot",
    "hoe vaak",
    "percentage",
)


def expects_number(question: str) -> bool:
    """Questions of quantity are only answered by a sentence that holds a number."""
    q = question.lower()
    return any(marker in q for marker in _QUANTITY)

"""A question as the pipeline reads it, analysed once and passed from stage to stage.

Each rule for reading a question lives in one place: its words (analysis.py), its
content words (here), the kind of answer it asks for (answer_kinds.py), the articles it
names (analysis.py) and its language (language.py). `Question.read` applies them all
once; the stages (answerability, extractive, focus, answer kinds, retrieval) take the
Question, and still accept a plain string for callers outside the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from assistant.analysis import analyse, article_references
from assistant.answer_kinds import AnswerKind, expected_kind
from assistant.language import detect

if TYPE_CHECKING:
    from assistant.store import Filters

# Question words and generic words of this domain, which say nothing about the topic.
_GENERIC = set(
    analyse(
        "hoeveel welke welk wanneer waarom hoe wie wat waar kan kun mag moet wordt worden "
        "zijn is heeft hebben gaat gaan doet doen komt staat geef graag vertel uitleg "
        "gemeente gemeenten ik mijn we wij u jullie iets er over laat tijd precies eigenlijk "
        "zelf extra nog ook wel graag weten willen wil dit deze stuk document documenten "
        "what who which how when where why does do did can could should would tell about "
        # Common verbs in any form: they ask, they do not name a topic.
        "geeft geven gegeven gaf staan stond gestaan gaat ging gegaan komen kwam gekomen "
        "maakt maken gemaakt zegt zeggen gezegd krijgt krijgen gekregen hebt had hadden "
        "was waren werd werden zal zullen zou zouden kon konden moest mocht wilde weet "
        "weten ziet zien vindt vinden noemt noemen genoemd houdt houden betekent betekenen "
        "gebeurt gebeuren speelt spelen regelt regelen",
        compounds=False,
    )
)


def content_terms(text: str) -> list[str]:
    """The stems of a question that name its topic (no question words, no generic verbs),
    each once, in order: what the passages must cover (answerability)."""
    return [t for t in dict.fromkeys(analyse(text, compounds=False)) if t not in _GENERIC]


def query_terms(text: str) -> list[str]:
    """Every analysed term of a question (with compound parts and article tokens), each
    once, in order: what sentences are weighed by (extractive, focus)."""
    return list(dict.fromkeys(analyse(text)))


@dataclass(frozen=True)
class Question:
    """One question, read once.

    Attributes:
        text: the question as it is answered (asked, or rewritten to stand alone).
        language: ISO 639-1 code of the language it was asked in.
        terms: `query_terms` of the text.
        content_terms: `content_terms` of the text.
        kind: the kind of answer it asks for (answer_kinds.expected_kind), or None.
        article_refs: the articles it names, in the analyser's form ("artikel13b").
        filters: municipality, document type and date range of the search (None: all).
    """

    text: str
    language: str
    terms: tuple[str, ...]
    content_terms: tuple[str, ...]
    kind: AnswerKind | None
    article_refs: tuple[str, ...]
    filters: Filters | None = None

    @classmethod
    def read(
        cls, text: str, language: str | None = None, filters: Filters | None = None
    ) -> Question:
        """Read a question.

        Args:
            text: the question.
            language: its language when already known; detected from the text when None.
            filters: the search filters that go with it.
        """
        return cls(
            text=text,
            language=language or detect(text),
            terms=tuple(query_terms(text)),
            content_terms=tuple(content_terms(text)),
            kind=expected_kind(text),
            article_refs=tuple(article_references(text)),
            filters=filters,
        )

    def rephrased(self, text: str) -> Question:
        """The same question in other words (a follow-up made standalone): read anew,
        keeping the language it was asked in and its filters; itself when unchanged."""
        if text == self.text:
            return self
        return replace(Question.read(text, self.language), filters=self.filters)

"""Focused passages for an LLM prompt: the sentences of each passage that bear on the question.

On two CPU cores the local model reads a prompt at about 70 tokens/s, so five whole
900-character passages (about 1,600 prompt tokens) cost over 20 s before the first
token. Each passage is cut to its sentences that share the question's rarest words,
in their original order, within a character budget. The model reads less and less
that is beside the point; the citation check still works on the whole chunk, because
every kept sentence is a verbatim span of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assistant.analysis import analyse
from assistant.answer_kinds import AnswerKind, has_kind
from assistant.question import Question
from assistant.sentences import sentence_units
from assistant.types import Passage

GAP = " … "
TYPE_BONUS = 1.3  # a sentence holding the kind of answer asked for (a time, a number)


def focus_passages(
    question: str | Question,
    passages: Sequence[Passage],
    budget: int,
    idf: Callable[[Sequence[str]], dict[str, float]] | None = None,
) -> list[str]:
    """The text the model sees for each passage (same order and numbering).

    Args:
        question: the standalone question (a plain string is read here).
        passages: retrieved passages, best first.
        budget: characters per passage; 0 keeps whole passages (with their context).
        idf: inverse document frequency over the index (Store.idf); without it every
            question word weighs the same.
    """
    whole = [_whole(p) for p in passages]
    if budget <= 0:
        return whole
    if isinstance(question, str):
        question = Question.read(question)
    qterms = list(question.terms)
    weights = idf(qterms) if idf and qterms else dict.fromkeys(qterms, 1.0)
    kind, asked = question.kind, question.text
    return [
        text if len(text) <= budget else _focus(p.chunk.text, weights, kind, asked, budget)
        for p, text in zip(passages, whole, strict=True)
    ]


def _whole(p: Passage) -> str:
    text = p.chunk.text.strip()
    if p.context_before:
        text = f"(…{p.context_before}) {text}"
    if p.context_after:
        text = f"{text} ({p.context_after}…)"
    return text


def _focus(
    text: str, weights: dict[str, float], kind: AnswerKind | None, question: str, budget: int
) -> str:
    units = [u.text for u in sentence_units(text)]
    if not units:
        return text[:budget]
    scores = []
    for i, unit in enumerate(units):
        terms = set(analyse(unit))
        score = sum(w for t, w in weights.items() if t in terms)
        if kind and score and has_kind(unit, kind, question):
            score *= TYPE_BONUS
        scores.append((score, -i))  # ties: the earlier sentence first
    order = sorted(range(len(units)), key=lambda i: scores[i], reverse=True)
    if scores[order[0]][0] == 0:  # no shared word (another language): read from the top
        order = list(range(len(units)))
    kept: list[int] = []
    used = 0
    for i in order:
        size = len(units[i]) + len(GAP)
        if kept and used + size > budget:
            continue
        kept.append(i)
        used += size
    return _join(units, sorted(kept), budget)


def _join(units: list[str], kept: list[int], budget: int) -> str:
    parts: list[str] = []
    for n, i in enumerate(kept):
        if n and i != kept[n - 1] + 1:
            parts.append(GAP.strip())
        parts.append(units[i])
    if kept[0] != 0:
        parts.insert(0, GAP.strip())
    if kept[-1] != len(units) - 1:
        parts.append(GAP.strip())
    text = " ".join(parts)
    # One very long sentence (or list) alone may pass the budget; cut at a word boundary.
    limit = budget * 2
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"

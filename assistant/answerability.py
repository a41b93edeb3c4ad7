"""Does retrieval support an answer at all? Decided before any text is generated.

Two signals: the best passage's cosine similarity to the question (dense), and the
share of the question's content words that the top passages contain (coverage). A
question about a party, a budget or a statistic the documents never mention finds
topically similar passages (high similarity) that lack its key words (low coverage).
A third signal sharpens coverage: a missing content word that no indexed chunk holds
at all ("paspoort", "telefoonnummer") means the documents cannot speak to it, and a name
the question gives that no chunk holds ("de gemeente Lelystad", "de CDA-fractie") says so
more surely than an ordinary word: the documents never mention what is asked about.
Coverage is only used for Dutch questions: an English question shares no words with
Dutch passages, and there the cross-lingual dense score decides alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant.analysis import MONTHS_NL, WEEKDAYS_NL, analyse, file_words
from assistant.answer_kinds import asked_noun, covered
from assistant.question import Question, content_terms
from assistant.settings import Settings
from assistant.types import Passage, RefusalReason

TOP_PASSAGES = 3

# A name in a Dutch question: a word written with a capital after the first word of a
# sentence (Dutch capitalises only names and acronyms mid-sentence), or its capitalised
# part ("CDA" in "CDA-fractie"). Month and day names are left out: residents capitalise
# them, and a date is not what a question is about.
_NAME = re.compile(r"(?<![\w'’-])[A-Z][^\W_]*")
_SENTENCE_END = re.compile(r"[.?!:]\s*$")
_NOT_NAMES = frozenset(MONTHS_NL + WEEKDAYS_NL)


@dataclass
class Answerability:
    """The evidence for answering, and the reason it gives to refuse (None: answerable)."""

    dense: float
    coverage: float
    missing: list[str]
    answerable: bool
    reason: RefusalReason | None
    unknown: list[str] = field(default_factory=list)
    unknown_names: list[str] = field(default_factory=list)
    unknown_asked: str = ""


def coverage(question: str | Question, passages: Sequence[Passage]) -> tuple[float, list[str]]:
    """Share of the question's content stems found in the top passages, and the missing ones."""
    terms = content_terms(question) if isinstance(question, str) else list(question.content_terms)
    if not terms:
        return 1.0, []
    seen: set[str] = set()
    for p in passages[:TOP_PASSAGES]:
        c = p.chunk
        seen.update(analyse(f"{c.title} {c.section} {c.text}", compounds=True))
    missing = [t for t in terms if not covered(t, seen)]
    return 1.0 - len(missing) / len(terms), missing


def unknown_terms(
    missing: Sequence[str], frequency: Callable[[Sequence[str]], dict[str, int]] | None
) -> list[str]:
    """Missing content words that no indexed chunk holds (numbers and short words aside)."""
    words = [t for t in missing if len(t) >= 4 and not t.isdigit()]
    if not words or frequency is None:
        return []
    df = frequency(words)
    return [t for t in words if df.get(t, 0) == 0]


def names(question: str) -> list[str]:
    """The names a Dutch question gives: capitalised words that do not start a sentence.

    Args:
        question: the question as typed.

    Returns:
        The names in order of appearance, as written ("Lelystad", "CDA").
    """
    found = []
    for m in _NAME.finditer(question):
        before = question[: m.start()]
        if not before.strip() or _SENTENCE_END.search(before):
            continue
        if m.group().lower() not in _NOT_NAMES:
            found.append(m.group())
    return found


def unknown_names(
    question: str,
    frequency: Callable[[Sequence[str]], dict[str, int]] | None,
    passages: Sequence[Passage] = (),
) -> list[str]:
    """Names of a Dutch question of which no indexed chunk holds any analysed term, nor
    the title or file name of a retrieved passage's document (a question may name an
    advice by its author's abbreviation, "ACICT", that only the file name carries).

    Args:
        question: the question as typed.
        frequency: chunk counts of analysed terms over the whole index.
        passages: the retrieved passages, whose document titles and file names count.
    """
    if frequency is None:
        return []
    documents = " ".join(f"{p.chunk.title} {file_words(p.chunk.source)}" for p in passages)
    named = set(analyse(documents, compounds=False))
    terms = {
        name: ts
        for name in names(question)
        if not (ts := analyse(name, compounds=False)) or not named.intersection(ts)
    }
    everything = sorted({t for ts in terms.values() for t in ts})
    df = frequency(everything) if everything else {}  # one lookup for all names
    return [name for name, ts in terms.items() if ts and not any(df.get(t, 0) for t in ts)]


# A name in more than this share of the indexed chunks is the collection's setting
# ("Nederland" in the national FAQ), not what a question is about.
NAME_SETTING_SHARE = 0.05


def unanswered_names(
    question: str,
    scopes: Sequence[str],
    frequency: Callable[[Sequence[str]], dict[str, int]] | None,
    index_chunks: int | None,
) -> list[str]:
    """The names of a Dutch question when the chosen sentences' scopes hold none of them.

    "Wat vindt de CDA-fractie van de gekozen thema's?" answered from a passage on the
    themes that never mentions the CDA, or "Wie wint de verkiezingen in Urk?" from a
    national page on elections, is an answer about something else: the documents were
    found for the question's other words. A name is enough when it stands anywhere in a
    chosen sentence's scope (its chunk, heading, document title or file name): a passage
    need not repeat its document's subject.

    Args:
        question: the question as typed.
        scopes: for each chosen sentence, the text it answers within (see above).
        frequency: chunk counts of analysed terms over the whole index; with
            ``index_chunks`` it leaves out names in more than NAME_SETTING_SHARE of the
            chunks. Without them every name counts.
        index_chunks: how many chunks the index holds.

    Returns:
        The distinguishing names as written, or [] when one of them is in scope or the
        question gives none.
    """
    terms = {name: analyse(name, compounds=False) for name in names(question)}
    terms = {name: ts for name, ts in terms.items() if ts}
    if terms and frequency is not None and index_chunks:
        df = frequency(sorted({t for ts in terms.values() for t in ts}))
        limit = NAME_SETTING_SHARE * index_chunks
        terms = {name: ts for name, ts in terms.items() if max(df.get(t, 0) for t in ts) <= limit}
    if not terms:
        return []
    seen = set(analyse(" ".join(scopes), compounds=True))
    if any(covered(t, seen) for ts in terms.values() for t in ts):
        return []
    return list(terms)


def unknown_asked(
    question: str, frequency: Callable[[Sequence[str]], dict[str, int]] | None
) -> str:
    """The noun a Dutch which-question asks for when no indexed chunk holds it ("Welk
    risiconiveau kent Bureau Veritas toe ...?" where no document speaks of a risk level):
    the documents cannot say which; "" otherwise or without the index."""
    noun = asked_noun(question)
    if not noun or frequency is None or len(noun) < 4:
        return ""
    return noun if frequency([noun]).get(noun, 0) == 0 else ""


def refusal_reason(
    dense: float,
    coverage: float,
    unknown: Sequence[str],
    settings: Settings,
    unknown_names: Sequence[str] = (),
    unknown_asked: str = "",
) -> RefusalReason | None:
    """Why the evidence does not support an answer (None when it does). Pure, so that the
    calibration benchmark grades exactly this rule. A name no chunk holds weighs as much as
    several unknown words; an asked-for noun no chunk holds refuses at any similarity."""
    if dense < settings.refusal_threshold:
        return RefusalReason.NO_RELEVANT_PASSAGE
    if unknown_asked:
        return RefusalReason.UNKNOWN_TERMS
    if dense < settings.confident_threshold and coverage < settings.min_coverage:
        return RefusalReason.KEY_TERMS_MISSING
    if (unknown and dense < settings.unknown_term_threshold) or (
        (len(unknown) >= 2 or unknown_names) and dense < settings.unknown_terms_threshold
    ):
        return RefusalReason.UNKNOWN_TERMS
    return None


def assess(
    question: str | Question,
    passages: Sequence[Passage],
    language: str,
    settings: Settings,
    frequency: Callable[[Sequence[str]], dict[str, int]] | None = None,
    index_chunks: int | Callable[[], int] | None = None,
) -> Answerability:
    """Weigh whether the passages can answer the question; the pipeline decides on the
    returned reason.

    Args:
        question: the standalone question (a plain string is analysed here).
        passages: retrieved passages, best first.
        language: the question's language.
        settings: refusal_threshold (minimum similarity), confident_threshold (similarity
            above which coverage is not needed), min_coverage, and the similarities below
            which one or several words unknown to the index refuse.
        frequency: chunk counts of analysed terms over the whole index
            (Store.document_frequency); without it the unknown-word signal is off.
        index_chunks: how many chunks the index holds (or a callable asked only when the
            unknown-word rule could decide); below settings.unknown_terms_min_chunks the
            unknown-word and unknown-asked-noun signals are off (the unknown-name
            signal is not).
    """
    dense = max((p.dense_score or 0.0 for p in passages), default=0.0)
    text = question if isinstance(question, str) else question.text
    if not content_terms(text):
        # "?", "Wat is dat?": nothing to look for, so any passage found is found by chance.
        reason = RefusalReason.NO_RELEVANT_PASSAGE
        return Answerability(dense, 0.0, [], False, reason, [], [], "")
    cov, missing = coverage(question, passages) if language == "nl" else (1.0, [])
    unknown: list[str] = []
    unknown_name_list: list[str] = []
    asked = ""
    sizes: list[int | None] = []  # the index size, asked at most once

    def large() -> bool:
        if not sizes:
            sizes.append(index_chunks() if callable(index_chunks) else index_chunks)
        return sizes[0] is None or sizes[0] >= settings.unknown_terms_min_chunks

    could_decide = missing and dense < max(
        settings.unknown_term_threshold, settings.unknown_terms_threshold
    )
    if could_decide:
        if large():
            unknown = unknown_terms(missing, frequency)
        # A name is not an ordinary word that a small index may lack by chance: the rule
        # holds for an index of any size.
        if language == "nl":
            unknown_name_list = unknown_names(text, frequency, passages)
    # The asked-for noun is an ordinary word: only a large index is asked about it.
    if language == "nl" and asked_noun(text) and large():
        asked = unknown_asked(text, frequency)
    reason = refusal_reason(dense, cov, unknown, settings, unknown_name_list, asked)
    return Answerability(dense, cov, missing, not reason, reason, unknown, unknown_name_list, asked)

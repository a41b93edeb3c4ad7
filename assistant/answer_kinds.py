"""Expected answer kinds: what a sentence must hold to answer a question of that kind.

"Hoeveel geld is er begroot?" is only answered by a sentence with an amount of money,
"Wat is het telefoonnummer van ...?" only by one with a phone number or address. The
passages of an on-topic question that the documents do not answer are similar to it
and share its words; what they lack is the kind of thing asked for. The extractive
sentence picker and the prompt focusing prefer sentences of the expected kind, and for
the strict kinds (amounts, quantities, contact details) an answer without one is
refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from assistant.question import Question

AnswerKind = Literal["time", "contact", "money", "number", "date", "person"]

# Question cues per kind, tried in this order (the first that matches decides). Dutch
# and English in full; the quantity and money cues also in the other languages residents
# ask in (German, French, Spanish, Turkish, Polish, Ukrainian, Arabic).
# Polish "ile" only before money ("ile pieniędzy"): in Turkish "ile" means "with".
_HOW_MANY = (
    r"wie ?viele?|combien|cu[aá]nt[oa]s?|ne kadar|kaç|ilu|ile(?=\s+(?:pieni|koszt|wyda))|"
    r"скільки|сколько|كم"
)
_ASKS_AMOUNT = re.compile(
    rf"\b(hoeveel|how much|how many|hoe groot|hoe hoog|welk bedrag|what amount|{_HOW_MANY})\b"
    r"|\b(wat (is|was|zijn|waren)|what (is|was|are|were)) (het|de|the) (\w+ )?"
    r"(budget|bedrag|begroting|kosten|costs?|amount|prijs|price)\b"
)
_MONEY_WORD = re.compile(
    r"\b(geld|budget\w*|begro\w*|bedrag\w*|kost(?:en|t|te|ten)?|euro'?s?|subsidie\w*|uitgegeven|"
    r"besteed|money|cost\w*|spen[dt]\w*|funding|"
    r"geldes|ausg\w*geben|kostet|argent|co[uû]t\w*|d[ée]pens\w*|dinero|presupuesto|cuesta|"
    r"gastos?|gasta|gastan|bütçe\w*|harc\w*|maliyet\w*|pieni\w+|budżet\w*|koszt\w*|wyda\w*|грош\w*|"
    r"бюджет\w*|кошт\w*|витрача\w*|مال|ميزانية|تكلف\w*|[تي]نفق)\b"
)
# "Hoeveel tijd kost het?" asks for a duration, not an amount of money.
_DURATION = re.compile(r"\b(tijd|uur|uren|minuten|dagen|weken|maanden|jaren|time|hours|days)\b")
_CUES: list[tuple[AnswerKind, re.Pattern[str]]] = [
    ("time", re.compile(r"\b(hoe laat|what time|om hoeveel uur|hoe vroeg|hoe lang duurt)\b")),
    ("contact", re.compile(
        r"\b(telefoonnummer\w*|phone numbers?|e-?mail\s?-?adres\w*|mailadres\w*|"
        r"e-?mail address(es)?)\b"
    )),
    ("money", re.compile(r"\b(wat kost\w*|hoe duur|welk bedrag|what does \w+( \w+)? cost)\b")),
    ("number", re.compile(
        r"\b(hoeveel|how much|how many|hoe groot|hoe vaak|percentage|welk aantal|het aantal|"
        r"wie ?viele?|combien|cu[aá]nt[oa]s?|ne kadar|kaç|скільки|сколько|كم)\b"
    )),
    ("date", re.compile(
        r"\b(wanneer|when|welke datum|in welk jaar|welk jaar|what date|what year)\b"
    )),
    ("person", re.compile(r"\b(wie|bij wie|door wie|met wie|who|which person)\b")),
]  # fmt: skip

# Kinds whose absence means the documents do not say it: refuse rather than quote
# something near.
STRICT: frozenset[AnswerKind] = frozenset({"money", "number", "contact"})

_NUMBER_WORDS = re.compile(
    r"\b(één|eén|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|"
    r"vijftien|twintig|dertig|veertig|vijftig|honderd|duizend|miljoen|miljard|"
    r"tweetal|drietal|viertal|vijftal|zestal|tiental|dozijn|helft|kwart|"
    r"two|three|four|five|six|seven|eight|nine|twelve|twenty|hundred|thousand|"
    r"million|billion|half)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*%?")
_CLOCK = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
_YEAR = re.compile(r"^(19|20)\d{2}$")
_YEAR_QUESTION = re.compile(r"\b(jaar|jaren|years?)\b", re.IGNORECASE)
_MONEY = re.compile(r"€|\b(euro'?s?|eur|miljoen|miljard|million|billion|dollars?)\b", re.IGNORECASE)
_CONTACT = re.compile(
    r"(\+31|\b0\d{1,3})[\s-]?\d[\d\s-]{5,}\d"  # Dutch phone numbers
    r"|\b14\s?0\d{3}\b"  # municipal short numbers (14 0321)
    r"|[\w.+-]+@[\w-]+\.[\w.]+"  # e-mail
    r"|\b(www\.|https?://)\S+",
    re.IGNORECASE,
)
_DAY = re.compile(r"\b\d{1,2}-\d{1,2}-\d{2,4}\b")  # 01-03-2024 is a date, not a phone number
_TIME = re.compile(rf"{_CLOCK.pattern}|\b\d{{1,2}}\s*uur\b")
_DATE = re.compile(
    r"\d|\b(januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|"
    r"november|december|voorjaar|najaar|zomer|winter|jaar|week|maand)\b",
    re.IGNORECASE,
)
_PERSON = re.compile(r"\b[A-Z]\.(?:[A-Z]\.)*\s*[A-Z][a-z]+|\b[A-Z][a-z]+\s+[A-Z][a-z]+\b")


def expected_kind(question: str) -> AnswerKind | None:
    """The kind of answer a question asks for: time, contact, money, number, date,
    person, or None (read once per question: `Question.kind`)."""
    q = question.lower()
    if _ASKS_AMOUNT.search(q) and _MONEY_WORD.search(q) and not _DURATION.search(q):
        return "money"
    for kind, cue in _CUES:
        if cue.search(q):
            return kind
    return None


def has_kind(text: str, kind: AnswerKind | None, question: str = "") -> bool:
    """Whether a sentence holds an answer of the expected kind (always True for None).

    For a quantity, the numbers the question itself names ("het IVB 2024-2027"), clock
    times and years (unless the question is about years) do not count.
    """
    if kind is None:
        return True
    if kind == "number":
        return _has_quantity(text, question)
    if kind == "money":
        return bool(_MONEY.search(text))
    if kind == "contact":
        return bool(_CONTACT.search(_DAY.sub(" ", text)))
    if kind == "time":
        return bool(_TIME.search(text))
    if kind == "date":
        return bool(_DATE.search(text))
    return bool(_PERSON.search(text))


def _has_quantity(text: str, question: str) -> bool:
    if _NUMBER_WORDS.search(text):
        return True
    asked = set(_NUMBER.findall(question))
    years_count = bool(_YEAR_QUESTION.search(question))
    for number in _NUMBER.findall(_CLOCK.sub(" ", text)):
        bare = number.rstrip("%")
        if bare in asked or number in asked:
            continue
        if not years_count and all(_YEAR.match(part) for part in re.split(r"[.,]", bare)):
            continue
        return True
    return False


def answers_kind(question: str | Question, texts: Sequence[str]) -> bool:
    """Whether the answer sentences hold what a strict kind of question asks for.

    Args:
        question: the question (its text is analysed when it is a plain string).
        texts: the answer's sentences.
    """
    if isinstance(question, str):
        text, kind = question, expected_kind(question)
    else:
        text, kind = question.text, question.kind
    if kind not in STRICT:
        return True
    return any(has_kind(t, kind, text) for t in texts)

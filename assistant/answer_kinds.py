"""Expected answer kinds: what a sentence must hold to answer a question of that kind,
and whether the value it holds is about what was asked (attachment).

"Hoeveel geld is er begroot?" is only answered by a sentence with an amount of money,
"Wat is het telefoonnummer van ...?" only by one with a phone number or address. The
passages of an on-topic question that the documents do not answer are similar to it
and share its words; what they lack is the kind of thing asked for. The extractive
sentence picker and the prompt focusing prefer sentences of the expected kind, and for
the strict kinds (amounts, quantities, contact details) an answer without one is
refused.

A value of the right kind is not yet an answer: "Hoeveel boa's zet Urk in?" is not
answered by "Urk reserveert 60.000 euro voor de inzet van boa's" (an amount, not a count
of boa's), nor "Hoeveel kost e-KS?" by "Abacus heeft een budget van € 7 miljoen". A value
is *attached* to the question's subject when the words around it name that subject:
`attachment` scores a sentence by its best value, as the share of the question's subject
words (the analysed stems of its content words, the kind's own cue words left out) that
stand within a window of the value, words found only in the sentence's context (its
heading, the sentence before, a table row's header) counting half. For a count the
counted noun ("boa's" in "hoeveel boa's") must be the value's own noun: next to it
("vier straatcoaches", "Woninginbraken 2023: 37"), or named as what the sentence counts
("het aantal fietsendiefstallen ... 58"), and a percentage or an amount of money counts
nothing but percent or money.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from assistant.analysis import MONTHS_NL, analyse, fold

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
    r"\b(geld|budget\w*|begro\w*|bedrag\w*|(?:ge)?kost(?:en|t|te|ten)?|euro'?s?|subsidie\w*|uitgegeven|"
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


# A dotted number with a group of other than three digits is a version or section number
# ("2.1", "4.1.1"), not a quantity: Dutch writes thousands as "42.000" and decimals with
# a comma.
def _is_section_number(number: str) -> bool:
    groups = number.split(".")
    return len(groups) > 1 and any(len(g) != 3 for g in groups[1:])


_YEAR_QUESTION = re.compile(r"\b(jaar|jaren|years?)\b", re.IGNORECASE)
_MONEY = re.compile(r"€|\b(euro'?s?|eur|miljoen|miljard|million|billion|dollars?)\b", re.IGNORECASE)
_PHONE = (
    r"(\+31|\b0\d{1,3})[\s-]?\d[\d\s-]{5,}\d"  # Dutch phone numbers
    r"|\b14\s?0\d{3}\b"  # municipal short numbers (14 0321)
)
_EMAIL = r"[\w.+-]+@[\w-]+\.[\w.]+"
_CONTACT = re.compile(rf"{_PHONE}|{_EMAIL}|\b(www\.|https?://)\S+", re.IGNORECASE)
# A question for a phone number is not answered by a web address, nor the reverse.
_CONTACT_ASKED = [
    (re.compile(r"\b(telefoon\w*|bellen|phone)\b", re.IGNORECASE), re.compile(_PHONE)),
    (re.compile(r"\b(e-?mail\w*|mailadres\w*)\b", re.IGNORECASE), re.compile(_EMAIL)),
]


def _contact_value(question: str) -> re.Pattern[str]:
    """The pattern of the contact details a question asks for (any kind when unsaid)."""
    return next((value for cue, value in _CONTACT_ASKED if cue.search(question)), _CONTACT)


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
        return bool(_contact_value(question).search(_DAY.sub(" ", text)))
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


# -- attachment: is the value about what was asked? ---------------------------------------

# Which questions need an attached value: `needs_attachment`. A person question does not:
# "Wie ...?" is mostly answered by a role ("de burgemeester"), which has no form a pattern
# can tell from any other noun.
WINDOW = 12  # content words (stop words and bare digits not counted) on either side of a
# value that name what it is about
FOCUS_WINDOW = 3  # words on either side that may be a count's own noun
CONTEXT_WEIGHT = 0.5  # a subject word only in the heading or the sentence before

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_COUNT_CUE = re.compile(
    r"\b(?:hoeveel|how many|how much|welk aantal|het aantal|aantal)\s+"
    r"((?:[^\W\d_]+['’]?s?\s*){1,3})",
    re.IGNORECASE,
)
_PERCENT_UNIT = re.compile(r"^\s*(%|procent|percent|procentpunt)", re.IGNORECASE)
_MONEY_UNIT = re.compile(r"^\s*(miljoen|miljard|duizend)?\s*(euro|eur)\b", re.IGNORECASE)
_MONEY_BEFORE = re.compile(r"€\s*$")
_MAGNITUDE = re.compile(r"^\s*(miljoen|miljard|duizend)\b", re.IGNORECASE)
# The question's own cue words for a kind say what is asked, not about what.
_CUE_TERMS = frozenset(
    analyse(
        "hoeveel vaak groot aantal getal geld bedrag bedragen budget begroot begroting kosten "
        "kost kostte euro uitgegeven besteed beschikbaar gereserveerd telefoonnummer nummer "
        "e-mailadres emailadres mailadres adres contact bereikbaar datum dag jaar welk "
        "wanneer tijd hoe laat uur totaal ongeveer precies percentage procent how many much "
        "money cost phone email date year when often",
        compounds=False,
    )
)
_SMALL_WORDS = frozenset(analyse("er zijn is was waren worden wordt de het een", compounds=False))


# A date or time question is held to an attached value only when it asks for one in so
# many words: "Wanneer mag ik Nedersaksisch gebruiken?" asks in which cases, not on which day.
_EXPLICIT_DATE = re.compile(
    r"\b(welke datum|op welke dag|in welk jaar|welk jaar|sinds wanneer|vanaf wanneer|"
    r"tot wanneer|per wanneer|what date|what year|since when)\b",
    re.IGNORECASE,
)
_EXPLICIT_TIME = re.compile(r"\b(hoe laat|om hoeveel uur|what time)\b", re.IGNORECASE)
_DURATION_UNIT = re.compile(
    r"^\s*(seconden|minuten|minuut|uur|uren|dag|dagen|week|weken|maand|maanden|jaar|jaren)\b",
    re.IGNORECASE,
)


# What a date question asks for decides which values answer it: "Op welke datum ...?" a day
# of a month ("18 april 2018", "18-04-2018"; "april 2018" is no date), "In welk jaar ...?" a
# year; "Sinds wanneer ...?" any date.
_MONTHS = "|".join(
    (*MONTHS_NL, "january", "february", "march", "may", "june", "july", "august", "october")
)
_ASKS_DAY = re.compile(r"\b(welke datum|op welke dag|what date|which day)\b", re.IGNORECASE)
_ASKS_YEAR = re.compile(r"\b(in welk jaar|welk jaar|what year|which year)\b", re.IGNORECASE)
_DAY_VALUE = re.compile(
    rf"\b\d{{1,2}}(?:e|ste|de)?\s+(?:{_MONTHS})\b|\b(?:{_MONTHS})\s+\d{{1,2}}\b"
    r"|\b\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)?\d{2}\b",
    re.IGNORECASE,
)
_YEAR_VALUE = re.compile(r"\b(?:19|20)\d{2}\b")


def _date_value(question: str) -> re.Pattern[str]:
    """The pattern of a value that answers a date question (see _ASKS_DAY)."""
    if _ASKS_DAY.search(question):
        return _DAY_VALUE
    if _ASKS_YEAR.search(question):
        return _YEAR_VALUE
    return _DATE


def needs_attachment(question: Question) -> bool:
    """Whether an answer to this question must hold a value attached to its subject: an
    amount, a quantity or contact details; a date or a clock time only when asked for in
    so many words. Only for Dutch questions: the words of another language cannot be
    compared with Dutch text (there the plain answer-kind rule, `answers_kind`, decides)."""
    if question.language != "nl":
        return False
    if question.kind in {"money", "number", "contact"}:
        return True
    if question.kind == "date":
        return bool(_EXPLICIT_DATE.search(question.text))
    if question.kind == "time":
        return bool(_EXPLICIT_TIME.search(question.text))
    return False


def covered(term: str, seen: set[str] | frozenset[str]) -> bool:
    """Whether an analysed term stands in a set of analysed words: the same stem, or a word
    it begins or is part of ('camera' ~ 'cameratoezicht', 'sluit' ~ 'afsluiting')."""
    if term in seen:
        return True
    if len(term) < 4 or term.isdigit():
        return False
    stem = term[:5] if len(term) >= 6 else term
    return any(stem in word for word in seen if len(word) >= len(stem))


_WHICH_CUE = re.compile(
    r"\b(?:welke?|wat voor(?: een)?)\s+((?:[^\W\d_]+['’]?s?\s*){1,3})", re.IGNORECASE
)


def count_focus(question: str) -> tuple[str, ...]:
    """The analysed counted noun of a count question ("Hoeveel boa's zet Urk in?" →
    ("boas",)): the first word after the cue, and the one after it when the first is an
    adjective ("externe specialisten", "mislukte inlogpogingen"); empty when none."""
    return _noun_phrase(_COUNT_CUE.search(question))


def asked_noun(question: str) -> str:
    """The analysed noun a Dutch which-question asks for ("Welk risiconiveau kent ...?" →
    "risiconiveau", "Welke lokale speerpunten ...?" → "speerpunt"); "" when none."""
    phrase = _noun_phrase(_WHICH_CUE.search(question))
    return phrase[-1] if phrase else ""


def _noun_phrase_words(found: re.Match[str] | None) -> list[str]:
    """The words of the noun phrase after a cue as written ("externe specialisten"), by
    the rule of `_noun_phrase`; a verb or stop word after it is not part of it."""
    if not found:
        return []
    out: list[str] = []
    for w in found.group(1).split():
        w = w.strip(" ?!.,")
        if not w or not analyse(w, compounds=False):
            break
        out.append(w)
        if not (fold(w).endswith("e") and len(w) > 4):
            break
    return out


def _noun_phrase(found: re.Match[str] | None) -> tuple[str, ...]:
    """The analysed words of a noun phrase after a cue: its first word, and the next while
    the word is an adjective ending in -e; a stop word ends it."""
    words_ = _noun_phrase_words(found)
    return tuple(dict.fromkeys(t for w in words_ for t in analyse(w, compounds=False)))


# A Dutch question puts its finite verb second, right after the question phrase ("Hoeveel
# geld *trekken* de gemeenten uit", "Hoe laat *begint* de vergadering", "Aan hoeveel
# succescriteria *voldoet* de website"), and with an auxiliary there its participle last
# ("... zijn er in april *gehouden*?"). A verb says what happens to the subject, not which
# subject: "Voor de aanpak van ondermijning *trekt* Dronten 1,2 miljoen euro uit" is not about
# cybercrime because it shares the verb.
_QUESTION_PHRASE = re.compile(
    r"^\s*(?:[^\W\d_]+\s+)?(?:hoeveel|hoe\s+[^\W\d_]+|welke?|wanneer|wat|wie|waar)\b",
    re.IGNORECASE,
)
_FINITE_SHAPE = re.compile(r"(?:t|d|en|\w{3}(?:de|te))$")  # "daalde", not "code"
_AUXILIARY = frozenset(
    re.findall(
        r"\w+",
        "is zijn was waren wordt worden werd werden heeft hebben had hadden zal zullen zou "
        "zouden kan kunnen kon konden moet moeten moest mag mogen mocht wil willen",
    )
)
_PARTICIPLE = re.compile(
    r"^(?:aan|af|op|uit|in|mee|toe|voor|door|over|bij|na|om|terug|vast|vrij)?ge[^\W\d_]{2,}"
    r"(?:d|t|en)$"
)


def question_verbs(question: str) -> tuple[str, ...]:
    """The analysed verbs of a Dutch wh-question: the finite verb in second place (the first
    word of verb shape within two words after the question phrase and its noun), and a
    participle at the end when that verb is an auxiliary; empty when none is found."""
    found = _QUESTION_PHRASE.match(question)
    if not found:
        return ()
    rest = _WORD.findall(question[found.end() :])
    nouns = len(count_focus(question)) if re.search(r"hoeveel|welke?\b", found.group(), re.I) else 0
    verbs: list[str] = []
    finite = ""
    for w in rest[nouns : nouns + 2]:
        low = fold(w)
        if low in _AUXILIARY or (w[:1].islower() and _FINITE_SHAPE.search(low)):
            finite = low
            verbs.extend(analyse(w, compounds=False))
            break
    participle = finite in _AUXILIARY and rest and _PARTICIPLE.match(fold(rest[-1]))
    if rest and (participle or _clause_final_infinitive(rest)):
        verbs.extend(analyse(rest[-1], compounds=False))
    return tuple(dict.fromkeys(verbs))


# Words after which a final "-en" word is a noun ("van de woninginbraken"), not a verb.
_BEFORE_NOUN = frozenset(
    re.findall(
        r"\w+",
        "de het een van voor aan in op met bij naar om over door uit tot onder tegen zonder "
        "die dat deze dit onze hun mijn uw zijn haar alle geen veel weinig meer andere",
    )
)


def _clause_final_infinitive(words_: Sequence[str]) -> bool:
    """Whether the last word is the infinitive that closes a clause with a modal or an
    auxiliary ("... als ik de vergadering *wil volgen*", "Hoeveel posten *wil* de coalitie
    in Aa en Hunze *behouden*"): Dutch puts it last; a plural noun there follows an
    article, a preposition or an adjective ("voor de aanpak van woninginbraken")."""
    last, before = words_[-1], fold(words_[-2]) if len(words_) > 1 else ""
    if not (last[:1].islower() and fold(last).endswith("en") and len(last) > 4):
        return False
    if not any(fold(w) in _AUXILIARY for w in words_[:-1]):
        return False
    adjective = words_[-2][:1].islower() and before.endswith("e")
    return not (before in _BEFORE_NOUN or adjective)


def subject_terms(question: Question) -> tuple[str, ...]:
    """The question's content stems that say what it is about (its kind's cue words, its
    counted noun and its verbs left out)."""
    focus = set(count_focus(question.text)) if question.kind == "number" else set()
    verbs = set(question_verbs(question.text)) if question.language == "nl" else set()
    return tuple(
        t
        for t in question.content_terms
        if t not in _CUE_TERMS and t not in focus and t not in verbs
    )


def value_spans(text: str, kind: AnswerKind | None, question: str = "") -> list[tuple[int, int]]:
    """Character spans of the values of a kind in a sentence (see `has_kind` for which
    values count), in order."""
    if kind is None:
        return []
    if kind == "number":
        spans = [m.span() for m in _NUMBER_WORDS.finditer(text)]
        asked = set(_NUMBER.findall(question))
        years_count = bool(_YEAR_QUESTION.search(question))
        clocks = [m.span() for m in _CLOCK.finditer(text)]
        for m in _NUMBER.finditer(text):
            number, bare = m.group(), m.group().rstrip("%")
            if any(a <= m.start() < b for a, b in clocks) or bare in asked or number in asked:
                continue
            if not years_count and all(_YEAR.match(p) for p in re.split(r"[.,]", bare)):
                continue
            if _is_section_number(number):
                continue  # "succescriterium 4.1.1", "WCAG 2.1" name a thing; they count none
            spans.append(m.span())
        return sorted(spans)
    if kind == "date":
        pattern = _date_value(question)
        return [m.span() for m in pattern.finditer(text)]
    pattern = {
        "money": _MONEY,
        "contact": _contact_value(question),
        "time": _TIME,
        "date": _DATE,
        "person": _PERSON,
    }[kind]
    source = _DAY.sub(lambda m: " " * len(m.group()), text) if kind == "contact" else text
    return [m.span() for m in pattern.finditer(source)]


def _tokens(text: str) -> list[tuple[int, int, list[str]]]:
    """(start, end, analysed stems) of each word of a text."""
    return [(m.start(), m.end(), analyse(m.group())) for m in _WORD.finditer(text)]


def _unit_of(text: str, start: int, end: int) -> str:
    """'percent', 'money' or '' for the value at text[start:end]."""
    after, before = text[end:], text[:start]
    if _PERCENT_UNIT.match(after) or text[start:end].endswith("%"):
        return "percent"
    if _MONEY_UNIT.match(after) or _MONEY_BEFORE.search(before):
        return "money"
    return ""


def _focus_ok(
    text: str, span: tuple[int, int], tokens: list, focus: Sequence[str], question: str
) -> bool:
    """Whether a number counts the question's counted noun."""
    unit = _unit_of(text, *span)
    asks_percent = bool(re.search(r"procent|percent|%", question, re.IGNORECASE))
    if unit == "percent" and not asks_percent:
        return False
    if unit == "money":
        return False  # a count question is not answered by an amount of money
    if asks_percent and unit != "percent":
        return False
    if not focus:
        return True
    if set(focus) & {"tijd", "lang"}:  # "hoeveel tijd": any duration counts
        return bool(_DURATION_UNIT.match(text[span[1] :]))
    idx = [i for i, (s, e, _) in enumerate(tokens) if s < span[1] and e > span[0]]
    if not idx:
        return False
    lo, hi = max(0, idx[0] - FOCUS_WINDOW), idx[-1] + FOCUS_WINDOW + 1
    near = {t for _, _, stems in tokens[lo:hi] for t in stems}
    if any(covered(f, near) for f in focus):
        return True
    # "Het aantal fietsendiefstallen ... daalde naar 58": the sentence names what it counts.
    for i, (_, _, stems) in enumerate(tokens):
        if stems and stems[0] == "aantal":
            named = {t for _, _, st in tokens[i + 1 : i + 3] for t in st}
            if any(covered(f, named) for f in focus):
                return True
    return False


def _question_numbers(question: Question) -> list[str]:
    """The numbers a question names, other than the value it asks for."""
    return [n for n in _NUMBER.findall(question.text) if not n.endswith("%")]


# Numbers that name a thing (a version "2.1", a year "2023"), not an amount.
_IDENTIFIER = re.compile(r"\d+\.\d+(?:\.\d+)*|(?:19|20)\d{2}")


def _shape(number: str) -> str:
    return re.sub(r"\d", "9", number)


def _names_number(number: str, text: str) -> bool:
    return bool(re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d]|[.,]\d)", text))


# A table row as the PDF reader writes it (ingest/readers/pdf_regions.py): the row's label,
# then "header: value" cells ("Dronten – Woninginbraken 2022: 212; Fietsendiefstal 2023:
# 340"). A value belongs to its own cell and the row's label, not to its neighbours' headers.
_TABLE_ROW = re.compile(r"^(?P<label>[^;–]{1,80}?) – (?P<cells>[^;]+:[^;]+(?:; [^;]+:[^;]+)+)$")


def table_cells(text: str) -> list[str]:
    """The cells of a table row with headers, each with the row's label
    ("Dronten – Fietsendiefstal 2023: 340"); [] for any other sentence."""
    m = _TABLE_ROW.match(text.strip())
    if not m:
        return []
    return [f"{m['label']} – {cell}" for cell in m["cells"].split("; ")]


def attachment(
    question: Question,
    text: str,
    context: str = "",
    weights: dict[str, float] | None = None,
) -> float:
    """How well the best value of the question's kind in a sentence is attached to the
    question's subject, in [0, 1]: 1.0 for a question that needs no attachment
    (`needs_attachment`), 0.0 for a sentence without a value of the kind or whose values
    count something else.

    Args:
        question: the question as read (its kind, language, content terms).
        text: one sentence (or table row).
        context: the sentence's heading, the sentence before it and the like: subject
            words found only there count at CONTEXT_WEIGHT.
        weights: weight per analysed subject term (e.g. the index's IDF); equal without.
    """
    kind = question.kind
    if not needs_attachment(question):
        return 1.0
    if cells := table_cells(text):
        return max(attachment(question, cell, context, weights) for cell in cells)
    spans = value_spans(text, kind, question.text)
    if not spans:
        return 0.0
    focus = count_focus(question.text) if kind == "number" else ()
    subject = subject_terms(question)
    tokens = _tokens(text)
    content = [tok for tok in tokens if tok[2]]
    ctx = set(analyse(context)) if context else set()
    # A number the question names (a version "WCAG 2.1", a date "5 oktober", a period
    # "2024-2027") identifies its subject; the analyser drops most of them, so they are
    # read from the raw text: a sentence that holds none of them in itself or its context
    # is about another version, day or period.
    # A sentence that names another number of the same form (WCAG "2.2" where "2.1" was
    # asked, 2022 where 2023 was) is about that one, whatever its heading says.
    for n in _question_numbers(question):
        if not _names_number(n, f"{context} {text}"):
            return 0.0
        if not _names_number(n, text) and _IDENTIFIER.fullmatch(n):
            shape = _shape(n)
            if any(_shape(m) == shape for m in _NUMBER.findall(text)):
                return 0.0
    w = {t: (weights or {}).get(t, 1.0) or 1.0 for t in subject}
    total = sum(w.values())
    best = 0.0
    for span in spans:
        if kind == "number" and not _focus_ok(text, span, tokens, focus, question.text):
            continue
        if not subject:
            return 1.0
        # Counted in content words: "de", "van" and the pieces of "1,2" say nothing of
        # the subject, and would push its words out of a long sentence's window.
        centre = next((i for i, (_, e, _) in enumerate(content) if e > span[0]), len(content))
        lo, hi = max(0, centre - WINDOW), centre + WINDOW + 1
        near = {t for _, _, stems in content[lo:hi] for t in stems}
        # A number the question names (a year, an article) identifies its subject: a
        # value whose surroundings lack it is about another year or article.
        if any(t.isdigit() and t not in near and t not in ctx for t in subject):
            continue
        score = sum(
            w[t] if covered(t, near) else CONTEXT_WEIGHT * w[t] if covered(t, ctx) else 0.0
            for t in subject
        )
        best = max(best, score / total)
    return best


def is_attached(
    question: Question,
    texts: Sequence[str],
    contexts: Sequence[str] | None = None,
    min_attachment: float = 0.5,
    weights: dict[str, float] | None = None,
) -> bool:
    """Whether some sentence holds a value of the question's kind about its subject
    (always True for a question of no attached kind).

    Args:
        question: the question as read.
        texts: the answer's sentences.
        contexts: for each sentence, its heading and the sentence before (or "").
        min_attachment: the least `attachment` that answers (settings.min_attachment).
        weights: weight per analysed subject term (the index's IDF), equal without.
    """
    if not needs_attachment(question):
        return True
    ctxs = contexts or [""] * len(texts)
    return any(
        attachment(question, t, c, weights) >= min_attachment
        for t, c in zip(texts, ctxs, strict=True)
    )


def kind_gap(question: Question, texts: Sequence[str]) -> tuple[str, str] | None:
    """What the documents do hold where a count or amount was asked: (found, asked), e.g.
    ("een bedrag (60.000 euro)", "boa's") or ("het aantal camera's", "boa's"), from the
    first sentence with a value of the kind; None when there is nothing to say."""
    if question.kind not in {"number", "money"} or question.language != "nl":
        return None
    asked = " ".join(_noun_phrase_words(_COUNT_CUE.search(question.text)))
    for text in texts:
        for start, end in value_spans(text, "number", question.text):
            unit = _unit_of(text, start, end)
            if unit == "money":
                # The amount as written: "€ 6 miljoen", "60.000 euro", never a bare "6".
                tail = _MONEY_UNIT.match(text[end:]) or _MAGNITUDE.match(text[end:])
                head = "€ " if _MONEY_BEFORE.search(text[:start]) else ""
                value = head + text[start : end + (tail.end() if tail else 0)].strip()
                return f"een bedrag ({value})", asked
            if unit == "percent":
                return "een percentage", asked
            noun = _WORD.search(text[end:])
            # The word after the number is what it counts only when it is a content word
            # ("15 pagina's"), not a preposition ("83 % bij").
            if (
                noun
                and question.kind == "number"
                and asked
                and analyse(noun.group(), compounds=False)
                and fold(noun.group()) != fold(asked)
            ):
                return f"het aantal {noun.group()}", asked
    return None

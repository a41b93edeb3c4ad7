"""Article references: which articles of which law a question names, and which chunks
hold them.

A question such as "Wat regelt art. 13b, tweede lid, van de Opiumwet?" names an
article ("13b") and a law ("Opiumwet"). A statute's chunk knows its article from its
heading path ("Hoofdstuk 3 > Artikel 13b") and its law from the document title
("Gemeentewet", or the formal "Wet van 12 mei 1928, tot vaststelling van bepalingen
betreffende het opium …"). These rules are structural, not learnt: they are the same for
every law and every phrasing (artikel / artikelen / art. / art, with or without a member
or letter, with the law's name, its abbreviation, or no law at all).
"""

from __future__ import annotations

import re

from assistant.analysis import fold, words

# A number as statutes and bylaws write it: 13b, 5:20 (Awb, APV), 1.1, 2.1.3, 174a.
_NUMBER = r"\d+[a-z]{0,3}(?:[.:]\d+[a-z]{0,3})*"
# "artikel 13b", "art. 174a", "art 8", "artikelen 3, 4 en 5a", "artikel 13 b".
_REFERENCE = re.compile(
    rf"\b(?:artikelen|artikel|art\.?|arts\.|article)\s+((?:{_NUMBER})(?:\s+[a-z](?![a-z]))?"
    rf"(?:\s*(?:,|en|of|t/m|tot en met)\s*(?:{_NUMBER}))*)"
)
_NUMBER_RE = re.compile(_NUMBER)
_SECTION_ARTICLE = re.compile(rf"\bartikel\s+({_NUMBER})\b")
# Words that do not make a law's name (articles, prepositions) when forming its initials.
_MINOR = {"van", "de", "het", "op", "der", "den", "en", "in", "tot", "inzake", "voor", "met",
          "betreffende", "houdende", "door"}  # fmt: skip
# The words a name of a law ends with ("Gemeentewet", "Wetboek", "Woningwet 1991").
_LAW_WORD = re.compile(r"^([a-z]{4,}?)(?:wet|wetboek|besluit|verordening|regeling)$")


def named_articles(text: str) -> list[str]:
    """The article numbers a text names, folded, in order and each once.

    "Wat regelt art. 13b, tweede lid, van de Opiumwet?" → ["13b"];
    "artikelen 3 en 4 Awb" → ["3", "4"]; "artikel 13 b" → ["13b"]; "artikel 5:20" → ["5:20"].

    Args:
        text: a question or any text.
    """
    found: list[str] = []
    for match in _REFERENCE.finditer(fold(text)):
        group = re.sub(r"(\d)\s+([a-z])$", r"\1\2", match.group(1).strip())
        group = re.sub(r"^(\d+)\s+([a-z])(?=\s*(?:,|en|of|$))", r"\1\2", group)
        found += _NUMBER_RE.findall(group)
    return list(dict.fromkeys(found))


def section_article(section: str) -> str | None:
    """The article a chunk belongs to: the last "Artikel N" of its heading path, folded
    ("Hoofdstuk 3 > Artikel 13b" → "13b"), or None."""
    found = _SECTION_ARTICLE.findall(fold(section))
    return found[-1] if found else None


def analysed_reference(number: str) -> str:
    """The keyword-index token of an article number ("5:20" → "artikel5x20"), as
    ``assistant.analysis.analyse`` emits it."""
    return "artikel" + re.sub(r"[.:]", "x", number)


def law_match(question: str, title: str) -> int:
    """How plainly a question names the law with this title.

    2: the title itself ("Gemeentewet", "Wet veiligheidsregio's"; a trailing year may be
    left out) or its initials ("Wom" for "Wet openbare manifestaties"; for titles that
    start with "Wet"/"Wetboek") stand in the question. 1: a law word in the question
    ("Opiumwet") whose stem ("opium") is a word of the title, or at least two thirds of
    the title's main words (at least two) stand in the question. 0: neither.

    Args:
        question: the question.
        title: a document title.
    """
    q_words = words(question)
    t_words = words(title)
    if not t_words or not q_words:
        return 0
    q_text = " " + " ".join(q_words) + " "
    full = " ".join(t_words)
    no_year = " ".join(t_words[:-1]) if t_words[-1].isdigit() and len(t_words) > 1 else full
    if f" {full} " in q_text or (no_year and f" {no_year} " in q_text):
        return 2
    main = [w for w in t_words if w not in _MINOR and not w.isdigit()]
    if len(main) >= 2 and main[0] in {"wet", "wetboek"}:
        initials = "".join(w[0] for w in main)
        if initials in q_words:
            return 2
    for word in q_words:
        stem = _LAW_WORD.match(word)
        if stem and any(t.startswith(stem.group(1)) for t in t_words):
            return 1
    content = [w for w in main if w not in {"wet", "wetboek"} and len(w) > 2]
    hits = sum(1 for w in content if w in q_words)
    if len(content) >= 2 and hits >= 2 and hits * 3 >= 2 * len(content):
        return 1
    return 0

"""Dutch text analysis for the keyword (BM25) index: tokens, stop words, stems, compounds.

The same analyser runs at index time and at query time, so both sides agree.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import PurePath

import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

# Dutch month and weekday names, lower case (dates in answers, names in questions).
MONTHS_NL = (
    "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
    "oktober", "november", "december",
)  # fmt: skip
WEEKDAYS_NL = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_STOP = frozenset(STOPWORDS_DUTCH) | frozenset(STOPWORDS_EN) | {"wat", "welke", "hoe", "waar"}

# Frequent heads and modifiers of Dutch compounds in policy and legal text. Compound
# splitting only adds parts; the whole word is always kept too.
_COMPOUND_PARTS = (
    "veiligheid",
    "beleid",
    "gemeente",
    "burgemeester",
    "bestuur",
    "thema",
    "wet",
    "regio",
    "crimineel",
    "criminaliteit",
    "digitaal",
    "onrust",
    "politie",
    "paspoort",
    "identiteit",
    "verkiezing",
    "vergadering",
    "raad",
    "zorg",
    "plan",
    "dienst",
    "recht",
    "vergunning",
    "openbaar",
    "orde",
)


@lru_cache(maxsize=4)
def _stemmer(algorithm: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(algorithm)


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'thema’s' and 'Thema's' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("’", "'")


def words(text: str) -> list[str]:
    """Folded word tokens, stop words kept."""
    return [t.replace("'", "") for t in _TOKEN.findall(fold(text))]


def file_words(source: str) -> str:
    """The words of a document's file name: "acict-advies-abacus-2025.pdf" →
    "acict advies abacus 2025" (a file name often names what the text never repeats: the
    municipality of a coalition agreement, the body that wrote an advice)."""
    return re.sub(r"[-_.]+", " ", PurePath(source).stem)


def split_compound(word: str) -> list[str]:
    """Known parts of a Dutch compound ('veiligheidsbeleid' → veiligheid, beleid)."""
    parts: list[str] = []
    if len(word) < 9:
        return parts
    for part in _COMPOUND_PARTS:
        idx = word.find(part)
        if idx < 0 or len(part) >= len(word):
            continue
        parts.append(part)
    return parts


def analyse(text: str, stemmer: str = "dutch_porter", compounds: bool = True) -> list[str]:
    """Tokens for the keyword index: folded, stop words removed, stemmed.

    Args:
        text: any Dutch or English text.
        stemmer: a PyStemmer algorithm name ("dutch" or "dutch_porter").
        compounds: also emit known parts of compound words.
    """
    tokens: list[str] = []
    refs = [
        "artikel" + re.sub(r"[.:]", "x", number) + letter
        for number, letter in _ARTICLE_REF.findall(fold(text))
    ]
    for word in words(text):
        if word in _STOP or len(word) < 2:
            continue
        tokens.append(word)
        if compounds:
            tokens.extend(split_compound(word))
    return _stemmer(stemmer).stemWords(tokens) + refs


# "artikel 13b" (or "art. 13b", "artikel 2:48") also gives one token "artikel13b"
# ("artikel2x48": the keyword index splits words at '_', ':' and '.'): far rarer than
# "13b" or "artikel" alone, so a question naming an article finds that article (and the
# texts that refer to it). Article numbers as statutes and bylaws write them: 13b, 2:48
# (APV), 2.1.3; a letter written apart ("artikel 13 b") joins its number, as
# article_refs.named_articles reads it.
_ARTICLE_REF = re.compile(
    r"\b(?:artikel|artikelen|art\.?|article)\s+(\d+[a-z]{0,3}(?:[.:]\d+[a-z]{0,3})*)\b"
    r"(?:\s+([a-z])(?![\w-]))?"
)
_REFERENCE = re.compile(r"artikel\d+[a-z0-9]*")
ANALYSER_VERSION = 4  # bump when analyse() changes what it emits: the keyword index is rebuilt


def article_references(text: str) -> list[str]:
    """The articles a text names ("artikel 13b" → "artikel13b"), in the analyser's form."""
    return [t for t in analyse(text, compounds=False) if _REFERENCE.fullmatch(t)]

"""Private-use glyphs: the letters a font's private-use code point stands for, per document.

Some fonts map ligatures or alternate letters to private-use code points (U+E000-U+F8FF)
in their ToUnicode table, so pypdf and pypdfium2 both return e.g. "hee\\ue01et" for
"heeft". Neither library can undo that, and glyph names are often absent in subset fonts,
so this module (own code) picks, for each such code point, the letters that turn the most
of its words into words the document uses elsewhere or the Dutch word list knows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ingest.words import is_dutch_word

PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_WORD_WITH_GLYPH = re.compile("[\\w\ue000-\uf8ff]*[\ue000-\uf8ff][\\w\ue000-\uf8ff]*")
_WORD = re.compile(r"[^\W\d_]{2,}")
# Letters a ligature or alternate glyph most often stands for, tried in this order.
_CANDIDATES = (
    "f", "fi", "fl", "ff", "ffi", "ffl", "ft", "fj", "t", "tt", "tf", "st", "ct", "ij", "i", "l",
    "j", "th", "Th", "a", "e", "g", "k", "r", "s", "y", "",
)  # fmt: skip


def glyph_map(texts: Iterable[str]) -> dict[str, str]:
    """For each private-use character in ``texts``, the letters it most likely stands for.

    Args:
        texts: the document's page texts.

    Returns:
        A mapping from each private-use character to its replacement; "" (drop it) where no
        candidate makes any of its words a known word.
    """
    texts = list(texts)
    words: dict[str, list[str]] = {}
    vocabulary: set[str] = set()
    for text in texts:
        vocabulary.update(word.lower() for word in _WORD.findall(text))
        for word in _WORD_WITH_GLYPH.findall(text):
            for glyph in set(PRIVATE_USE.findall(word)):
                words.setdefault(glyph, []).append(word)
    mapping: dict[str, str] = {}
    for glyph, found in words.items():
        best, best_score = "", 0
        for candidate in _CANDIDATES:
            score = 0
            for word in found:
                fixed = PRIVATE_USE.sub("", word.replace(glyph, candidate)).lower()
                if fixed and (fixed in vocabulary or is_dutch_word(fixed)):
                    score += 1
            if score > best_score:
                best, best_score = candidate, score
        mapping[glyph] = best
    return mapping


def replace_glyphs(text: str, mapping: dict[str, str]) -> str:
    """``text`` with each private-use character replaced by its letters (unknown ones dropped)."""
    if not PRIVATE_USE.search(text):
        return text
    return PRIVATE_USE.sub(lambda match: mapping.get(match.group(), ""), text)

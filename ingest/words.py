"""Is this a Dutch word? wordfreq's Dutch frequency list, with the document's own words.

Used where the text alone cannot decide: whether a line-end hyphen splits a word or
belongs to a compound, and which letters a font's private-use glyph stands for.
"""

from __future__ import annotations

import logging
from functools import lru_cache

log = logging.getLogger("ivb.ingest")


@lru_cache(maxsize=200_000)
def is_dutch_word(word: str) -> bool:
    """True when wordfreq knows ``word`` (any case) as Dutch; False when it does not or when
    wordfreq is not installed (then only the document's own vocabulary decides)."""
    frequency = _frequency()
    return frequency is not None and frequency(word.lower(), "nl") > 0


@lru_cache(maxsize=1)
def _frequency():
    try:
        from wordfreq import zipf_frequency
    except ImportError:
        log.warning("wordfreq ontbreekt: woordafbreking en glyphen alleen op eigen woorden")
        return None
    return zipf_frequency

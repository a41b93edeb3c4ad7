"""Plain language of resident answers: Flesch–Douma, sentence length and the B1 share.

Flesch–Douma is Flesch's reading ease with Douma's constants for Dutch,
206.835 − 0.93 × words per sentence − 77 × syllables per word, as textstat computes it
(``textstat.set_lang("nl")``; syllables from pyphen's Dutch hyphenation). Higher is easier:
60–70 is "normaal", the level of texts for a general audience; 70–80 "vrij makkelijk".

B1 threshold: an answer meets B1 when its Flesch–Douma score is at least 60 **and** its
sentences average at most 15 words. Neither measure alone decides B1 (a CEFR level is about
words and grammar, not counts); these two are the published rules of thumb the Dutch
government's plain-language guidance uses for B1 text (short sentences, at most about 15
words; a Douma score in the "normaal" band or easier), so they are stated, not tuned.

Only the answer's own text is measured: the citation markers, the quotation marks and the
fixed intro line of a quoted answer are taken off first.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.analysis import words
from assistant.sentences import split_spans

B1_MIN_DOUMA = 60.0
B1_MAX_SENTENCE_WORDS = 15.0
_MARKERS = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")
_QUOTES = re.compile(r"[“”\"„]")


@lru_cache(maxsize=1)
def _textstat():
    import textstat

    textstat.set_lang("nl")
    return textstat


def plain_text(answer_text: str, intro: str = "") -> str:
    """The answer's words alone: without the intro line, citation markers and quotes."""
    text = answer_text
    if intro and text.startswith(intro):
        text = text[len(intro) :]
    return _QUOTES.sub("", _MARKERS.sub("", text)).strip()


def sentence_length(text: str) -> float | None:
    """Mean words per sentence (the project's sentence splitter), None for no text."""
    spans = [s for s in split_spans(text) if words(s.text)]
    if not spans:
        return None
    return sum(len(words(s.text)) for s in spans) / len(spans)


def flesch_douma(text: str) -> float | None:
    """textstat's Flesch reading ease with the Dutch (Douma) constants; None for no text."""
    if not words(text):
        return None
    return float(_textstat().flesch_reading_ease(text))


def readability(answer_text: str, intro: str = "") -> dict[str, float | None]:
    """``{"flesch_douma", "sentence_length", "b1"}`` of one answer (b1: 1.0 or 0.0; every
    value None when the answer has no words)."""
    text = plain_text(answer_text, intro)
    score, length = flesch_douma(text), sentence_length(text)
    if score is None or length is None:
        return {"flesch_douma": None, "sentence_length": None, "b1": None}
    meets = score >= B1_MIN_DOUMA and length <= B1_MAX_SENTENCE_WORDS
    return {"flesch_douma": score, "sentence_length": length, "b1": float(meets)}

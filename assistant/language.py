"""Which language a question is in, so the answer can be given in it."""

from __future__ import annotations

from functools import lru_cache

SUPPORTED = ("nl", "en", "de", "fr", "tr", "pl", "ar", "uk", "es")
_EN_HINTS = {
    "what",
    "who",
    "which",
    "how",
    "when",
    "where",
    "why",
    "does",
    "is",
    "are",
    "the",
    "can",
}


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(SUPPORTED))
    return ident


def detect(text: str) -> str:
    """ISO 639-1 code of the text's language; Dutch when unsure (the default audience).

    Args:
        text: a question.
    """
    words = [w.strip("?!.,:;\"'") for w in text.lower().split()]
    if not words:
        return "nl"
    lang, prob = _identifier().classify(text)
    if lang == "en" or (len(words) <= 3 and words[0] in _EN_HINTS):
        return "en" if prob > 0.5 or words[0] in _EN_HINTS else "nl"
    return lang if prob > 0.8 else "nl"

"""Looking up the interface's texts in Dutch or English, and which language a visitor gets.

One catalogue (`TEXTS`, in web/i18n_texts.py): the page's labels go to gradio as `I18N`
(gradio translates them in the browser, by the page's language), and what the server
writes (answers, sources, the viewer, the accessibility statement, the staff page's
messages, the saved conversation) takes its texts from `text(key, lang)`. The texts of
answers, refusals and notices themselves are in assistant/prompts.py.

The language: the ``ivb_lang`` cookie (set by the switch on the page, ``?lang=en``), else
the browser's Accept-Language, else Dutch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import gradio as gr

from web.i18n_texts import DEFAULT_LANGUAGE, TEXTS
from web.i18n_texts import text as text  # re-exported: the web code looks texts up here

LANGUAGES = ("nl", "en")
COOKIE = "ivb_lang"
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}

# gradio's own catalogue has namespaces such as "upload" and "login"; ours are kept apart
# by this prefix (and hold no dots, which gradio reads as a path).
PREFIX = "ivb_"


class _Catalogue(gr.I18n):
    """gr.I18n over `TEXTS`, each key with `PREFIX` in front."""

    def __call__(self, key: str) -> Any:
        return super().__call__(PREFIX + key)


I18N = _Catalogue(
    **{lang: {PREFIX + key: value for key, value in texts.items()} for lang, texts in TEXTS.items()}
)


def label(key: str, **values: Any) -> Any:
    """A label gradio shows in the page's language: `I18N(key)`, or, with ``values``
    (placeholders to fill), a catalogue entry of its own with them filled in.

    Args:
        key: a key of `TEXTS`.
        values: placeholder values.
    """
    if not values:
        return I18N(key)
    filled = {lang: TEXTS[lang][key].format(**values) for lang in LANGUAGES}
    name = f"{key}_{hashlib.sha1(filled['nl'].encode()).hexdigest()[:10]}"
    for lang in LANGUAGES:
        I18N.translations_dict[lang][PREFIX + name] = filled[lang]
    return I18N(name)


def pick_language(cookie: str | None = None, accept_language: str | None = None) -> str:
    """The interface language: the cookie's when it names one, else the first language
    of Accept-Language that the page has, else Dutch.

    Args:
        cookie: the ``ivb_lang`` cookie.
        accept_language: the Accept-Language header, e.g. "en-GB,en;q=0.9,nl;q=0.8".
    """
    if cookie in LANGUAGES:
        return str(cookie)
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, i, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def request_language(request: Any) -> str:
    """The interface language of a gradio or Starlette request (Dutch without one)."""
    if request is None:
        return DEFAULT_LANGUAGE
    cookies: Mapping[str, str] = getattr(request, "cookies", None) or {}
    headers: Mapping[str, str] = getattr(request, "headers", None) or {}
    return pick_language(cookies.get(COOKIE), headers.get("accept-language"))

"""The web page's dressing: its stylesheet, theme and scripts, and the rewrite that serves
gradio's page as a Dutch page that names nothing outside this machine.

Kept apart from web.layout, which lays the page out and wires its events; nothing here knows
about the assistant.
"""

import contextlib
import json
import logging
import re
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

import gradio as gr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.settings import Settings
from web.i18n import COOKIE, LANGUAGES, pick_language

log = logging.getLogger("ivb.ui")

CSS = """
#ivb-chat .message-content .prose { opacity: 1; }
.ivb-answer p { margin: 0 0 0.5em 0; }
.ivb-cite, .ivb-source-link { color: var(--ivb-brand); font-weight: 600;
  text-decoration: underline; }
.dark .ivb-cite, .dark .ivb-source-link { color: #93c5fd; }
.ivb-cite:focus-visible, .ivb-source-link:focus-visible { outline: 3px solid var(--ivb-accent); }
.ivb-refusal { border-left: 5px solid var(--ivb-brand); background: #eff6ff; color: #1e3a8a;
  padding: 0.6em 0.9em; border-radius: 6px; }
.ivb-refusal strong { color: #1e3a8a; }
.ivb-error { border-left: 5px solid #b91c1c; background: #fef2f2; color: #7f1d1d;
  padding: 0.6em 0.9em; border-radius: 6px; }
.ivb-status { color: #374151; font-style: italic; }
.ivb-notice { border-left: 4px solid var(--ivb-brand); padding-left: 0.6em; color: #1f2937; }
.dark .ivb-notice { color: #e5e7eb; }
.dark .ivb-status { color: #d1d5db; }
.ivb-sources ol { padding-left: 0; list-style: none; margin: 0; }
.ivb-source { border: 1px solid #d1d5db; border-radius: 6px; padding: 0.5em 0.75em;
  margin-bottom: 0.5em; }
.ivb-source.ivb-active { border: 2px solid var(--ivb-brand); }
.ivb-meta { color: #374151; font-size: 0.9em; margin: 0.2em 0; }
.ivb-sources p, .ivb-sources blockquote { display: block; }
.ivb-source-title { margin: 0; }
.dark .ivb-meta { color: #d1d5db; }
.ivb-quote { margin: 0.3em 0 0 0; padding-left: 0.6em; border-left: 3px solid #9ca3af; }
.ivb-sources mark, .ivb-answer mark, .ivb-section mark { background: #fde68a; color: #111827; }
.ivb-section { white-space: pre-wrap; }
.ivb-h { font-size: 1.1em; font-weight: 600; margin: 0 0 0.4em 0; }
.ivb-superseded { color: #92400e; font-weight: 600; }
.dark .ivb-superseded { color: #fcd34d; }
.ivb-header { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5em 1.5em;
  justify-content: space-between; background: var(--ivb-brand); color: #ffffff;
  padding: 0.75em 1em; border-radius: 6px; }
#ivb-header .ivb-header, #ivb-header .ivb-header * { color: #ffffff; }
.ivb-header a:focus-visible { outline: 3px solid var(--ivb-accent); outline-offset: 2px; }
.ivb-brand { display: flex; align-items: center; gap: 0.75em; font-weight: 700;
  font-size: 1.1em; }
.ivb-brand img { max-height: 48px; width: auto; background: #ffffff; padding: 4px;
  border-radius: 4px; }
.ivb-header nav ul { display: flex; flex-wrap: wrap; gap: 0.5em 1.25em; list-style: none;
  margin: 0; padding: 0; }
.ivb-skip.utrecht-skip-link { position: absolute; left: -10000px; top: 0; z-index: 1000; }
.ivb-skip.utrecht-skip-link:focus { left: 0.5em; top: 0.5em; }
html[lang="en"] [data-lang="nl"], html:not([lang="en"]) [data-lang="en"] {
  display: none !important; }
.ivb-viewer-frame { width: 100%; height: 75vh; min-height: 420px; border: 1px solid #9ca3af;
  border-radius: 6px; background: #f3f4f6; }
.ivb-viewer-links { display: flex; flex-wrap: wrap; gap: 0.4em 1.2em; margin: 0.4em 0; }
@media (max-width: 720px) {
  #ivb-chat { height: auto !important; max-height: none !important; min-height: 16em; }
  #ivb-chat > div, #ivb-chat .bubble-wrap { height: auto !important; max-height: none !important; }
  .ivb-viewer-frame { height: 70vh; min-height: 360px; }
  .ivb-header { padding: 0.5em 0.75em; }
}
"""

# The page's status messages (WCAG 4.1.3), by elem_id: the staff results are
# role="status"; the source panel and detail only aria-live, since role="status" implies
# aria-atomic and would read the whole panel at every change. The chat itself is gradio's
# role="log", already a polite live region: a refusal is announced there.
LIVE_REGIONS: dict[str, str | None] = {
    "ivb-sources": None,
    "ivb-source-detail": None,
    "ivb-feedback-result": "status",
    "ivb-login-result": "status",
    "ivb-upload-result": "status",
    "ivb-delete-result": "status",
    "ivb-reingest-result": "status",
}

# Makes every [n] link in the page (chat and source panel) show that source: installed
# once on the document, it hands the reference to the source panel's click event.
SOURCES_JS = """
window.__ivbCite = (ref) => trigger('click', {ref: ref});
if (!window.__ivbCiteInstalled) {
  window.__ivbCiteInstalled = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#bron-"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    if (window.__ivbCite) window.__ivbCite(link.getAttribute('href').slice(6));
    // On a narrow screen the source panel lies below the chat: go there.
    if (window.matchMedia('(max-width: 720px)').matches) {
      const panel = document.getElementById('ivb-source-panel');
      if (panel) setTimeout(() => panel.scrollIntoView({block: 'start'}), 300);
    }
  }, true);
  // The skip link puts the focus in the question box.
  document.addEventListener('click', (event) => {
    const skip = event.target.closest && event.target.closest('a.ivb-skip');
    if (!skip) return;
    const box = document.querySelector('#ivb-question textarea');
    if (box) { event.preventDefault(); box.focus(); box.scrollIntoView({block: 'center'}); }
  }, true);
  // gradio labels each chat message with its raw HTML ("bot's message: <div ...");
  // without that label a screen reader reads the message itself.
  const unlabel = () => document.querySelectorAll(
    '#ivb-chat [data-testid="bot"][aria-label], #ivb-chat [data-testid="user"][aria-label]'
  ).forEach((el) => el.removeAttribute('aria-label'));
  // Status messages are announced (WCAG 4.1.3): each region's wrapper, which gradio
  // keeps while its content changes, gets aria-live (and role), once it is rendered.
  const live = () => {
    for (const [id, role] of Object.entries(__LIVE_REGIONS__)) {
      const el = document.getElementById(id);
      if (!el || el.getAttribute('aria-live') === 'polite') continue;
      el.setAttribute('aria-live', 'polite');
      if (role) el.setAttribute('role', role);
    }
    // The log's name follows the page's language.
    document.querySelectorAll('#ivb-chat [role="log"]').forEach((el) => {
      const name = document.documentElement.lang === 'en' ? 'Conversation' : 'Gesprek';
      if (el.getAttribute('aria-label') !== name) el.setAttribute('aria-label', name);
    });
  };
  const update = () => { unlabel(); live(); };
  update();
  new MutationObserver(update).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['aria-label'],
  });
}
""".replace("__LIVE_REGIONS__", json.dumps(LIVE_REGIONS))

# Settings start folded on a narrow screen, so that the chat comes first (run once the
# page is up: a click before gradio has wired the accordion is lost).
FOLD_SETTINGS_JS = """
() => {
  if (!window.matchMedia('(max-width: 720px)').matches) return;
  const toggle = document.querySelector('#ivb-settings .label-wrap');
  if (toggle && toggle.classList.contains('open')) toggle.click();
}
"""

# Runs a question on the runner (and so the concurrency group) of the chosen backend.
DISPATCH_JS = """
(backend) => {
  const id = backend === 'local' ? 'ivb-run-local' : 'ivb-run-shared';
  const button = document.getElementById(id);
  if (button) button.click();
}
"""


def page_head(lang: str) -> str:
    """Set before gradio's own script runs: the page's language, which gradio also uses
    for its own texts and the I18N catalogue (web.i18n)."""
    return (
        f"<script>document.documentElement.lang='{lang}';try{{"
        f"Object.defineProperty(navigator,'language',{{get:()=>'{lang}'}});"
        f"Object.defineProperty(navigator,'languages',{{get:()=>['{lang}']}});}}catch(e){{}}"
        "</script>"
    )


# The NL Design System stylesheets, served by the app itself (web.documents, from npm:
# web/static/package.json): the Utrecht component library's CSS and the community's
# example theme ("voorbeeld") tokens, on <html class="voorbeeld-theme">.
THEME_CLASS = "voorbeeld-theme"
SYSTEM_FONTS = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif'
NLDS_STYLESHEETS = (
    "/ivb/vendor/@utrecht/component-library-css/dist/index.css",
    "/ivb/vendor/@nl-design-system-unstable/voorbeeld-design-tokens/dist/theme.css",
)


def head_html() -> str:
    """The page's <head> additions: the NL Design System stylesheets."""
    return "".join(f'<link rel="stylesheet" href="{href}">' for href in NLDS_STYLESHEETS)


def brand_css(settings: Settings) -> str:
    """The municipality's colours as CSS variables, over the theme's tokens.

    Args:
        settings: brand_color (header, buttons, links), brand_accent_color (focus ring).
    """
    brand, accent = settings.brand_color, settings.brand_accent_color
    return (
        f":root, .{THEME_CLASS} {{ --ivb-brand: {brand}; --ivb-accent: {accent};\n"
        f"  --basis-color-action-1-inverse-bg-default: {brand};\n"
        f"  --basis-color-action-1-color-default: {brand};\n"
        f"  --basis-focus-outline-color: {accent};\n"
        f"  --utrecht-link-color: {brand};\n"
        # The theme names Noto Sans, which is not served: the system's sans-serif instead.
        f"  --basis-text-font-family-default: {SYSTEM_FONTS};\n"
        f"  --basis-heading-font-family: {SYSTEM_FONTS}; }}\n"
    )


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours (1 to 21).

    Written here because it is four lines of the WCAG formula, not worth a dependency.
    """

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def theme(settings: Settings | None = None) -> gr.themes.Base:
    """The page's look: system fonts (nothing loaded from outside), the municipality's
    colour on buttons and high-contrast text.

    Args:
        settings: brand_color (the default colour without settings).
    """
    brand = settings.brand_color if settings is not None else "#154273"
    if contrast_ratio("#ffffff", brand) < 4.5:
        log.warning("IVB_BRAND_COLOR %s has too little contrast with white text (WCAG AA)", brand)
    system = [
        "system-ui",
        "-apple-system",
        "Segoe UI",
        "Roboto",
        "Helvetica Neue",
        "Arial",
        "sans-serif",
    ]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    return gr.themes.Default(
        primary_hue="blue",
        secondary_hue="slate",
        neutral_hue="slate",
        font=system,
        font_mono=mono,
    ).set(
        button_primary_background_fill=brand,
        button_primary_background_fill_hover=brand,
        button_primary_text_color="#ffffff",
        button_cancel_background_fill="#b91c1c",
        button_cancel_background_fill_hover="#991b1b",
        button_cancel_text_color="#ffffff",
        body_text_color_subdued="#4b5563",
        block_info_text_color="#4b5563",
        link_text_color=brand,
        color_accent=brand,
    )


_EXTERNAL_META = re.compile(rb"<meta[^>]*content=\"https?://[^\"]*\"[^>]*>\s*", re.IGNORECASE)
# gradio's API description embeds example file URLs on github.com; the bare name will do.
_EXAMPLE_FILE_URL = re.compile(
    rb"https://(?:raw\.githubusercontent\.com|github\.com)/gradio-app/gradio/[^\"\s]*?/test_files/"
)


def scope_language(scope: Scope) -> tuple[str, bool]:
    """The language of a page request, and whether ``?lang=`` chose it (then it is kept in
    the ``ivb_lang`` cookie): ``?lang=``, else the cookie, else Accept-Language."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    asked = (query.get("lang") or [""])[0]
    if asked in LANGUAGES:
        return asked, True
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    cookie = SimpleCookie()
    with contextlib.suppress(Exception):  # a malformed cookie header is the visitor's problem
        cookie.load(headers.get("cookie", ""))
    chosen = cookie[COOKIE].value if COOKIE in cookie else None
    return pick_language(chosen, headers.get("accept-language")), False


class DutchPageMiddleware:
    """Serves gradio's page in the visitor's language, naming nothing outside this machine.

    gradio's template says ``<html lang="en">`` and carries preview meta tags that point
    at github.com and gradio.app; this rewrites the page's HTML on the way out (a plain
    ASGI middleware, so streamed API responses pass untouched): the language (Dutch unless
    the visitor chose or asks for English, see `scope_language`) and the NL Design System
    theme class on <html>.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        lang, chosen = scope_language(scope)
        start: Message | None = None
        chunks: list[bytes] = []

        async def intercept(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                is_html = headers.get(b"content-type", b"").startswith(b"text/html")
                if is_html and b"content-encoding" not in headers:
                    start = message
                    return
                await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = self.rewrite(b"".join(chunks), lang)
                headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                if chosen:
                    cookie = f"{COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax"
                    headers.append((b"set-cookie", cookie.encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        await self.app(scope, receive, intercept)

    @staticmethod
    def rewrite(body: bytes, lang: str = "nl") -> bytes:
        """Set the language and theme class, drop URLs that point outside, add the
        language script."""
        if b"<html" not in body[:2000] or lang not in LANGUAGES:
            return body
        body = re.sub(
            rb'(<html[^>]*?)\blang="[^"]*"', rb'\1lang="' + lang.encode() + b'"', body, count=1
        )
        body = body.replace(b"<html", f'<html class="{THEME_CLASS}"'.encode(), 1)
        body = _EXTERNAL_META.sub(b"", body)
        body = _EXAMPLE_FILE_URL.sub(b"", body)
        return body.replace(b"<head>", b"<head>" + page_head(lang).encode(), 1)

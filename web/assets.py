"""The web page's dressing: its stylesheet, theme and scripts, and the rewrite that serves
gradio's page as a Dutch page that names nothing outside this machine.

Kept apart from web.layout, which lays the page out and wires its events; nothing here knows
about the assistant.
"""

import json
import re

import gradio as gr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSS = """
#ivb-chat .message-content .prose { opacity: 1; }
.ivb-answer p { margin: 0 0 0.5em 0; }
.ivb-cite, .ivb-source-link { color: #1d4ed8; font-weight: 600; text-decoration: underline; }
.dark .ivb-cite, .dark .ivb-source-link { color: #93c5fd; }
.ivb-cite:focus-visible, .ivb-source-link:focus-visible { outline: 3px solid #f59e0b; }
.ivb-refusal { border-left: 5px solid #1d4ed8; background: #eff6ff; color: #1e3a8a;
  padding: 0.6em 0.9em; border-radius: 6px; }
.ivb-refusal strong { color: #1e3a8a; }
.ivb-error { border-left: 5px solid #b91c1c; background: #fef2f2; color: #7f1d1d;
  padding: 0.6em 0.9em; border-radius: 6px; }
.ivb-status { color: #374151; font-style: italic; }
.ivb-notice { border-left: 4px solid #1d4ed8; padding-left: 0.6em; color: #1f2937; }
.dark .ivb-notice { color: #e5e7eb; }
.dark .ivb-status { color: #d1d5db; }
.ivb-sources ol { padding-left: 0; list-style: none; margin: 0; }
.ivb-source { border: 1px solid #d1d5db; border-radius: 6px; padding: 0.5em 0.75em;
  margin-bottom: 0.5em; }
.ivb-source.ivb-active { border: 2px solid #1d4ed8; }
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
    document.querySelectorAll('#ivb-chat [role="log"]').forEach((el) => {
      if (el.getAttribute('aria-label') !== 'Gesprek') el.setAttribute('aria-label', 'Gesprek');
    });
  };
  const update = () => { unlabel(); live(); };
  update();
  new MutationObserver(update).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['aria-label'],
  });
}
""".replace("__LIVE_REGIONS__", json.dumps(LIVE_REGIONS))

# Runs a question on the runner (and so the concurrency group) of the chosen backend.
DISPATCH_JS = """
(backend) => {
  const id = backend === 'local' ? 'ivb-run-local' : 'ivb-run-shared';
  const button = document.getElementById(id);
  if (button) button.click();
}
"""


# Set before gradio's own script runs: the page is Dutch, and so is gradio's own text.
PAGE_HEAD = (
    "<script>document.documentElement.lang='nl';try{"
    "Object.defineProperty(navigator,'language',{get:()=>'nl'});"
    "Object.defineProperty(navigator,'languages',{get:()=>['nl']});}catch(e){}</script>"
)


def theme() -> gr.themes.Base:
    """The page's look: system fonts (nothing loaded from outside) and high-contrast
    buttons."""
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
        button_primary_background_fill="#1d4ed8",
        button_primary_background_fill_hover="#1e40af",
        button_primary_text_color="#ffffff",
        button_cancel_background_fill="#b91c1c",
        button_cancel_background_fill_hover="#991b1b",
        button_cancel_text_color="#ffffff",
        body_text_color_subdued="#4b5563",
        block_info_text_color="#4b5563",
    )


_EXTERNAL_META = re.compile(rb"<meta[^>]*content=\"https?://[^\"]*\"[^>]*>\s*", re.IGNORECASE)
# gradio's API description embeds example file URLs on github.com; the bare name will do.
_EXAMPLE_FILE_URL = re.compile(
    rb"https://(?:raw\.githubusercontent\.com|github\.com)/gradio-app/gradio/[^\"\s]*?/test_files/"
)


class DutchPageMiddleware:
    """Serves gradio's page as a Dutch page that names nothing outside this machine.

    gradio's template says ``<html lang="en">`` and carries preview meta tags that point
    at github.com and gradio.app; this rewrites the page's HTML on the way out (a plain
    ASGI middleware, so streamed API responses pass untouched).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
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
                body = self.rewrite(b"".join(chunks))
                headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        await self.app(scope, receive, intercept)

    @staticmethod
    def rewrite(body: bytes) -> bytes:
        """Set lang="nl", drop URLs that point outside, add the language script."""
        if b"<html" not in body[:2000]:
            return body
        body = re.sub(rb'(<html[^>]*?)\blang="[^"]*"', rb'\1lang="nl"', body, count=1)
        body = _EXTERNAL_META.sub(b"", body)
        body = _EXAMPLE_FILE_URL.sub(b"", body)
        return body.replace(b"<head>", b"<head>" + PAGE_HEAD.encode(), 1)

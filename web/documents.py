"""The app's own HTTP routes beside the gradio page: the document viewer, the documents
themselves, the fallback page image, the accessibility statement and the browser assets.

Only documents in the store are served, found by their id (never by a path from the
request), and only while the file on disk is the version that was indexed. `document_routes`
returns the routes; ui.launch hands them to gradio's FastAPI app (a FastAPI server mounting
gradio can ``include_router`` them).

- ``GET /ivb/viewer/{doc_id}?page=P&q=QUOTE&q=QUOTE…&n=N&label=L``: the viewer page. A PDF
  opens in pdf.js at page P (0-based) with each quote marked in its text layer, also when
  a quote runs on to the next page; other formats open as text with each quote marked.
- ``GET /ivb/document/{doc_id}`` (``?download=1``: as an attachment): the original file.
- ``GET /ivb/page/{doc_id}/{page}.png?q=QUOTE&q=QUOTE…``: the page as an image with each
  quote boxed (the viewer's fallback).

``q`` is repeated for a citation that quotes several sentences of its chunk; a link with
one ``q`` (the older form) still opens. A link carries at most `MAX_QUOTES` quotes and
`MAX_QUOTE` characters of them together (`link_quotes`), so it stays as short as the
one-quote link was; the routes take no more than that either.
- ``GET /ivb/toegankelijkheid``: the accessibility statement (``?lang=en`` in English).
- ``/ivb/static/…``: web/static (the viewer's script and style; pdf.js and the NL Design
  System packages under ``/ivb/vendor/…``, installed by npm into web/static/node_modules).
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from assistant.service import Service
from assistant.settings import Settings
from assistant.types import DocumentRecord
from web.assets import THEME_CLASS, brand_css, head_html
from web.i18n import LANGUAGES, request_language, text
from web.page_images import as_quotes, excerpt, render_page

log = logging.getLogger("ivb.documents")

STATIC_DIR = Path(__file__).parent / "static"
VENDOR_DIR = STATIC_DIR / "node_modules"
PDFJS_DIR = VENDOR_DIR / "pdfjs-dist"
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
              ".jpeg": "image/jpeg"}  # fmt: skip
MAX_QUOTE = 2000  # characters of quoted text a viewer link carries, all its quotes together
MAX_QUOTES = 6  # quotes a viewer link carries (sentences of one chunk: rarely more)


def pdfjs_available() -> bool:
    """Whether pdf.js is installed (npm, web/static/node_modules): without it, a cited PDF
    page is shown as an image."""
    return (PDFJS_DIR / "build" / "pdf.min.mjs").is_file()


def link_quotes(quotes: str | Sequence[str]) -> list[str]:
    """The quotes a viewer or page-image link carries: the first `MAX_QUOTES` non-empty
    ones, at most `MAX_QUOTE` characters together. The first is cut to that length when it
    is longer (its opening is still found); a later one that does not fit is left out
    rather than cut to a few words that could match elsewhere.

    Args:
        quotes: the citation's quotes (one string: a single quote).
    """
    kept: list[str] = []
    left = MAX_QUOTE
    for quote in as_quotes(quotes)[:MAX_QUOTES]:
        if not kept:
            quote = quote[:MAX_QUOTE]
        elif len(quote) > left:
            continue
        kept.append(quote)
        left -= len(quote)
    return kept


def viewer_url(
    doc_id: str, page_index: int, quotes: str | Sequence[str], n: int, page_label: str
) -> str:
    """The viewer's address for one citation (relative to the site's root).

    Args:
        doc_id: the cited document.
        page_index: the 0-based page to open at.
        quotes: the citation's quotes, each marked (one string: a single quote); one ``q``
            parameter each, capped by `link_quotes`.
        n: the citation number.
        page_label: the page as the citation names it.
    """
    from urllib.parse import quote as esc
    from urllib.parse import urlencode

    query = urlencode(
        {"page": page_index, "q": link_quotes(quotes), "n": n, "label": page_label}, doseq=True
    )
    return f"/ivb/viewer/{esc(doc_id, safe='')}?{query}"


def page_image_url(doc_id: str, page_index: int, quotes: str | Sequence[str]) -> str:
    """The address of a PDF page's image with the quotes boxed (capped by `link_quotes`)."""
    from urllib.parse import quote as esc
    from urllib.parse import urlencode

    query = urlencode({"q": link_quotes(quotes)}, doseq=True)
    return f"/ivb/page/{esc(doc_id, safe='')}/{page_index}.png" + (f"?{query}" if query else "")


def document_url(doc_id: str, download: bool = False) -> str:
    """The address of a document's original file."""
    from urllib.parse import quote as esc

    return f"/ivb/document/{esc(doc_id, safe='')}" + ("?download=1" if download else "")


def document_routes(settings: Settings, service: Service) -> APIRouter:
    """The routes of this module, over one store.

    Args:
        settings: brand settings (name, logo, colours) for the pages.
        service: the store the documents come from.
    """
    pages = DocumentPages(settings, service)
    router = APIRouter()
    router.add_api_route("/ivb/document/{doc_id}", pages.document, methods=["GET"])
    router.add_api_route("/ivb/page/{doc_id}/{page_index}.png", pages.page_image, methods=["GET"])
    router.add_api_route(
        "/ivb/viewer/{doc_id}", pages.viewer, methods=["GET"], response_class=HTMLResponse
    )
    router.add_api_route(
        "/ivb/toegankelijkheid", pages.accessibility, methods=["GET"], response_class=HTMLResponse
    )
    router.add_api_route("/ivb/logo", pages.logo, methods=["GET"])
    router.mount(
        "/ivb/vendor", StaticFiles(directory=VENDOR_DIR, check_dir=False), name="ivb-vendor"
    )
    router.mount("/ivb/static", StaticFiles(directory=STATIC_DIR), name="ivb-static")
    return router


class DocumentPages:
    """The route handlers of `document_routes`, over one store: `document`, `page_image`,
    `viewer`, `accessibility` and `logo` answer the routes the module docstring lists.
    They have no docstrings on purpose: FastAPI would publish them in the OpenAPI schema.

    Args:
        settings: brand settings (name, logo, colours) for the pages; the readers' limits.
        service: the store the documents come from.
    """

    def __init__(self, settings: Settings, service: Service) -> None:
        self.settings = settings
        self.service = service

    def current(self, doc_id: str) -> tuple[DocumentRecord, Path]:
        """The document and its file, only while the file is the indexed version (404
        otherwise: an unknown id, a removed file or a file changed since ingestion)."""
        record = self.service.store.document(doc_id)
        if record is None:
            raise HTTPException(404, "unknown document")
        path = Path(record.source)
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise HTTPException(404, "document file is gone") from exc
        if digest != record.content_hash:
            raise HTTPException(404, "document file changed since it was indexed")
        return record, path

    def document(self, doc_id: str, download: bool = False) -> Response:
        record, path = self.current(doc_id)
        media = MEDIA_TYPES.get(record.format, "application/octet-stream")
        name = f"{record.doc_id}{path.suffix.lower()}"
        disposition = "attachment" if download else "inline"
        return FileResponse(
            path, media_type=media, filename=name, content_disposition_type=disposition
        )

    def page_image(
        self, doc_id: str, page_index: int, q: Annotated[list[str] | None, Query()] = None
    ) -> Response:
        record, path = self.current(doc_id)
        if record.format != "pdf" or not 0 <= page_index < max(record.pages, 1):
            raise HTTPException(404, "no such page")
        image = render_page(path, page_index, link_quotes(q or []))
        if image is None:
            raise HTTPException(404, "the page cannot be drawn")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return Response(buffer.getvalue(), media_type="image/png")

    def viewer(
        self,
        request: Request,
        doc_id: str,
        page: int = 0,
        q: Annotated[list[str] | None, Query()] = None,
        n: int = 1,
        label: str = Query("", max_length=40),
    ) -> HTMLResponse:
        settings = self.settings
        lang = _page_language(request)
        try:
            record, path = self.current(doc_id)
        except HTTPException:
            body = f'<p role="alert">{html.escape(text("viewer_gone", lang))}</p>'
            return HTMLResponse(_page(settings, lang, text("viewer_gone", lang), body), 404)
        quotes = link_quotes(q or [])
        page = max(0, min(page, max(record.pages - 1, 0)))
        label = label or str(page + 1)
        title = text("viewer_title", lang, n=n, title=record.title, page=label)
        if record.format == "pdf" and pdfjs_available():
            body = _pdf_viewer(record, page, quotes, label, lang)
        elif record.format == "pdf":
            body = _fallback_only(record, page, quotes, label, lang)
        else:
            body = _text_viewer(record, document_text(path, settings), quotes, lang)
        return HTMLResponse(_page(settings, lang, title, body, viewer=True))

    def accessibility(self, request: Request) -> HTMLResponse:
        lang = _page_language(request)
        body = ACCESSIBILITY.get(lang, ACCESSIBILITY["nl"]).format(
            name=html.escape(self.settings.brand_name)
        )
        return HTMLResponse(_page(self.settings, lang, text("accessibility", lang), body))

    def logo(self) -> Response:
        path = self.settings.brand_logo
        if path is None or Path(path).suffix.lower() not in LOGO_TYPES or not Path(path).is_file():
            raise HTTPException(404, "no logo configured")
        return FileResponse(path, media_type=LOGO_TYPES[Path(path).suffix.lower()])


def _page_language(request: Request) -> str:
    asked = request.query_params.get("lang")
    return asked if asked in LANGUAGES else request_language(request)


def _page(settings: Settings, lang: str, title: str, body: str, viewer: bool = False) -> str:
    """A whole page in the NL Design System look."""
    extra = (
        '<link rel="stylesheet" href="/ivb/vendor/pdfjs-dist/web/pdf_viewer.css">'
        if viewer and pdfjs_available()
        else ""
    )
    return (
        f'<!doctype html><html lang="{lang}" class="{THEME_CLASS}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>{head_html()}{extra}"
        '<link rel="stylesheet" href="/ivb/static/viewer.css">'
        f"<style>{brand_css(settings)}</style></head>"
        f'<body class="utrecht-document{" ivb-viewer-page" if viewer else ""}">'
        f'<main id="ivb-main" class="utrecht-page-content">{body}</main></body></html>'
    )


def _links(record: DocumentRecord, lang: str, new_window: str | None = None) -> str:
    download = html.escape(document_url(record.doc_id, download=True))
    links = [
        f'<a class="utrecht-link" id="ivb-download" href="{download}" download>'
        f"{html.escape(text('download', lang))} ({record.format.upper()})</a>"
    ]
    if new_window:
        links.append(
            f'<a class="utrecht-link" href="{html.escape(new_window)}" target="_blank" '
            f'rel="noopener">{html.escape(text("open_new", lang))}</a>'
        )
    return f'<p class="ivb-viewer-links">{"".join(links)}</p>'


def _json_script(element_id: str, data: Any) -> str:
    """Data for the page's script, safe inside <script> (no "</" can close it)."""
    payload = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    return f'<script type="application/json" id="{element_id}">{payload}</script>'


def _alt(record: DocumentRecord, label: str, quotes: Sequence[str], lang: str) -> str:
    quoted = " … ".join(quotes)[:200]
    return text("page_alt", lang, page=label, title=record.title, quote=quoted)


def _pdf_viewer(
    record: DocumentRecord, page: int, quotes: Sequence[str], label: str, lang: str
) -> str:
    """pdf.js on the cited page (viewer.js) marking each quote, with the page image as its
    fallback."""
    config = {
        "url": document_url(record.doc_id),
        "page": page,
        "pages": record.pages,
        "quotes": list(quotes),
        "fallback": page_image_url(record.doc_id, page, quotes),
        "pdfjs": "/ivb/vendor/pdfjs-dist/",
        "texts": {
            key: text(key, lang)
            for key in ("viewer_failed", "viewer_not_found", "viewer_found", "viewer_page")
        },
        "alt": _alt(record, label, quotes, lang),
    }
    return (
        f'<h1 class="utrecht-heading-1 ivb-viewer-title">{html.escape(record.title)}</h1>'
        f"{_links(record, lang)}"
        f'<p id="ivb-viewer-status" role="status">{html.escape(text("viewer_loading", lang))}</p>'
        '<div id="ivb-viewer" class="ivb-viewer" tabindex="0" '
        f'aria-label="{html.escape(record.title, quote=True)}"></div>'
        f"{_json_script('ivb-viewer-config', config)}"
        '<script type="module" src="/ivb/static/viewer.js"></script>'
    )


def _fallback_only(
    record: DocumentRecord, page: int, quotes: Sequence[str], label: str, lang: str
) -> str:
    """A PDF without pdf.js installed: the page image with each quote boxed."""
    src = page_image_url(record.doc_id, page, quotes)
    alt = _alt(record, label, quotes, lang)
    return (
        f'<h1 class="utrecht-heading-1 ivb-viewer-title">{html.escape(record.title)}</h1>'
        f"{_links(record, lang)}"
        f'<p role="status">{html.escape(text("viewer_failed", lang))}</p>'
        f'<img class="ivb-fallback" src="{html.escape(src)}" alt="{html.escape(alt, quote=True)}">'
    )


def _text_viewer(record: DocumentRecord, body: str, quotes: Sequence[str], lang: str) -> str:
    """A Markdown, text or docx document as text, each quote marked, the first scrolled to."""
    pieces = excerpt(body, quotes, window=None).pieces  # the whole text, quotes marked
    marked, found = "", False
    for piece, quoted in pieces:
        if quoted:
            hit = "" if found else ' id="ivb-hit"'  # the first quote is scrolled to
            marked += f'<mark{hit} class="ivb-hit">{html.escape(piece)}</mark>'
            found = True
        else:
            marked += html.escape(piece)
    if found:
        status = text("viewer_text_found", lang)
    else:
        status = text("viewer_not_found", lang) if quotes else ""
    return (
        f'<h1 class="utrecht-heading-1 ivb-viewer-title">{html.escape(record.title)}</h1>'
        f"{_links(record, lang)}"
        f'<p id="ivb-viewer-status" role="status">{html.escape(status)}</p>'
        f'<div id="ivb-viewer" class="ivb-text-doc" tabindex="0">{marked}</div>'
        "<script>const hit=document.getElementById('ivb-hit');"
        "if(hit){const box=document.getElementById('ivb-viewer');"
        "box.scrollTop=hit.offsetTop-box.offsetTop-box.clientHeight/3;}"
        "document.body.dataset.ready='1';</script>"
    )


def document_text(path: Path, settings: Settings) -> str:
    """The text of a Markdown, text or docx document as its reader reads it (pages joined).

    Args:
        path: the file (already checked to be the indexed version, so it parsed before).
        settings: the readers' limits.

    Raises:
        IngestError: when the file cannot be read after all.
    """
    from ingest.readers.registry import format_for

    fmt = format_for(path.suffix)
    if fmt is None:
        return ""
    parsed = fmt.reader(path.read_bytes(), path.name, settings)
    return "\n\n".join(page.text for page in parsed.pages)


ACCESSIBILITY = {
    "nl": """
<h1 class="utrecht-heading-1">Toegankelijkheidsverklaring</h1>
<p class="utrecht-paragraph">{name} wil dat iedereen de IVB-assistent kan gebruiken. Deze
verklaring geldt voor de IVB-assistent: de chat, de documentviewer en de beheerpagina.</p>
<h2 class="utrecht-heading-2">Stand van zaken</h2>
<p class="utrecht-paragraph">De IVB-assistent voldoet <strong>gedeeltelijk</strong> aan de
Web Content Accessibility Guidelines (WCAG) 2.1 op niveau A en AA, zoals het Besluit digitale
toegankelijkheid overheid vraagt. Bij elke wijziging controleren automatische tests met
axe-core de pagina's op een breed scherm (1400 pixels) en op een telefoon (390 pixels); zij
vinden geen schendingen van WCAG 2.1 A en AA, ook niet van gemiddelde ernst. Een onderzoek
door een onafhankelijke deskundige is nog niet gedaan.</p>
<h2 class="utrecht-heading-2">Wat werkt</h2>
<ul class="utrecht-unordered-list">
<li class="utrecht-unordered-list__item">De hele pagina is met het toetsenbord te bedienen; een
link bovenaan brengt u direct naar de vraag.</li>
<li class="utrecht-unordered-list__item">Antwoorden, bronnen en meldingen worden door een
schermlezer voorgelezen zodra ze verschijnen.</li>
<li class="utrecht-unordered-list__item">De pagina werkt op een telefoon; de instellingen zijn
daar ingeklapt en elke bron is vanuit het antwoord te openen.</li>
<li class="utrecht-unordered-list__item">De pagina is in het Nederlands en in het Engels.</li>
</ul>
<h2 class="utrecht-heading-2">Bekende beperkingen</h2>
<ul class="utrecht-unordered-list">
<li class="utrecht-unordered-list__item">De PDF-documenten zelf zijn niet door ons
gemaakt en zijn niet altijd toegankelijk (bijvoorbeeld tabellen zonder koppen). De tekst van
elk geciteerd stuk staat daarom ook als tekst bij het antwoord.</li>
<li class="utrecht-unordered-list__item">Bij het wisselen van taal begint een nieuw
gesprek.</li>
</ul>
<h2 class="utrecht-heading-2">Contact</h2>
<p class="utrecht-paragraph">Loopt u tegen een probleem aan? Neem contact op met uw gemeente
(Dronten, Noordoostpolder of Urk). Wij reageren binnen vijf werkdagen. Krijgt u geen
passende oplossing, dan kunt u zich wenden tot de Nationale ombudsman.</p>
<p class="utrecht-paragraph"><a class="utrecht-link" href="/">Terug naar de IVB-assistent</a></p>
""",
    "en": """
<h1 class="utrecht-heading-1">Accessibility statement</h1>
<p class="utrecht-paragraph">{name} want everyone to be able to use the IVB assistant. This
statement covers the IVB assistant: the chat, the document viewer and the staff page. The
official statement is in Dutch: <a class="utrecht-link" href="?lang=nl" hreflang="nl"
lang="nl">toegankelijkheidsverklaring</a>.</p>
<h2 class="utrecht-heading-2">Status</h2>
<p class="utrecht-paragraph">The IVB assistant <strong>partially</strong> meets the Web
Content Accessibility Guidelines (WCAG) 2.1 at level A and AA. With every change, automated
tests with axe-core check the pages at desktop width (1400 pixels) and on a phone (390
pixels); they find no WCAG 2.1 A or AA violations, moderate ones included. An audit by an
independent expert has not been done yet.</p>
<h2 class="utrecht-heading-2">Known limitations</h2>
<ul class="utrecht-unordered-list">
<li class="utrecht-unordered-list__item">The PDF documents themselves are not made by us and
are not always accessible. The text of every quoted part is therefore also shown with the
answer.</li>
<li class="utrecht-unordered-list__item">Switching the language starts a new
conversation.</li>
</ul>
<h2 class="utrecht-heading-2">Contact</h2>
<p class="utrecht-paragraph">Having a problem? Contact your municipality (Dronten,
Noordoostpolder or Urk). We reply within five working days.</p>
<p class="utrecht-paragraph"><a class="utrecht-link" href="/">Back to the IVB assistant</a></p>
""",
}

"""The page's HTML, as pure functions: answers, sources, status notes and staff results.

Nothing here calls the assistant or keeps state; each function takes typed data
(`Answer`, `Turn`, upload results) and returns HTML or Markdown with every user text
escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.prompts import SUPERSEDED
from assistant.types import Answer
from ingest.uploads import RemoveResult, UploadResult
from web.documents import document_url, viewer_url
from web.i18n import LANGUAGES, text
from web.page_images import excerpt
from web.turns import CitedSource, Turn

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport

DONE = f"**{text('done', 'nl')}** "
FAILED = f"**{text('failed', 'nl')}** "
LOCAL_QUEUE_TEXT = text("queue", "nl")  # the Dutch one; a visitor gets text("queue", lang)
SUPERSEDED_TEXT = SUPERSEDED[:1].upper() + SUPERSEDED[1:]
REFUSAL_HEADINGS = {"injection": "refusal_injection", "busy": "refusal_busy"}
_CITE_RE = re.compile(r"\[(\d+)\]")


def _paragraphs(text: str) -> str:
    parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join("<p>" + p.replace("\n", "<br>") + "</p>" for p in parts)


def mark_quotes(text: str, quotes: str | Sequence[str], window: int | None = 280) -> str:
    """HTML of a text with each quote in <mark>; before the first and after the last only
    ``window`` characters.

    Args:
        text: the passage text.
        quotes: the quoted spans (one string: a single quote), e.g. ``Citation.quotes``.
        window: characters of context on each side (None: the whole text).
    """
    part = excerpt(text, quotes, window)
    body = "".join(
        f"<mark>{html.escape(piece)}</mark>" if quoted else html.escape(piece)
        for piece, quoted in part.pieces
    )
    return ("…" if part.cut_before else "") + body + ("…" if part.cut_after else "")


def answer_html(answer: Answer, turn: int, lang: str = "nl") -> str:
    """The chat message of an answer: [n] become links to the source; a refusal is a
    clearly marked note, not an error.

    Args:
        answer: the checked answer.
        turn: the turn's index in the conversation (part of each link).
        lang: the interface language ("nl" or "en").
    """
    if answer.refused:
        key = REFUSAL_HEADINGS.get(answer.refusal_reason or "", "refusal_default")
        heading = text(key, lang)
        return (
            f'<div class="ivb-refusal" role="note"><p><strong>{heading}</strong></p>'
            f"{_paragraphs(html.escape(answer.text))}</div>"
        )
    by_n = {c.n: c for c in answer.citations}

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        c = by_n.get(n)
        if c is None:
            return match.group(0)
        label = html.escape(text("cite_label", lang, n=n, title=c.title, page=c.page), quote=True)
        return f'<a class="ivb-cite" href="#bron-{turn}-{n}" aria-label="{label}">[{n}]</a>'

    body = _CITE_RE.sub(link, html.escape(answer.text, quote=False))
    sources = "; ".join(
        f'<a class="ivb-cite" href="#bron-{turn}-{c.n}">[{c.n}] '
        f"{html.escape(c.title)}, p. {html.escape(c.page)}</a>"
        for c in answer.citations
    )
    tail = f'<p class="ivb-meta">{text("sources_line", lang)}: {sources}</p>' if sources else ""
    # Said above the answer when the model failed or was unavailable and code quoted instead.
    notice = (
        f'<p class="ivb-notice" role="status">{html.escape(answer.notice)}</p>'
        if answer.notice
        else ""
    )
    return f'<div class="ivb-answer">{notice}{_paragraphs(body)}{tail}</div>'


def streaming_html(answer: str, lang: str = "nl") -> str:
    """The chat message while the model is still writing (before the check)."""
    return (
        f'<div class="ivb-answer">{_paragraphs(html.escape(answer)) or "<p>…</p>"}'
        f'<p class="ivb-status">{text("writing", lang)}</p></div>'
    )


def queue_html(place: int, lang: str = "nl") -> str:
    """The chat message while a question waits for the local model: a note, not an error."""
    note = text("queue", lang, place=place)
    return (
        f'<div class="ivb-answer" role="status"><p class="ivb-status">{html.escape(note)}. '
        f"{text('queue_tail', lang)}</p></div>"
    )


def error_html(lang: str = "nl") -> str:
    """The chat message when answering failed: try again or choose another backend."""
    return (
        f'<div class="ivb-error" role="alert"><p><strong>{text("error_title", lang)}</strong>'
        f"</p><p>{text('error_body', lang)}</p></div>"
    )


def sources_html(
    turns: Sequence[Turn], turn: int | None, active: int | None, lang: str = "nl"
) -> str:
    """The source panel: the cited passages of one turn, the chosen one highlighted, each
    with every sentence the answer rests on marked (``Citation.quotes``).

    Args:
        turns: the conversation so far.
        turn: which turn's sources (None: nothing asked yet).
        active: the chosen citation number, if any.
        lang: the interface language.
    """
    name = text("sources", lang)
    if turn is None or not (0 <= turn < len(turns)):
        return (
            f'<section class="ivb-sources" aria-label="{name}"><p class="ivb-h">{name}</p>'
            f"<p>{text('sources_empty', lang)}</p></section>"
        )
    entry = turns[turn]
    heading = f'<p class="ivb-h">{text("sources_of", lang, n=turn + 1)}</p>'
    if not entry.citations:
        note = text("sources_none_refused" if entry.refused else "sources_none", lang)
        return f'<section class="ivb-sources" aria-label="{name}">{heading}<p>{note}</p></section>'
    items = "".join(_source_item(c, turn, c.n == active, lang) for c in entry.citations)
    hint = f"<p>{text('sources_hint', lang)}</p>" if active is None else ""
    return (
        f'<section class="ivb-sources" aria-label="{name}">{heading}{hint}'
        f"<ol>{items}</ol></section>"
    )


def empty_sources_html() -> str:
    """The empty source panel in every interface language (the page shows its own)."""
    return "".join(
        f'<div data-lang="{lang}">{sources_html([], None, None, lang)}</div>' for lang in LANGUAGES
    )


def _source_item(c: CitedSource, turn: int, is_active: bool, lang: str = "nl") -> str:
    """One source in the panel: its title and page as a link, where it is from, the
    passage around its quotes with each quote marked."""
    meta = f"{text('municipality', lang)}: {html.escape(c.municipality)}"
    if c.section:
        meta += f" · {html.escape(c.section)}"
    if c.superseded:
        meta += f' · <strong class="ivb-superseded">{text("superseded", lang)}</strong>'
    current = ' aria-current="true"' if is_active else ""
    return (
        f'<li class="ivb-source{" ivb-active" if is_active else ""}">'
        f'<p class="ivb-source-title"><a class="ivb-source-link" '
        f'href="#bron-{turn}-{c.n}"{current}>'
        f"[{c.n}] {html.escape(c.title)}, {text('page', lang)} {html.escape(c.page)}</a></p>"
        f'<p class="ivb-meta">{meta}</p>'
        f'<blockquote class="ivb-quote">{mark_quotes(c.context, c.quotes)}</blockquote>'
        "</li>"
    )


def _superseded_note(source: CitedSource, lang: str = "nl") -> str:
    if not source.superseded:
        return ""
    return (
        f'<p class="ivb-superseded">{text("superseded", lang)}: '
        f"{text('superseded_check', lang)}.</p>"
    )


def page_caption(source: CitedSource, lang: str = "nl") -> str:
    """The text under a cited PDF page: which page of which document, and the yellow box."""
    caption = text("page_caption", lang, page=source.page, title=source.title)
    return f'<p class="ivb-meta">{html.escape(caption)}</p>{_superseded_note(source, lang)}'


def section_html(source: CitedSource, lang: str = "nl") -> str:
    """A cited source shown without the viewer: its section with every quote marked."""
    section = html.escape(source.section or source.title)
    body = mark_quotes(source.context, source.quotes, window=None)
    return (
        f'<div class="ivb-section-box"><p class="ivb-h">{text("source_n", lang, n=source.n)}: '
        f"{section}</p>"
        f'{_superseded_note(source, lang)}<div class="ivb-section">{body}</div></div>'
    )


def viewer_html(source: CitedSource, lang: str = "nl") -> str:
    """A cited source in the document viewer (web.documents), opened at the cited page with
    each quote marked, with links to open it in its own window and to download it."""
    url = viewer_url(source.doc_id, source.page_index, source.quotes, source.n, source.page)
    url = html.escape(f"{url}&lang={lang}", quote=True)
    title = text("viewer_title", lang, n=source.n, title=source.title, page=source.page)
    frame = text("viewer_frame", lang, title=source.title, page=source.page)
    download = html.escape(document_url(source.doc_id, download=True), quote=True)
    return (
        f'<div class="ivb-viewer-box"><p class="ivb-h">{html.escape(title)}</p>'
        f"{_superseded_note(source, lang)}"
        f'<p class="ivb-viewer-links"><a class="ivb-source-link" href="{url}" target="_blank" '
        f'rel="noopener">{text("open_new", lang)}</a>'
        f'<a class="ivb-source-link" href="{download}" download>{text("download", lang)}</a></p>'
        f'<iframe class="ivb-viewer-frame" id="ivb-viewer-frame" src="{url}" '
        f'title="{html.escape(frame, quote=True)}"></iframe></div>'
    )


def chat_messages(
    turns: Sequence[Turn], pending: tuple[str, str] | None = None
) -> list[dict[str, str]]:
    """The chatbot's messages for a conversation: a question and an answer per turn.

    Args:
        turns: the conversation so far.
        pending: (question, answer HTML) of a question still being answered, shown last.
    """
    shown = [(t.question, t.html) for t in turns]
    if pending is not None:
        shown.append(pending)
    messages: list[dict[str, str]] = []
    for question, answer in shown:
        messages.append({"role": "user", "content": html.escape(question, quote=False)})
        messages.append({"role": "assistant", "content": answer})
    return messages


def done(lang: str = "nl") -> str:
    """The start of a staff message for an action that worked ("**Gelukt.** ")."""
    return f"**{text('done', lang)}** "


def failed(lang: str = "nl") -> str:
    """The start of a staff message for an action that did not ("**Niet gelukt.** ")."""
    return f"**{text('failed', lang)}** "


def upload_markdown(result: UploadResult, lang: str = "nl") -> str:
    """The staff page's message for an upload: done, with what happened, or why not (the
    reasons, notes and warnings come from ingest/, already in the page's language)."""
    if not result.ok:
        lines = [f"{failed(lang)}{html.escape(result.error, quote=False)}"]
        if result.reasons:
            lines += ["", *(f"- {html.escape(r, quote=False)}" for r in result.reasons)]
        return "\n".join(lines)
    chunks = text("chunk_one" if result.chunks == 1 else "chunks", lang, n=result.chunks)
    action = text(f"upload_{result.action or 'unchanged'}", lang)
    note = f"\n\n{html.escape(result.note, quote=False)}" if result.note else ""
    if result.ocr_pages:
        pages = html.escape(", ".join(result.ocr_pages), quote=False)
        note += f"\n\n{text('upload_ocr', lang, pages=pages)}"
    note += "".join(f"\n\n- {html.escape(w, quote=False)}" for w in result.warnings)
    return f"{done(lang)}**{html.escape(result.doc_id)}** {action}: {chunks}.{note}"


def remove_markdown(result: RemoveResult, lang: str = "nl") -> str:
    """The staff page's message for removing a document."""
    if not result.ok:
        return f"{failed(lang)}{html.escape(result.error, quote=False)}"
    note = f" {html.escape(result.note, quote=False)}" if result.note else ""
    return f"{done(lang)}{text('removed', lang, doc_id=html.escape(result.doc_id))}{note}"


def reingest_markdown(report: IngestReport, lang: str = "nl") -> str:
    """The staff page's message for re-reading the corpus folder: the counts, then each
    file that failed and why (those lines come from ingest/, in the report's language)."""
    counts = text(
        "reingest_done",
        lang,
        seconds=f"{report.seconds:.1f}",
        added=len(report.added),
        updated=len(report.updated),
        unchanged=len(report.unchanged),
        removed=len(report.removed),
        failed=len(report.failed),
    )
    lines = [f"{done(lang)}{counts}"]
    lines += [f"- {html.escape(f['error'])}" for f in report.failed]
    return "\n".join(lines)

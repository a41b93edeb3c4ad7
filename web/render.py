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
from web.page_images import excerpt
from web.turns import CitedSource, Turn

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport

DONE = "**Gelukt.** "
FAILED = "**Niet gelukt.** "
LOCAL_QUEUE_TEXT = "Wachtrij lokaal model: u bent nummer {place}"
SUPERSEDED_TEXT = SUPERSEDED[:1].upper() + SUPERSEDED[1:]
REFUSAL_HEADINGS = {
    "injection": "Deze vraag behandel ik niet",
    "busy": "Het taalmodel is nu bezet",
}
UPLOAD_ACTIONS = {
    "added": "toegevoegd",
    "replaced": "vervangen",
    "updated": "bijgewerkt",
    "unchanged": "ongewijzigd (hetzelfde bestand)",
}
_CITE_RE = re.compile(r"\[(\d+)\]")


def _paragraphs(text: str) -> str:
    parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join("<p>" + p.replace("\n", "<br>") + "</p>" for p in parts)


def mark_quote(text: str, quote: str, window: int | None = 280) -> str:
    """HTML of a text with the quote in <mark>; around the quote only ``window`` characters.

    Args:
        text: the passage text.
        quote: the quoted span.
        window: characters of context on each side (None: the whole text).
    """
    part = excerpt(text, quote, window)
    marked = f"<mark>{html.escape(part.quote)}</mark>" if part.quote else ""
    return (
        ("…" if part.cut_before else "")
        + html.escape(part.before)
        + marked
        + html.escape(part.after)
        + ("…" if part.cut_after else "")
    )


def answer_html(answer: Answer, turn: int) -> str:
    """The chat message of an answer: [n] become links to the source; a refusal is a
    clearly marked note, not an error.

    Args:
        answer: the checked answer.
        turn: the turn's index in the conversation (part of each link).
    """
    if answer.refused:
        heading = REFUSAL_HEADINGS.get(answer.refusal_reason, "Niet gevonden in de documenten")
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
        label = html.escape(f"Bron {n}: {c.title}, pagina {c.page}", quote=True)
        return f'<a class="ivb-cite" href="#bron-{turn}-{n}" aria-label="{label}">[{n}]</a>'

    body = _CITE_RE.sub(link, html.escape(answer.text, quote=False))
    sources = "; ".join(
        f'<a class="ivb-cite" href="#bron-{turn}-{c.n}">[{c.n}] '
        f"{html.escape(c.title)}, p. {html.escape(c.page)}</a>"
        for c in answer.citations
    )
    tail = f'<p class="ivb-meta">Bronnen: {sources}</p>' if sources else ""
    # Said above the answer when the model failed or was unavailable and code quoted instead.
    notice = (
        f'<p class="ivb-notice" role="status">{html.escape(answer.notice)}</p>'
        if answer.notice
        else ""
    )
    return f'<div class="ivb-answer">{notice}{_paragraphs(body)}{tail}</div>'


def streaming_html(text: str) -> str:
    """The chat message while the model is still writing (before the check)."""
    return (
        f'<div class="ivb-answer">{_paragraphs(html.escape(text)) or "<p>…</p>"}'
        '<p class="ivb-status">Het antwoord wordt geschreven en daarna gecontroleerd '
        "tegen de bronnen.</p></div>"
    )


def queue_html(place: int) -> str:
    """The chat message while a question waits for the local model: a note, not an error."""
    text = LOCAL_QUEUE_TEXT.format(place=place)
    return (
        f'<div class="ivb-answer" role="status"><p class="ivb-status">{html.escape(text)}. '
        "Het antwoord begint zodra het taalmodel vrij is.</p></div>"
    )


def error_html() -> str:
    """The chat message when answering failed: try again or choose another backend."""
    return (
        '<div class="ivb-error" role="alert"><p><strong>Er ging iets mis.</strong></p>'
        "<p>De vraag kon niet worden beantwoord. Probeer het opnieuw, of kies een ander "
        "antwoordmodel.</p></div>"
    )


def sources_html(turns: Sequence[Turn], turn: int | None, active: int | None) -> str:
    """The source panel: the cited passages of one turn, the chosen one highlighted.

    Args:
        turns: the conversation so far.
        turn: which turn's sources (None: nothing asked yet).
        active: the chosen citation number, if any.
    """
    if turn is None or not (0 <= turn < len(turns)):
        return (
            '<section class="ivb-sources" aria-label="Bronnen"><p class="ivb-h">Bronnen</p>'
            "<p>Hier ziet u de bronnen van het antwoord: het document, de pagina en het "
            "geciteerde stuk.</p></section>"
        )
    entry = turns[turn]
    heading = f'<p class="ivb-h">Bronnen bij vraag {turn + 1}</p>'
    if not entry.citations:
        note = (
            "Bij dit antwoord zijn geen bronnen gebruikt, omdat het antwoord niet in de "
            "documenten staat."
            if entry.refused
            else "Bij dit antwoord zijn geen bronnen gebruikt."
        )
        return f'<section class="ivb-sources" aria-label="Bronnen">{heading}<p>{note}</p></section>'
    items = "".join(_source_item(c, turn, c.n == active) for c in entry.citations)
    hint = "<p>Kies een bron om de pagina te zien.</p>" if active is None else ""
    return (
        f'<section class="ivb-sources" aria-label="Bronnen">{heading}{hint}'
        f"<ol>{items}</ol></section>"
    )


def _source_item(c: CitedSource, turn: int, is_active: bool) -> str:
    """One source in the panel: its title and page as a link, where it is from, the quote."""
    meta = f"Gemeente: {html.escape(c.municipality)}"
    if c.section:
        meta += f" · {html.escape(c.section)}"
    if c.superseded:
        meta += f' · <strong class="ivb-superseded">{SUPERSEDED_TEXT}</strong>'
    current = ' aria-current="true"' if is_active else ""
    return (
        f'<li class="ivb-source{" ivb-active" if is_active else ""}">'
        f'<p class="ivb-source-title"><a class="ivb-source-link" '
        f'href="#bron-{turn}-{c.n}"{current}>'
        f"[{c.n}] {html.escape(c.title)}, pagina {html.escape(c.page)}</a></p>"
        f'<p class="ivb-meta">{meta}</p>'
        f'<blockquote class="ivb-quote">{mark_quote(c.context, c.quote)}</blockquote>'
        "</li>"
    )


def _superseded_note(source: CitedSource) -> str:
    if not source.superseded:
        return ""
    return f'<p class="ivb-superseded">{SUPERSEDED_TEXT}: controleer de actuele versie.</p>'


def page_caption(source: CitedSource) -> str:
    """The text under a cited PDF page: which page of which document, and the yellow box."""
    return (
        f'<p class="ivb-meta">Pagina {html.escape(source.page)} van '
        f"{html.escape(source.title)}. Het geciteerde stuk is geel omlijnd.</p>"
        f"{_superseded_note(source)}"
    )


def section_html(source: CitedSource) -> str:
    """A cited source that is not a PDF page: its section with the quote marked."""
    section = html.escape(source.section or source.title)
    body = mark_quote(source.context, source.quote, window=None)
    return (
        f'<div class="ivb-section-box"><p class="ivb-h">Bron [{source.n}]: {section}</p>'
        f'{_superseded_note(source)}<div class="ivb-section">{body}</div></div>'
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


def upload_markdown(result: UploadResult) -> str:
    """The staff page's message for an upload: done, with what happened, or why not."""
    if not result.ok:
        lines = [f"{FAILED}{html.escape(result.error, quote=False)}"]
        if result.reasons:
            lines += ["", *(f"- {html.escape(r, quote=False)}" for r in result.reasons)]
        return "\n".join(lines)
    unit = "fragment" if result.chunks == 1 else "fragmenten"
    action = UPLOAD_ACTIONS[result.action or "unchanged"]
    note = f"\n\n{html.escape(result.note, quote=False)}" if result.note else ""
    if result.ocr_pages:
        pages = html.escape(", ".join(result.ocr_pages), quote=False)
        note += f"\n\nGelezen met tekstherkenning (OCR): pagina {pages}."
    note += "".join(f"\n\n- {html.escape(w, quote=False)}" for w in result.warnings)
    return f"{DONE}**{html.escape(result.doc_id)}** {action}: {result.chunks} {unit}.{note}"


def remove_markdown(result: RemoveResult) -> str:
    """The staff page's message for removing a document."""
    if not result.ok:
        return f"{FAILED}{html.escape(result.error, quote=False)}"
    note = f" {html.escape(result.note, quote=False)}" if result.note else ""
    return f"{DONE}**{html.escape(result.doc_id)}** is uit de index verwijderd.{note}"


def reingest_markdown(report: IngestReport) -> str:
    """The staff page's message for re-reading the corpus folder: the counts, then each
    file that failed and why."""
    lines = [
        f"{DONE}Corpusmap ingelezen in {report.seconds:.1f} s: {len(report.added)} toegevoegd, "
        f"{len(report.updated)} bijgewerkt, {len(report.unchanged)} ongewijzigd, "
        f"{len(report.removed)} verwijderd, {len(report.failed)} mislukt."
    ]
    lines += [f"- {html.escape(f['error'])}" for f in report.failed]
    return "\n".join(lines)

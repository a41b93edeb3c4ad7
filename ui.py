"""The web app: a Dutch chat over the IVB documents with clickable, checked sources, and a
staff page behind a login that manages the documents.

A thin shell over assistant/ and ingest/: answering, auditing, feedback, login, sources
(assistant.sources) and uploads (ingest.uploads) are library calls; this module lays
them out, wires their events, renders answers and sources as HTML and keeps each browser
session's conversation. The stylesheet, theme and scripts are in assistant.web_assets.

Run with ``ivb serve`` or ``python ui.py``.
"""

import contextlib
import html
import json
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from functools import partial
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from assistant.answer import AnswerPipeline
from assistant.audit import export_audit, prune_audit, record_turn
from assistant.auth import StaffAuth
from assistant.feedback import export_feedback_file, record_feedback
from assistant.prompts import SUPERSEDED
from assistant.service import Service, get_service
from assistant.settings import Settings, get_settings
from assistant.sources import citation_page, cited_sources, excerpt
from assistant.store import StoreLockedError
from assistant.types import Answer
from assistant.web_assets import CSS, DISPATCH_JS, SOURCES_JS, DutchPageMiddleware, theme
from ingest.uploads import (
    UPLOAD_TYPES,
    RemoveResult,
    UploadResult,
    ingest_upload,
    remove_document,
    uploads_folder,
)

log = logging.getLogger("ivb.ui")

TITLE = "IVB-assistent"
DONE = "**Gelukt.** "
FAILED = "**Niet gelukt.** "
ALL = "alle"
MAX_QUESTION = 1000
MAX_HISTORY = 6  # earlier turns a follow-up is read with
UPLOAD_SLACK = 1.5  # gradio's own upload cap, as a multiple of settings.max_file_mb
EXAMPLES = (
    "Welke thema's hebben de drie gemeenten samen geprioriteerd?",
    "Wat zijn de lokale speerpunten van Dronten?",
    "Wanneer wordt het IVB 2024-2027 aan de gemeenteraad aangeboden?",
)
MUNICIPALITY_CHOICES = [
    ("Alle gemeenten", ALL),
    ("Dronten", "Dronten"),
    ("Noordoostpolder", "Noordoostpolder"),
    ("Urk", "Urk"),
]
AUDIENCE_CHOICES = [
    ("Raadslid: precies, met vakbegrippen", "raad"),
    ("Inwoner: in eenvoudige taal", "inwoner"),
]
BACKEND_LABELS = {
    "extractive": "Alleen citaten (zonder taalmodel, snel)",
    "local": "Lokaal taalmodel (op deze server)",
    "openai": "Taalmodel via de ingestelde server",
}
DOC_MUNICIPALITIES = [
    ("Automatisch (uit de tekst)", ""),
    ("Gezamenlijk (alle drie)", "gezamenlijk"),
    ("Dronten", "Dronten"),
    ("Noordoostpolder", "Noordoostpolder"),
    ("Urk", "Urk"),
]
DOC_TYPES = ["beleid", "raadsinformatie", "sessieverslag", "wet", "overig"]
DOC_COLUMNS = [
    "id",
    "titel",
    "gemeente",
    "type",
    "datum",
    "pagina's",
    "fragmenten",
    "opgenomen",
    "status",
]
# The local model answers one question at a time, first come first served (ModelLine);
# this many requests per chat_concurrency slot may wait for it, past that they are refused.
LOCAL_WAITING_PER_SLOT = 4
LOCAL_QUEUE_TEXT = "Wachtrij lokaal model: u bent nummer {place}"
LOCAL_TURN_TEXT = "Het lokale taalmodel beantwoordt uw vraag"
BUSY_TEXT = (
    "Het is nu erg druk; probeer het over een paar minuten opnieuw of kies het snelle "
    "antwoord zonder taalmodel."
)
SUPERSEDED_TEXT = SUPERSEDED[:1].upper() + SUPERSEDED[1:]
REFUSAL_HEADINGS = {
    "injection": "Deze vraag behandel ik niet",
    "busy": "Het taalmodel is nu bezet",
}
_CITE_RE = re.compile(r"\[(\d+)\]")
_REF_RE = re.compile(r"^(\d{1,4})-(\d{1,3})$")

INTRO_MD = """\
# IVB-assistent

Stel een vraag over het **Integraal Veiligheidsbeleid 2024-2027** van de gemeenten Dronten,
Noordoostpolder en Urk. De assistent zoekt het antwoord in de beleidsdocumenten en noemt
bij elk antwoord de bron: het document en de pagina. Kies een nummer zoals [1] om die
bron te zien.

**Goed om te weten.** Dit is geen juridisch advies en geen officieel standpunt van een
gemeente. Staat het antwoord niet in de documenten, dan zegt de assistent dat. Controleer
belangrijke informatie altijd in de bron. Vragen en antwoorden worden zonder naam of
IP-adres bewaard om de dienst te verbeteren; deel daarom geen persoonsgegevens.
"""

UPLOAD_ACTIONS = {
    "added": "toegevoegd",
    "replaced": "vervangen",
    "updated": "bijgewerkt",
    "unchanged": "ongewijzigd (hetzelfde bestand)",
}


# --------------------------------------------------------------------------- helpers


def local_model_available(settings: Settings) -> bool:
    """Whether the local backend can answer: llama-cpp-python is installed and the GGUF
    file is there and intact (checked without downloading anything).

    Args:
        settings: llm_gguf and the model cache folder.
    """
    if find_spec("llama_cpp") is None:
        return False
    from assistant.models import ModelFetchError, ModelHashError, llm_model_path

    try:
        return llm_model_path(settings, fetch=False).is_file()
    except (OSError, ModelHashError, ModelFetchError) as exc:  # ModelMissingError is an OSError
        log.info("local model not offered: %s", exc)
        return False


def available_backends(settings: Settings) -> list[str]:
    """The answer backends this server can use, the configured one first.

    Args:
        settings: llm_backend, llm_gguf and openai_base_url.
    """
    backends = ["extractive"]
    if local_model_available(settings):
        backends.append("local")
    if settings.openai_base_url:
        backends.append("openai")
    if settings.llm_backend in backends:
        backends.remove(settings.llm_backend)
        backends.insert(0, settings.llm_backend)
    return backends


# --------------------------------------------------------------------------- the model's line


class LineFull(Exception):
    """The line for the model is full: the request is not taken (answer it as busy)."""


class Ticket:
    """One request's place in a `ModelLine`. Leave the line when done, also on errors:
    use the ticket as a context manager.
    """

    def __init__(self, line: "ModelLine", number: int) -> None:
        self.line = line
        self.number = number  # the order of joining, for logs

    def place(self) -> int:
        """How many requests are before this one: 0 while it holds the model."""
        return self.line.place(self)

    def places(self, poll_s: float = 1.0) -> Iterator[int]:
        """Wait for this request's turn, yielding its place (1: next) at once, whenever it
        changes, and again every ``poll_s`` seconds; returns when the model is its own."""
        return self.line.wait_turn(self, poll_s)

    def leave(self) -> None:
        """Give up the model, or the place in the line (the ones behind move up)."""
        self.line.leave(self)

    def __enter__(self) -> "Ticket":
        return self

    def __exit__(self, *exc: object) -> None:
        self.leave()


class ModelLine:
    """First come, first served access to one model, shared by the web chat and the API.

    The request at the front holds the model until it leaves, for its whole answer (a
    follow-up's rewrite and the answer itself, so nothing gets in between); the others
    wait in the order they joined and can be told their place.

    Args:
        max_waiting: how many requests may wait behind the one being served; one more is
            refused (`join` raises LineFull).
    """

    def __init__(self, max_waiting: int) -> None:
        self.max_waiting = max(0, max_waiting)
        self._changed = threading.Condition()
        self._line: list[Ticket] = []
        self._joined = 0

    def __len__(self) -> int:
        """The requests in the line: the one being served and those waiting."""
        with self._changed:
            return len(self._line)

    @property
    def waiting(self) -> int:
        """The requests waiting behind the one being served."""
        with self._changed:
            return max(0, len(self._line) - 1)

    def join(self) -> Ticket:
        """Take a place at the back of the line.

        Raises:
            LineFull: max_waiting requests are already waiting.
        """
        with self._changed:
            if len(self._line) > self.max_waiting:
                raise LineFull(f"{len(self._line) - 1} requests are waiting for the model")
            self._joined += 1
            ticket = Ticket(self, self._joined)
            self._line.append(ticket)
            return ticket

    def place(self, ticket: Ticket) -> int:
        """How many requests are before a ticket (0: it holds the model)."""
        with self._changed:
            return self._place(ticket)

    def _place(self, ticket: Ticket) -> int:
        try:
            return self._line.index(ticket)
        except ValueError:
            raise RuntimeError(f"ticket {ticket.number} is no longer in the line") from None

    def wait_turn(self, ticket: Ticket, poll_s: float = 1.0) -> Iterator[int]:
        """See `Ticket.places`."""
        place = self.place(ticket)
        while place:
            yield place
            with self._changed:
                self._changed.wait_for(partial(self._moved, ticket, place), poll_s)
                place = self._place(ticket)

    def _moved(self, ticket: Ticket, place: int) -> bool:
        return self._place(ticket) != place

    def leave(self, ticket: Ticket) -> None:
        """Take a ticket out of the line (a no-op when it already left)."""
        with self._changed:
            if ticket in self._line:
                self._line.remove(ticket)
                self._changed.notify_all()


def _report_place(ticket: Ticket, progress: gr.Progress) -> None:
    """Wait for a ticket's turn, reporting each new place as progress: index is the place
    (1: next), length how many wait, desc the same in words."""
    shown = 0
    for place in ticket.places():
        if place != shown:
            shown = place
            waiting = max(place, ticket.line.waiting)
            desc = LOCAL_QUEUE_TEXT.format(place=place)
            progress((place, waiting), desc=desc, unit="plaats in de wachtrij")
    if shown:
        progress(None, desc=LOCAL_TURN_TEXT)


# --------------------------------------------------------------------------- rendering


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
    return f'<div class="ivb-answer">{_paragraphs(body)}{tail}</div>'


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
    return (
        '<div class="ivb-error" role="alert"><p><strong>Er ging iets mis.</strong></p>'
        "<p>De vraag kon niet worden beantwoord. Probeer het opnieuw, of kies een ander "
        "antwoordmodel.</p></div>"
    )


def sources_html(turns: Sequence[dict[str, Any]], turn: int | None, active: int | None) -> str:
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
    if not entry["citations"]:
        note = (
            "Bij dit antwoord zijn geen bronnen gebruikt, omdat het antwoord niet in de "
            "documenten staat."
            if entry.get("refused")
            else "Bij dit antwoord zijn geen bronnen gebruikt."
        )
        return f'<section class="ivb-sources" aria-label="Bronnen">{heading}<p>{note}</p></section>'
    items = []
    for c in entry["citations"]:
        is_active = c["n"] == active
        meta = f"Gemeente: {html.escape(c['municipality'])}"
        if c.get("section"):
            meta += f" · {html.escape(c['section'])}"
        if c.get("superseded"):
            meta += f' · <strong class="ivb-superseded">{SUPERSEDED_TEXT}</strong>'
        current = ' aria-current="true"' if is_active else ""
        items.append(
            f'<li class="ivb-source{" ivb-active" if is_active else ""}">'
            f'<p class="ivb-source-title"><a class="ivb-source-link" '
            f'href="#bron-{turn}-{c["n"]}"{current}>'
            f"[{c['n']}] {html.escape(c['title'])}, pagina {html.escape(c['page'])}</a></p>"
            f'<p class="ivb-meta">{meta}</p>'
            f'<blockquote class="ivb-quote">{mark_quote(c["context"], c["quote"])}</blockquote>'
            "</li>"
        )
    hint = "<p>Kies een bron om de pagina te zien.</p>" if active is None else ""
    return (
        f'<section class="ivb-sources" aria-label="Bronnen">{heading}{hint}'
        f"<ol>{''.join(items)}</ol></section>"
    )


def _turn_entry(question: str, answer: Answer, turn: int, audit_id: str) -> dict[str, Any]:
    return {
        "question": question,
        "answer": answer.text,
        "html": answer_html(answer, turn),
        "refused": answer.refused,
        "audience": answer.audience,
        "language": answer.language,
        "audit_id": audit_id,
        "citations": cited_sources(answer),
    }


def chat_messages(turns: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """The chatbot's messages for a conversation: a question and an answer per turn."""
    messages: list[dict[str, str]] = []
    for t in turns:
        messages.append({"role": "user", "content": html.escape(t["question"], quote=False)})
        messages.append({"role": "assistant", "content": t["html"]})
    return messages


def _parse_history(history_json: str | None) -> list[tuple[str, str]]:
    """[[question, answer], ...] or [{"question", "answer"}, ...] from the API."""
    if not history_json or not str(history_json).strip():
        return []
    try:
        data = json.loads(history_json)
    except json.JSONDecodeError as exc:
        raise gr.Error(f"history_json is geen geldige JSON: {exc.msg}.") from exc
    if not isinstance(data, list):
        raise gr.Error("history_json moet een lijst zijn van [vraag, antwoord]-paren.")
    pairs = []
    for item in data:
        if isinstance(item, dict):
            pairs.append((str(item.get("question", "")), str(item.get("answer", ""))))
        elif isinstance(item, list | tuple) and len(item) == 2:
            pairs.append((str(item[0]), str(item[1])))
        else:
            raise gr.Error("history_json moet een lijst zijn van [vraag, antwoord]-paren.")
    return pairs


def _short_time(iso: str) -> str:
    """'2026-11-27T19:17:35+00:00' as '2026-11-27 19:17 UTC'."""
    return f"{iso[:10]} {iso[11:16]} UTC" if len(iso) >= 16 and iso[10] == "T" else iso


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


# --------------------------------------------------------------------------- the app


class WebApp:
    """What the page's events call: the chat, sources, feedback and staff actions.

    Args:
        settings: the settings to serve.
        service: the shared service (from settings when None).
    """

    def __init__(self, settings: Settings, service: Service | None = None) -> None:
        self.settings = settings
        self.service = service or get_service(settings)
        self.pipeline = AnswerPipeline(self.service)
        self.auth = StaffAuth(settings)
        self.backends = available_backends(settings)
        self.uploads_dir = uploads_folder(settings)
        self._pruned_at = 0.0
        # One first-come-first-served line for the local model, for the chat and the API.
        self.local_line = ModelLine(settings.chat_concurrency * LOCAL_WAITING_PER_SLOT)

    # -- chat ------------------------------------------------------------------------
    def _backend(self, backend: str | None) -> str:
        if not backend:
            return self.backends[0]
        if backend not in self.backends:
            raise gr.Error(
                f"Antwoordmodel '{backend}' is hier niet beschikbaar; kies uit "
                f"{', '.join(self.backends)}."
            )
        return backend

    def _join_local_line(self) -> Ticket | None:
        """A place in the local model's line, or None (and a log line) when it is full."""
        try:
            return self.local_line.join()
        except LineFull:
            log.warning(
                "local model busy: %d requests waiting, a question was refused",
                self.local_line.waiting,
            )
            return None

    def _busy_answer(self, question: str, audience: str, backend: str) -> Answer:
        """The answer when too many questions wait for the local model: try later."""
        return Answer(
            question=question,
            text=BUSY_TEXT,
            refused=True,
            refusal_reason="busy",
            audience=audience,
            backend=backend,
            model=self.pipeline.model_name(backend),
            timings={"total": 0.0},
        )

    def respond(
        self,
        question: str,
        turns: list[dict[str, Any]],
        audience: str,
        municipality: str,
        backend: str,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        """Answer a question in the chat, streaming; then the checked answer and its sources.

        With the local model the question first waits its turn in the model's line (its
        place shows in the chat), then holds the model for the whole answer. When too many
        wait, the chat says so and the question stays in the box.

        Yields (chatbot, question box, turns, source panel, page image, source detail,
        example questions).
        """
        question = (question or "").strip()[:MAX_QUESTION]
        if not question:
            yield (gr.skip(),) * 7
            return
        turns = list(turns or [])
        backend = self._backend(backend)
        turn = len(turns)
        ticket = None
        if backend == "local":
            ticket = self._join_local_line()
            if ticket is None:
                busy = self._busy_answer(question, audience or self.settings.audience, backend)
                shown = {"question": question, "html": answer_html(busy, turn)}
                yield chat_messages([*turns, shown]), question, *(gr.skip(),) * 5
                return
        with ticket or contextlib.nullcontext():
            session = getattr(request, "session_hash", None)
            yield from self._respond(
                question, turns, audience, municipality, backend, ticket, session
            )

    def _respond(
        self,
        question: str,
        turns: list[dict[str, Any]],
        audience: str,
        municipality: str,
        backend: str,
        ticket: Ticket | None,
        session: str | None,
    ) -> Iterator[tuple[Any, ...]]:
        """`respond` once the question is taken (and, for the local model, has a ticket)."""
        turn = len(turns)
        history = [(t["question"], t["answer"]) for t in turns][-MAX_HISTORY:]
        shown_place = ticket.place() if ticket is not None else 0
        pending = {
            "question": question,
            "html": queue_html(shown_place) if shown_place else streaming_html(""),
        }
        hide_image = gr.Image(value=None, visible=False)
        hide_examples = gr.Column(visible=False)
        yield (
            chat_messages([*turns, pending]),
            "",
            gr.skip(),
            gr.skip(),
            hide_image,
            "",
            hide_examples,
        )
        if ticket is not None:
            # Wait for the model; every poll yields, so a page that went away closes this
            # generator (and frees its place) without waiting for its turn.
            for place in ticket.places():
                if place == shown_place:
                    yield (gr.skip(),) * 7
                    continue
                shown_place = place
                pending["html"] = queue_html(place)
                yield chat_messages([*turns, pending]), *(gr.skip(),) * 6
            if shown_place:
                pending["html"] = streaming_html("")
                yield chat_messages([*turns, pending]), *(gr.skip(),) * 6
        answer: Answer | None = None
        streamed: list[str] = []
        muni = None if municipality in (None, "", ALL) else municipality
        try:
            for piece in self.pipeline.stream(
                question,
                history=history,
                audience=audience or None,
                municipality=muni,
                backend=backend,
            ):
                if isinstance(piece, Answer):
                    answer = piece
                elif backend != "extractive":
                    streamed.append(piece)
                    pending["html"] = streaming_html("".join(streamed))
                    yield chat_messages([*turns, pending]), *(gr.skip(),) * 6
        except Exception:
            log.exception("answering failed")
            pending["html"] = error_html()
            yield chat_messages([*turns, pending]), *(gr.skip(),) * 6
            return
        assert answer is not None
        audit_id = self._audit(answer, session, muni, "web")
        turns.append(_turn_entry(question, answer, turn, audit_id))
        yield (
            chat_messages(turns),
            gr.skip(),
            turns,
            sources_html(turns, turn, None),
            hide_image,
            "",
            gr.skip(),
        )

    def ask_api(
        self,
        question: str,
        audience: str = "raad",
        municipality: str = ALL,
        backend: str = "",
        history_json: str = "[]",
        request: gr.Request | None = None,
    ) -> dict[str, Any]:
        """Answer one question: the structured answer, as `ivb ask --json` gives it.

        With backend "local" the question waits its turn for the model, first come first
        served with the web chat; while it waits, its place is sent as progress ("Wachtrij
        lokaal model: u bent nummer N"). When too many questions wait, the answer is a
        refusal with refusal_reason "busy": ask again later, or use "extractive".

        Args:
            question: the question.
            audience: "raad" or "inwoner".
            municipality: "alle", "Dronten", "Noordoostpolder" or "Urk".
            backend: "extractive", "local" or "openai" (empty: the server's default).
            history_json: earlier turns as JSON, [[question, answer], ...].
        """
        question = (question or "").strip()[:MAX_QUESTION]
        if not question:
            raise gr.Error("Stel een vraag.")
        if audience not in ("raad", "inwoner"):
            raise gr.Error("audience moet 'raad' of 'inwoner' zijn.")
        muni = None if municipality in (None, "", ALL) else municipality
        if muni is not None and muni not in dict(MUNICIPALITY_CHOICES).values():
            raise gr.Error("municipality moet 'alle', 'Dronten', 'Noordoostpolder' of 'Urk' zijn.")
        history = _parse_history(history_json)[-MAX_HISTORY:]
        backend = self._backend(backend)
        ticket = None
        if backend == "local":
            ticket = self._join_local_line()
            if ticket is None:
                return self._busy_answer(question, audience, backend).as_dict()
        with ticket or contextlib.nullcontext():
            if ticket is not None:
                # gr.api does not pass a gr.Progress parameter, but one made here reports
                # to the event that runs this call (a no-op outside one).
                _report_place(ticket, gr.Progress())
            answer = self.pipeline.ask(
                question,
                history=history,
                audience=audience,
                municipality=muni,
                backend=backend,
            )
        session = getattr(request, "session_hash", None) if request is not None else None
        self._audit(answer, session, muni, "api")
        return answer.as_dict()

    def _audit(self, answer: Answer, session: str | None, muni: str | None, channel: str) -> str:
        """Log the turn; once a day, also drop audit records past their retention."""
        now = time.monotonic()
        if now - self._pruned_at > 24 * 3600:
            self._pruned_at = now
            prune_audit(self.settings)
        return record_turn(self.settings, answer, session, municipality=muni, channel=channel)

    def show_source(self, turns: list[dict[str, Any]], evt: gr.EventData) -> tuple[str, Any, str]:
        """Show one citation: the panel with it chosen, the PDF page or the section text."""
        match = _REF_RE.match(str(getattr(evt, "_data", {}).get("ref", "")))
        turns = turns or []
        if match is None or int(match.group(1)) >= len(turns):
            return gr.skip(), gr.skip(), gr.skip()
        turn, n = int(match.group(1)), int(match.group(2))
        citation = next((c for c in turns[turn]["citations"] if c["n"] == n), None)
        if citation is None:
            return gr.skip(), gr.skip(), gr.skip()
        panel = sources_html(turns, turn, n)
        title, page = citation["title"], citation["page"]
        superseded = (
            f'<p class="ivb-superseded">{SUPERSEDED_TEXT}: controleer de actuele versie.</p>'
            if citation.get("superseded")
            else ""
        )
        image = citation_page(citation)
        if image is not None:
            caption = (
                f'<p class="ivb-meta">Pagina {html.escape(page)} van '
                f"{html.escape(title)}. Het geciteerde stuk is geel omlijnd.</p>{superseded}"
            )
            return (
                panel,
                gr.Image(
                    value=image,
                    visible=True,
                    label=f"Bron [{n}]: pagina {page}",
                    alt_text=f"Pagina {page} van {title}; geciteerd: {citation['quote'][:200]}",
                ),
                caption,
            )
        section = html.escape(citation.get("section") or title)
        body = mark_quote(citation["context"], citation["quote"], window=None)
        detail = (
            f'<div class="ivb-section-box"><p class="ivb-h">Bron [{n}]: {section}</p>'
            f'{superseded}<div class="ivb-section">{body}</div></div>'
        )
        return panel, gr.Image(value=None, visible=False), detail

    def clear(self) -> tuple[Any, ...]:
        """A new conversation: an empty chat with the example questions."""
        empty_image = gr.Image(value=None, visible=False)
        return [], [], sources_html([], None, None), empty_image, "", gr.Column(visible=True)

    # -- feedback --------------------------------------------------------------------
    def rate(
        self, turns: list[dict[str, Any]], data: gr.LikeData, request: gr.Request
    ) -> tuple[Any, ...]:
        """Store a thumbs up/down at once; then offer a comment box for that answer."""
        index = data.index[0] if isinstance(data.index, list | tuple) else data.index
        turn = int(index) // 2
        if not turns or turn >= len(turns):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        rating = "up" if data.liked is True else "down" if data.liked is False else "none"
        self._record_feedback(turns[turn], rating, "", request)
        if rating == "none":
            return None, gr.Column(visible=False), "", ""
        verdict = "nuttig" if rating == "up" else "niet goed"
        note = (
            f"Bedankt! U vond antwoord {turn + 1} {verdict}. Wilt u nog iets toelichten? "
            "Dat mag, maar het hoeft niet."
        )
        return {"turn": turn, "rating": rating}, gr.Column(visible=True), note, ""

    def comment(
        self,
        pending: dict[str, Any] | None,
        text: str,
        turns: list[dict[str, Any]],
        request: gr.Request,
    ) -> tuple[Any, ...]:
        """Store the comment that goes with the last rating."""
        if not pending or not turns or pending["turn"] >= len(turns):
            return None, gr.Column(visible=False), "", ""
        self._record_feedback(turns[pending["turn"]], pending["rating"], text or "", request)
        return None, gr.Column(visible=False), "", "Bedankt voor uw toelichting."

    def _record_feedback(
        self, entry: dict[str, Any], rating: str, comment: str, request: gr.Request
    ) -> None:
        record_feedback(
            self.settings,
            question=entry["question"],
            answer=entry["answer"],
            citations=[{k: v for k, v in c.items() if k != "context"} for c in entry["citations"]],
            rating=rating,  # type: ignore[arg-type]
            comment=comment,
            session_hash=getattr(request, "session_hash", None),
            turn_id=entry["audit_id"],
            audience=entry["audience"],
            language=entry["language"],
            refused=entry["refused"],
        )

    # -- staff -----------------------------------------------------------------------
    def _staff(self, token: str | None) -> str:
        """The logged-in staff member, checked on the server; refuses everyone else."""
        user = self.auth.validate(token)
        if user is None:
            raise gr.Error("U bent niet ingelogd of uw sessie is verlopen. Log opnieuw in.")
        return user

    def login(self, username: str, password: str, request: gr.Request) -> tuple[Any, ...]:
        """Log in. Returns (token, message, login form, staff panel, password box, document
        table, delete choices)."""
        client = getattr(getattr(request, "client", None), "host", None)
        result = self.auth.login(username or "", password or "", client)
        if not result.ok:
            log.warning("staff login failed for %r", (username or "")[:40])
            hidden = gr.Column(visible=False)
            return None, result.message, gr.skip(), hidden, "", gr.skip(), gr.skip()
        log.info("staff login: %s", username)
        return (
            result.token,
            f"Ingelogd als **{html.escape(username.strip())}**.",
            gr.Column(visible=False),
            gr.Column(visible=True),
            "",
            *self.documents(result.token),
        )

    def logout(self, token: str | None) -> tuple[Any, ...]:
        self.auth.logout(token)
        return None, "U bent uitgelogd.", gr.Column(visible=True), gr.Column(visible=False)

    def document_rows(self) -> list[list[Any]]:
        """One row per indexed document, for the staff table."""
        rows = []
        for d in self.service.store.documents():
            replaced_by = ", ".join(d.superseded_by)
            status = f"vervangen door {replaced_by}" if replaced_by else "actueel"
            rows.append(
                [
                    d.doc_id,
                    d.title,
                    d.municipality,
                    d.doc_type,
                    d.date,
                    d.pages,
                    d.chunk_count,
                    _short_time(d.ingested_at),
                    status,
                ]
            )
        return rows

    def _doc_choices(self) -> list[tuple[str, str]]:
        return [(f"{d.title} ({d.doc_id})", d.doc_id) for d in self.service.store.documents()]

    def documents(self, token: str | None) -> tuple[Any, Any]:
        """The document table and the choice of documents to delete."""
        self._staff(token)
        return self.document_rows(), gr.Dropdown(choices=self._doc_choices(), value=None)

    def upload(
        self,
        token: str | None,
        file: str | None,
        doc_id: str,
        title: str,
        municipality: str,
        doc_type: str,
        date: str,
        supersedes: str,
    ) -> tuple[Any, ...]:
        """Store an uploaded file with its metadata and ingest it; a failure changes nothing.

        Returns (message, document table, delete choices).
        """
        user = self._staff(token)
        result = ingest_upload(
            self.service,
            file,
            doc_id=doc_id,
            title=title,
            municipality=municipality,
            doc_type=doc_type,
            date=date,
            supersedes=supersedes,
        )
        message = upload_markdown(result)
        log.info("staff %s upload: %s", user, message.splitlines()[0][:200])
        return message, *self.documents(token)

    def delete(self, token: str | None, doc_id: str | None) -> tuple[Any, ...]:
        """Remove a document from the index (and its upload file). Returns (message, table,
        delete choices)."""
        user = self._staff(token)
        result = remove_document(self.service, doc_id)
        if result.ok:
            log.info("staff %s deleted %s", user, doc_id)
        return remove_markdown(result), *self.documents(token)

    def reingest(self, token: str | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Re-read the corpus folder (unchanged files cost nothing). Returns (message, table,
        delete choices)."""
        user = self._staff(token)
        from ingest.pipeline import ingest_paths

        progress(0, desc="Corpusmap inlezen…")

        def on_progress(p: Any) -> None:
            progress((p.files_done, p.files_total), desc=f"Opnemen: {Path(p.current).name}")

        try:
            report = ingest_paths(
                [self.settings.corpus_dir],
                self.settings,
                store=self.service.store,
                embedder=self.service.retriever.embedder,
                prune=True,
                on_progress=on_progress,
            )
        except StoreLockedError:
            return (
                f"{FAILED}Er loopt al een opname; probeer het zo opnieuw.",
                *self.documents(token),
            )
        log.info("staff %s re-ingested the corpus: %s", user, report.as_dict())
        lines = [
            f"{DONE}Corpusmap ingelezen in {report.seconds:.1f} s: {len(report.added)} toegevoegd, "
            f"{len(report.updated)} bijgewerkt, {len(report.unchanged)} ongewijzigd, "
            f"{len(report.removed)} verwijderd, {len(report.failed)} mislukt."
        ]
        lines += [f"- {html.escape(f['error'])}" for f in report.failed]
        return "\n".join(lines), *self.documents(token)

    def export_audit(self, token: str | None) -> Any:
        """The audit log (older records pruned first) as a file to download."""
        user = self._staff(token)
        log.info("staff %s exported the audit log", user)
        return gr.File(value=str(export_audit(self.settings)), visible=True)

    def export_feedback(self, token: str | None) -> Any:
        """Feedback as evaluation items (JSON lines) to download, thumbs-down for review."""
        user = self._staff(token)
        log.info("staff %s exported feedback", user)
        path = export_feedback_file(self.settings, include_negative=True)
        return gr.File(value=str(path), visible=True)


# --------------------------------------------------------------------------- layout


def build_app(settings: Settings, service: Service | None = None) -> gr.Blocks:
    """The whole page: the chat with its source panel, and the staff tab.

    Args:
        settings: the settings to serve (store, backends, staff login, concurrency).
        service: the shared service (from settings when None).
    """
    app = WebApp(settings, service)
    with gr.Blocks(analytics_enabled=False, title=TITLE) as demo:
        turns = gr.State([])
        pending_feedback = gr.State(None)
        token = gr.State(None)
        with gr.Tabs():
            with gr.Tab("Vragen", id="chat"):
                gr.Markdown(INTRO_MD)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chatbot = gr.Chatbot(
                            label="Gesprek",
                            height=520,
                            layout="panel",
                            placeholder="Stel hieronder uw vraag, of kies een voorbeeldvraag.",
                            buttons=["copy"],
                            elem_id="ivb-chat",
                        )
                        # gradio's own chatbot examples are a role="list" without list
                        # items (an axe violation); plain buttons are accessible.
                        with gr.Column(elem_id="ivb-examples") as examples_box:
                            gr.Markdown("**Voorbeeldvragen**")
                            with gr.Row():
                                example_buttons = [
                                    gr.Button(q, size="sm", variant="secondary") for q in EXAMPLES
                                ]
                        with gr.Row():
                            question = gr.Textbox(
                                label="Uw vraag",
                                placeholder="Bijvoorbeeld: wat doen de gemeenten samen?",
                                lines=1,
                                max_lines=4,
                                max_length=MAX_QUESTION,
                                scale=5,
                                elem_id="ivb-question",
                            )
                            with gr.Column(scale=1, min_width=120):
                                send = gr.Button("Vraag stellen", variant="primary")
                                new_chat = gr.Button("Nieuw gesprek", variant="secondary")
                        with gr.Column(visible=False) as comment_box:
                            comment_note = gr.Markdown()
                            comment_text = gr.Textbox(
                                label="Toelichting (optioneel)", lines=2, max_length=2000
                            )
                            comment_send = gr.Button("Toelichting versturen", size="sm")
                        feedback_thanks = gr.Markdown(elem_id="ivb-feedback-result")
                        with gr.Accordion("Instellingen", open=True):
                            audience = gr.Radio(
                                AUDIENCE_CHOICES,
                                value=settings.audience,
                                label="Voor wie is het antwoord?",
                            )
                            municipality = gr.Dropdown(
                                MUNICIPALITY_CHOICES,
                                value=ALL,
                                label="Gemeente",
                                info="Documenten van alle drie gemeenten tellen altijd mee.",
                            )
                            backend = gr.Radio(
                                [(BACKEND_LABELS[b], b) for b in app.backends],
                                value=app.backends[0],
                                label="Antwoordmodel",
                                visible=len(app.backends) > 1,
                            )
                    with gr.Column(scale=2, min_width=300, elem_id="ivb-source-panel"):
                        sources = gr.HTML(
                            sources_html([], None, None),
                            js_on_load=SOURCES_JS,
                            elem_id="ivb-sources",
                        )
                        page_image = gr.Image(
                            label="Bronpagina",
                            type="pil",
                            format="png",
                            interactive=False,
                            visible=False,
                            buttons=["fullscreen", "download"],
                            elem_id="ivb-page-image",
                        )
                        source_detail = gr.HTML("", elem_id="ivb-source-detail")
            with gr.Tab("Beheer", id="staff"):
                _staff_tab(app, token)

        # The chat, on the concurrency group of its backend: extractive and openai answer
        # settings.chat_concurrency at once ("shared"). The local model answers one question
        # at a time, first come first served with the API, in WebApp.local_line: its
        # group has no limit of its own, so that every question takes its place in that
        # line at once and sees it in the chat (too many waiting: "busy").
        chat_inputs = [question, turns, audience, municipality, backend]
        chat_outputs = [chatbot, question, turns, sources, page_image, source_detail, examples_box]
        groups = {"local" if b == "local" else "shared" for b in app.backends}
        for group in sorted(groups):
            limit = None if group == "local" else settings.chat_concurrency
            runner = gr.Button(f"run-{group}", visible="hidden", elem_id=f"ivb-run-{group}")
            runner.click(
                app.respond,
                chat_inputs,
                chat_outputs,
                concurrency_limit=limit,
                concurrency_id=f"chat-{group}",
                api_visibility="private",
                show_progress_on=[chatbot],  # the queue position shows in the chat
            )
        dispatch = {"fn": None, "inputs": [backend], "js": DISPATCH_JS}
        gr.on([question.submit, send.click], **dispatch)
        for button, text in zip(example_buttons, EXAMPLES, strict=True):
            button.click(
                _constant(text), None, question, api_visibility="private", queue=False
            ).then(**dispatch)
        sources.click(
            app.show_source,
            [turns],
            [sources, page_image, source_detail],
            api_visibility="private",
            show_progress_on=[page_image],  # the list stays readable while a page renders
        )
        # "Nieuw gesprek" and the chatbot's own bin both start over.
        gr.on(
            [new_chat.click, chatbot.clear],
            app.clear,
            None,
            [chatbot, turns, sources, page_image, source_detail, examples_box],
            api_visibility="private",
            queue=False,
        )
        chatbot.like(
            app.rate,
            [turns],
            [pending_feedback, comment_box, comment_note, feedback_thanks],
            api_visibility="private",
        )
        comment_send.click(
            app.comment,
            [pending_feedback, comment_text, turns],
            [pending_feedback, comment_box, comment_text, feedback_thanks],
            api_visibility="private",
        )
        # The API on a group of its own, so that API traffic never holds up the web chat;
        # its local-model questions wait in the same line as the chat's (WebApp.local_line).
        gr.api(
            app.ask_api,
            api_name="ask",
            concurrency_id="api",
            concurrency_limit=settings.chat_concurrency,
        )
    demo.queue(default_concurrency_limit=settings.chat_concurrency)
    demo.ivb_app = app  # for tests and main()
    return demo


def _constant(value: str) -> Any:
    """A handler that returns this value (an example question into the question box)."""
    return lambda: value


def _staff_tab(app: WebApp, token: gr.State) -> None:
    if not app.auth.enabled:
        gr.Markdown(
            "## Beheer staat uit\n\nEr zijn geen inloggegevens voor medewerkers ingesteld. "
            "Zet `IVB_STAFF_USERNAME` en `IVB_STAFF_PASSWORD_HASH` (maak de hash met "
            "`ivb hash-password`) en start de assistent opnieuw."
        )
        return
    # No api_name: gradio still names every event after its function (the page itself
    # calls them), but "private" keeps them out of the API page and gradio_client. What
    # guards them is the server-side token check in WebApp._staff.
    private = {"api_visibility": "private"}
    writes = {**private, "concurrency_limit": 1, "concurrency_id": "staff-write"}
    with gr.Column(visible=True) as login_form:
        gr.Markdown("## Inloggen voor medewerkers")
        username = gr.Textbox(label="Gebruikersnaam", autofocus=False)
        password = gr.Textbox(label="Wachtwoord", type="password")
        login_btn = gr.Button("Inloggen", variant="primary")
    login_msg = gr.Markdown(elem_id="ivb-login-result")
    with gr.Column(visible=False) as panel:
        logout_btn = gr.Button("Uitloggen", size="sm")
        gr.Markdown("## Document toevoegen of vervangen")
        with gr.Row():
            file = gr.File(
                label="Bestand (PDF, Word .docx, Markdown .md of tekst .txt)",
                file_types=list(UPLOAD_TYPES),
                type="filepath",
                elem_id="ivb-upload-file",
            )
            with gr.Column():
                doc_id = gr.Textbox(
                    label="Id (optioneel)",
                    info="Leeg: een id uit de bestandsnaam. Een bestaande id vervangt dat "
                    "document.",
                )
                title = gr.Textbox(label="Titel (optioneel)", info="Leeg: uit het document.")
                doc_municipality = gr.Dropdown(
                    DOC_MUNICIPALITIES, value="", label="Gemeente van het document"
                )
        with gr.Row():
            doc_type = gr.Dropdown(
                DOC_TYPES, value="beleid", label="Soort document", allow_custom_value=True
            )
            date = gr.Textbox(label="Datum (JJJJ-MM-DD of JJJJ)")
            supersedes = gr.Textbox(
                label="Vervangt (ids, met komma's)", info="Oudere versies die dit vervangt."
            )
        upload_btn = gr.Button("Opnemen in de index", variant="primary")
        upload_msg = gr.Markdown(elem_id="ivb-upload-result")
        gr.Markdown("## Documenten in de index")
        table = gr.Dataframe(
            headers=DOC_COLUMNS,
            column_widths=["18%", "22%", "10%", "10%", "9%", "6%", "7%", "10%", "8%"],
            value=[],
            interactive=False,
            wrap=True,
            label="Documenten",
            elem_id="ivb-documents",
        )
        with gr.Row():
            to_delete = gr.Dropdown([], label="Document om te verwijderen", value=None)
            delete_btn = gr.Button("Verwijderen uit de index", variant="stop")
        delete_msg = gr.Markdown(elem_id="ivb-delete-result")
        gr.Markdown("## Corpusmap opnieuw inlezen")
        reingest_btn = gr.Button("Corpusmap opnieuw inlezen")
        reingest_msg = gr.Markdown(elem_id="ivb-reingest-result")
        gr.Markdown("## Exporteren")
        with gr.Row():
            audit_btn = gr.Button("Auditlog downloaden")
            feedback_btn = gr.Button("Feedback als evaluatieset downloaden")
        export_file = gr.File(label="Download", visible=False, interactive=False)

    doc_outputs = [table, to_delete]
    gr.on(
        [login_btn.click, password.submit],
        app.login,
        [username, password],
        [token, login_msg, login_form, panel, password, *doc_outputs],
        **private,
    )
    logout_btn.click(app.logout, [token], [token, login_msg, login_form, panel], **private)
    upload_btn.click(
        app.upload,
        [token, file, doc_id, title, doc_municipality, doc_type, date, supersedes],
        [upload_msg, *doc_outputs],
        **writes,
    )
    delete_btn.click(app.delete, [token, to_delete], [delete_msg, *doc_outputs], **writes)
    reingest_btn.click(app.reingest, [token], [reingest_msg, *doc_outputs], **writes)
    audit_btn.click(app.export_audit, [token], [export_file], **private)
    feedback_btn.click(app.export_feedback, [token], [export_file], **private)


def gradio_upload_limit(settings: Settings) -> int:
    """Bytes gradio itself accepts per upload: half as much again as settings.max_file_mb.

    gradio refuses a larger file with its own English message before our handler runs;
    with this slack, a file a bit over the limit reaches `ingest.uploads.check_upload`,
    which names it and the limit in Dutch.

    Args:
        settings: max_file_mb.
    """
    return int(settings.max_file_mb * 1_000_000 * UPLOAD_SLACK)


def launch(demo: gr.Blocks, settings: Settings, **kwargs: Any) -> Any:
    """Start the server for a page made by `build_app`, offline and Dutch.

    Args:
        demo: the page.
        settings: host, port and upload limit.
        kwargs: more `Blocks.launch` arguments (tests pass prevent_thread_lock, quiet).
    """
    options: dict[str, Any] = {
        "server_name": settings.host,
        "server_port": settings.port,
        "theme": theme(),
        "css": CSS,
        "footer_links": ["api"],
        "max_file_size": f"{gradio_upload_limit(settings)}b",
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "enable_monitoring": False,
        "run_history": False,
        "show_error": False,
        "app_kwargs": {"middleware": [Middleware(DutchPageMiddleware)]},
    }
    options.update(kwargs)
    return demo.launch(**options)


def main(settings: Settings | None = None) -> None:
    """Fill an empty store from the corpus folder (with progress), prune the audit log,
    then serve the page on settings.host:settings.port.

    Args:
        settings: the settings (the process-wide ones when None).
    """
    from rich.console import Console

    from ingest.progress import fill_empty_store

    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    console = Console(stderr=True)
    service = get_service(settings)
    fill_empty_store(settings, service.store, console)
    dropped = prune_audit(settings)
    if dropped:
        console.print(
            f"Auditlog: {dropped} regels ouder dan {settings.audit_retention_days} "
            "dagen verwijderd."
        )
    demo = build_app(settings, service)
    launch(demo, settings)


if __name__ == "__main__":
    main()

"""The page: its layout (gradio Blocks) and which handler each event calls.

The chat tab with its source panel, the staff tab, and the named API `ask`. The handlers
are in web.chat and web.staff; `WebApp` holds one of each for a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.backends import BACKEND_LABELS, local_model_notice
from assistant.domain import DATE_FORMATS, DOC_TYPES, JOINT, MUNICIPALITIES
from assistant.service import Service, get_service
from assistant.settings import Settings
from ingest.readers import UPLOAD_LABEL, UPLOAD_TYPES
from web.assets import DISPATCH_JS, SOURCES_JS
from web.chat import ALL, MAX_QUESTION, MUNICIPALITY_CHOICES, ChatHandlers
from web.render import sources_html
from web.staff import StaffHandlers

TITLE = "IVB-assistent"
EXAMPLES = (
    "Welke thema's hebben de drie gemeenten samen geprioriteerd?",
    "Wat zijn de lokale speerpunten van Dronten?",
    "Wanneer wordt het IVB 2024-2027 aan de gemeenteraad aangeboden?",
)
AUDIENCE_CHOICES = [
    ("Raadslid: precies, met vakbegrippen", "raad"),
    ("Inwoner: in eenvoudige taal", "inwoner"),
]
DOC_MUNICIPALITIES = [
    ("Automatisch (uit de tekst)", ""),
    ("Gezamenlijk (alle drie)", JOINT),
    *((m, m) for m in MUNICIPALITIES),
]
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


class WebApp:
    """One page's handlers: the chat (and API) and the staff page, over one service.

    Args:
        settings: the settings to serve.
        service: the shared service (from settings when None).
    """

    def __init__(self, settings: Settings, service: Service | None = None) -> None:
        self.settings = settings
        self.service = service or get_service(settings)
        self.chat = ChatHandlers(settings, self.service)
        self.staff = StaffHandlers(settings, self.service)


def build_app(settings: Settings, service: Service | None = None) -> gr.Blocks:
    """The whole page: the chat with its source panel, the staff tab and the API.

    Args:
        settings: the settings to serve (store, backends, staff login, concurrency).
        service: the shared service (from settings when None).

    Returns:
        The page, not yet launched; its handlers are ``demo.ivb_app`` (a `WebApp`).
    """
    app = WebApp(settings, service)
    with gr.Blocks(analytics_enabled=False, title=TITLE) as demo:
        turns = gr.State([])
        pending_feedback = gr.State(None)
        token = gr.State(None)
        with gr.Tabs():
            with gr.Tab("Vragen", id="chat"):
                page = _chat_tab(app.chat)
            with gr.Tab("Beheer", id="staff"):
                _staff_tab(app.staff, token)
        _wire_chat(app.chat, page, turns, pending_feedback)
        # The API on a group of its own, so that API traffic never holds up the web chat;
        # its local-model questions wait in the chat's line (ChatHandlers.local_line).
        gr.api(
            app.chat.ask_api,
            api_name="ask",
            concurrency_id="api",
            concurrency_limit=settings.chat_concurrency,
        )
    demo.queue(default_concurrency_limit=settings.chat_concurrency)
    demo.ivb_app = app  # for tests and main()
    return demo


@dataclass
class ChatPage:
    """The chat tab's components that its events read or change."""

    chatbot: gr.Chatbot
    examples_box: gr.Column
    example_buttons: list[gr.Button]
    question: gr.Textbox
    send: gr.Button
    new_chat: gr.Button
    comment_box: gr.Column
    comment_note: gr.Markdown
    comment_text: gr.Textbox
    comment_send: gr.Button
    feedback_thanks: gr.Markdown
    save_md: gr.DownloadButton
    save_docx: gr.DownloadButton
    audience: gr.Radio
    municipality: gr.Dropdown
    backend: gr.Radio
    sources: gr.HTML
    page_image: gr.Image
    source_detail: gr.HTML


def _chat_tab(chat: ChatHandlers) -> ChatPage:
    """The chat tab: the conversation, the example questions, the settings and the source
    panel (laid out only; `_wire_chat` connects them)."""
    gr.Markdown(INTRO_MD)
    notice = local_model_notice(chat.settings)
    if notice:
        gr.Markdown(notice, elem_id="ivb-model-notice", elem_classes=["ivb-notice"])
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
                comment_text = gr.Textbox(label="Toelichting (optioneel)", lines=2, max_length=2000)
                comment_send = gr.Button("Toelichting versturen", size="sm")
            feedback_thanks = gr.Markdown(elem_id="ivb-feedback-result")
            save_md, save_docx = _save_buttons()
            with gr.Accordion("Instellingen", open=True):
                audience = gr.Radio(
                    AUDIENCE_CHOICES,
                    value=chat.settings.audience,
                    label="Voor wie is het antwoord?",
                )
                municipality = gr.Dropdown(
                    MUNICIPALITY_CHOICES,
                    value=ALL,
                    label="Gemeente",
                    info="Documenten van alle drie gemeenten tellen altijd mee.",
                )
                backend = gr.Radio(
                    [(BACKEND_LABELS[b], b) for b in chat.backends],
                    value=chat.backends[0],
                    label="Antwoordmodel",
                    visible=len(chat.backends) > 1,
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

    return ChatPage(
        chatbot=chatbot,
        examples_box=examples_box,
        example_buttons=example_buttons,
        question=question,
        send=send,
        new_chat=new_chat,
        comment_box=comment_box,
        comment_note=comment_note,
        comment_text=comment_text,
        comment_send=comment_send,
        feedback_thanks=feedback_thanks,
        save_md=save_md,
        save_docx=save_docx,
        audience=audience,
        municipality=municipality,
        backend=backend,
        sources=sources,
        page_image=page_image,
        source_detail=source_detail,
    )


def _wire_chat(
    chat: ChatHandlers, page: ChatPage, turns: gr.State, pending_feedback: gr.State
) -> None:
    """The chat's events, outside the tabs (where the hidden runner buttons live)."""
    # The chat, on the concurrency group of its backend: extractive and openai answer
    # settings.chat_concurrency at once ("shared"). The local model answers one question
    # at a time, first come first served with the API, in ChatHandlers.local_line: its
    # group has no limit of its own, so that every question takes its place in that
    # line at once and sees it in the chat (too many waiting: "busy").
    chat_inputs = [page.question, turns, page.audience, page.municipality, page.backend]
    chat_outputs = [
        page.chatbot,
        page.question,
        turns,
        page.sources,
        page.page_image,
        page.source_detail,
        page.examples_box,
    ]
    groups = {"local" if b == "local" else "shared" for b in chat.backends}
    for group in sorted(groups):
        limit = None if group == "local" else chat.settings.chat_concurrency
        runner = gr.Button(f"run-{group}", visible="hidden", elem_id=f"ivb-run-{group}")
        runner.click(
            chat.respond,
            chat_inputs,
            chat_outputs,
            concurrency_limit=limit,
            concurrency_id=f"chat-{group}",
            api_visibility="private",
            show_progress_on=[page.chatbot],  # the queue position shows in the chat
        ).then(chat.export_files, [turns], [page.save_md, page.save_docx], **_quiet)
    dispatch = {"fn": None, "inputs": [page.backend], "js": DISPATCH_JS}
    gr.on([page.question.submit, page.send.click], **dispatch)
    for button, text in zip(page.example_buttons, EXAMPLES, strict=True):
        button.click(
            _constant(text), None, page.question, api_visibility="private", queue=False
        ).then(**dispatch)
    page.sources.click(
        chat.show_source,
        [turns],
        [page.sources, page.page_image, page.source_detail],
        api_visibility="private",
        show_progress_on=[page.page_image],  # the list stays readable while a page renders
    )
    # "Nieuw gesprek" and the chatbot's own bin both start over.
    gr.on(
        [page.new_chat.click, page.chatbot.clear],
        chat.clear,
        None,
        [page.chatbot, turns, page.sources, page.page_image, page.source_detail, page.examples_box],
        api_visibility="private",
        queue=False,
    ).then(chat.export_files, [turns], [page.save_md, page.save_docx], **_quiet)
    page.chatbot.like(
        chat.rate,
        [turns],
        [pending_feedback, page.comment_box, page.comment_note, page.feedback_thanks],
        api_visibility="private",
    )
    page.comment_send.click(
        chat.comment,
        [pending_feedback, page.comment_text, turns],
        [pending_feedback, page.comment_box, page.comment_text, page.feedback_thanks],
        api_visibility="private",
    )


# The export files are made after each answer, without a progress mark on the chat.
_quiet = {"api_visibility": "private", "show_progress": "hidden", "queue": False}


def _save_buttons() -> tuple[gr.DownloadButton, gr.DownloadButton]:
    """ "Gesprek opslaan": the conversation with its sources as Markdown or Word (web.export);
    shown once there is an answer."""
    with gr.Row(elem_id="ivb-save"):
        md = gr.DownloadButton(
            "Gesprek opslaan (Markdown)", visible=False, size="sm", elem_id="ivb-save-md"
        )
        docx = gr.DownloadButton(
            "Gesprek opslaan (Word)", visible=False, size="sm", elem_id="ivb-save-docx"
        )
    return md, docx


def _constant(value: str) -> Any:
    """A handler that returns this value (an example question into the question box)."""
    return lambda: value


def _staff_tab(staff: StaffHandlers, token: gr.State) -> None:
    """The staff tab: a login form, then the documents, uploads and exports."""
    if not staff.auth.enabled:
        gr.Markdown(
            "## Beheer staat uit\n\nEr zijn geen inloggegevens voor medewerkers ingesteld. "
            "Zet `IVB_STAFF_USERNAME` en `IVB_STAFF_PASSWORD_HASH` (maak de hash met "
            "`ivb hash-password`) en start de assistent opnieuw."
        )
        return
    # No api_name: gradio still names every event after its function (the page itself
    # calls them), but "private" keeps them out of the API page and gradio_client. What
    # guards them is the server-side token check in StaffHandlers._staff.
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
        upload_fields = _upload_fields()
        upload_btn = gr.Button("Opnemen in de index", variant="primary")
        upload_msg = gr.Markdown(elem_id="ivb-upload-result")
        gr.Markdown("## Documenten in de index")
        table = _document_table()
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
        staff.login,
        [username, password],
        [token, login_msg, login_form, panel, password, *doc_outputs],
        **private,
    )
    logout_btn.click(staff.logout, [token], [token, login_msg, login_form, panel], **private)
    upload_btn.click(
        staff.upload,
        [token, *upload_fields],
        [upload_msg, *doc_outputs],
        **writes,
    )
    delete_btn.click(staff.delete, [token, to_delete], [delete_msg, *doc_outputs], **writes)
    reingest_btn.click(staff.reingest, [token], [reingest_msg, *doc_outputs], **writes)
    audit_btn.click(staff.export_audit, [token], [export_file], **private)
    feedback_btn.click(staff.export_feedback, [token], [export_file], **private)


def _upload_fields() -> list[Any]:
    """The upload form: the file and its metadata, in the order of `StaffHandlers.upload`."""
    gr.Markdown("## Document toevoegen of vervangen")
    with gr.Row():
        file = gr.File(
            label=f"Bestand ({UPLOAD_LABEL})",
            file_types=list(UPLOAD_TYPES),
            type="filepath",
            elem_id="ivb-upload-file",
        )
        with gr.Column():
            doc_id = gr.Textbox(
                label="Id (optioneel)",
                info="Leeg: een id uit de bestandsnaam. Een bestaande id vervangt dat document.",
            )
            title = gr.Textbox(label="Titel (optioneel)", info="Leeg: uit het document.")
            doc_municipality = gr.Dropdown(
                DOC_MUNICIPALITIES, value="", label="Gemeente van het document"
            )
    with gr.Row():
        doc_type = gr.Dropdown(
            list(DOC_TYPES), value="beleid", label="Soort document", allow_custom_value=True
        )
        date = gr.Textbox(label=f"Datum ({DATE_FORMATS})")
        supersedes = gr.Textbox(
            label="Vervangt (ids, met komma's)", info="Oudere versies die dit vervangt."
        )
    return [file, doc_id, title, doc_municipality, doc_type, date, supersedes]


def _document_table() -> gr.Dataframe:
    """The table of indexed documents (filled at login and after each change)."""
    return gr.Dataframe(
        headers=DOC_COLUMNS,
        column_widths=["18%", "22%", "10%", "10%", "9%", "6%", "7%", "10%", "8%"],
        value=[],
        interactive=False,
        wrap=True,
        label="Documenten",
        elem_id="ivb-documents",
    )

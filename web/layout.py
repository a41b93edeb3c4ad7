"""The page: its layout (gradio Blocks) and which handler each event calls.

The chat tab with its source panel, the staff tab, and the named API `ask`. The handlers
are in web.chat (with web.questions) and web.staff; `WebApp` holds one of each for a
page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.backends import local_model_notice
from assistant.domain import DATE_FORMATS, DOC_TYPES, JOINT, MUNICIPALITIES
from assistant.service import Service, get_service
from assistant.settings import Settings
from ingest.readers import UPLOAD_LABEL, UPLOAD_TYPES
from web.assets import DISPATCH_JS, FOLD_SETTINGS_JS, SOURCES_JS
from web.chat import ChatHandlers
from web.i18n import I18N, LANGUAGES, label, request_language, text
from web.questions import ALL, MAX_QUESTION
from web.render import empty_sources_html
from web.staff import StaffHandlers, doc_columns

TITLE = "IVB-assistent"
EXAMPLE_KEYS = ("example_1", "example_2", "example_3")
EXAMPLES = tuple(text(key, "nl") for key in EXAMPLE_KEYS)
AUDIENCE_CHOICES = [(I18N("audience_raad"), "raad"), (I18N("audience_inwoner"), "inwoner")]
MUNICIPALITY_CHOICES = [(I18N("municipality_all"), ALL)] + [(m, m) for m in MUNICIPALITIES]
DOC_MUNICIPALITIES = [
    (I18N("doc_municipality_auto"), ""),
    (I18N("doc_municipality_joint"), JOINT),
    *((m, m) for m in MUNICIPALITIES),
]


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
        gr.HTML(header_html(settings), elem_id="ivb-header", padding=False)
        with gr.Tabs():
            with gr.Tab(I18N("tab_chat"), id="chat"):
                page = _chat_tab(app.chat)
            with gr.Tab(I18N("tab_staff"), id="staff"):
                _staff_tab(app.staff, token)
        _wire_chat(app.chat, page, turns, pending_feedback)
        demo.load(None, None, None, js=FOLD_SETTINGS_JS, api_visibility="private", queue=False)
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


def header_html(settings: Settings) -> str:
    """The page's header: a skip link, the municipality's logo and name, the language
    switch and the accessibility statement, in both languages (CSS shows the page's).

    Args:
        settings: brand_name, brand_logo.
    """
    name = html.escape(settings.brand_name)
    logo = (
        f'<img src="/ivb/logo" alt="{html.escape(settings.brand_name, quote=True)}">'
        if settings.brand_logo is not None
        else ""
    )
    parts = []
    for lang in LANGUAGES:
        other = next(x for x in LANGUAGES if x != lang)
        parts.append(
            f'<div data-lang="{lang}" class="ivb-header">'
            '<a class="utrecht-skip-link ivb-skip" href="#ivb-question">'
            f"{text('skip_link', lang)}</a>"
            f'<div class="ivb-brand">{logo}<span>{name}</span></div>'
            f'<nav aria-label="{text("header_nav", lang)}">'
            "<ul>"
            f'<li><a class="utrecht-link ivb-lang-switch" href="?lang={other}" hreflang="{other}" '
            f'lang="{other}">{text("switch_language", lang)}</a></li>'
            f'<li><a class="utrecht-link" href="/ivb/toegankelijkheid?lang={lang}">'
            f"{text('accessibility', lang)}</a></li></ul></nav></div>"
        )
    return "".join(parts)


def _chat_tab(chat: ChatHandlers) -> ChatPage:
    """The chat tab: the conversation, the example questions, the settings and the source
    panel (laid out only; `_wire_chat` connects them)."""
    gr.Markdown(I18N("intro"))
    notice = local_model_notice(chat.settings)
    if notice:
        gr.Markdown(notice, elem_id="ivb-model-notice", elem_classes=["ivb-notice"])
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320, elem_id="ivb-main"):
            chatbot = gr.Chatbot(
                label=I18N("chat_label"),
                height=520,
                layout="panel",
                placeholder=I18N("chat_placeholder"),
                buttons=["copy"],
                elem_id="ivb-chat",
            )
            # gradio's own chatbot examples are a role="list" without list
            # items (an axe violation); plain buttons are accessible.
            with gr.Column(elem_id="ivb-examples") as examples_box:
                gr.Markdown(I18N("examples"))
                with gr.Row():
                    example_buttons = [
                        gr.Button(I18N(key), size="sm", variant="secondary") for key in EXAMPLE_KEYS
                    ]
            with gr.Row():
                question = gr.Textbox(
                    label=I18N("question_label"),
                    placeholder=I18N("question_placeholder"),
                    lines=1,
                    max_lines=4,
                    max_length=MAX_QUESTION,
                    scale=5,
                    elem_id="ivb-question",
                )
                with gr.Column(scale=1, min_width=120):
                    send = gr.Button(I18N("send"), variant="primary")
                    new_chat = gr.Button(I18N("new_chat"), variant="secondary")
            with gr.Column(visible=False) as comment_box:
                comment_note = gr.Markdown()
                comment_text = gr.Textbox(label=I18N("comment_label"), lines=2, max_length=2000)
                comment_send = gr.Button(I18N("comment_send"), size="sm")
            feedback_thanks = gr.Markdown(elem_id="ivb-feedback-result")
            save_md, save_docx = _save_buttons()
            # Open on a wide screen; folded on a narrow one (SOURCES_JS).
            with gr.Accordion(I18N("settings"), open=True, elem_id="ivb-settings"):
                audience = gr.Radio(
                    AUDIENCE_CHOICES,
                    value=chat.settings.audience,
                    label=I18N("audience_label"),
                )
                municipality = gr.Dropdown(
                    MUNICIPALITY_CHOICES,
                    value=ALL,
                    label=I18N("municipality_label"),
                    info=I18N("municipality_info"),
                )
                backend = gr.Radio(
                    [(I18N(f"backend_{b}"), b) for b in chat.backends],
                    value=chat.backends[0],
                    label=I18N("backend_label"),
                    visible=len(chat.backends) > 1,
                )
        with gr.Column(scale=2, min_width=300, elem_id="ivb-source-panel"):
            sources = gr.HTML(
                empty_sources_html(),
                js_on_load=SOURCES_JS,
                elem_id="ivb-sources",
            )
            page_image = gr.Image(
                label=I18N("page_image_label"),
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
    for button, key in zip(page.example_buttons, EXAMPLE_KEYS, strict=True):
        button.click(
            _example(key), None, page.question, api_visibility="private", queue=False
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
        md = gr.DownloadButton(I18N("save_md"), visible=False, size="sm", elem_id="ivb-save-md")
        docx = gr.DownloadButton(
            I18N("save_docx"), visible=False, size="sm", elem_id="ivb-save-docx"
        )
    return md, docx


def _example(key: str) -> Any:
    """A handler that puts an example question into the question box, in the page's
    language."""

    def example(request: gr.Request) -> str:
        return text(key, request_language(request))

    return example


def _staff_tab(staff: StaffHandlers, token: gr.State) -> None:
    """The staff tab: a login form, then the documents, uploads and exports."""
    if not staff.auth.enabled:
        gr.Markdown(I18N("staff_off"))
        return
    # No api_name: gradio still names every event after its function (the page itself
    # calls them), but "private" keeps them out of the API page and gradio_client. What
    # guards them is the server-side token check in StaffHandlers._staff.
    private = {"api_visibility": "private"}
    writes = {**private, "concurrency_limit": 1, "concurrency_id": "staff-write"}
    with gr.Column(visible=True) as login_form:
        gr.Markdown(I18N("login_title"))
        username = gr.Textbox(label=I18N("username"), autofocus=False)
        password = gr.Textbox(label=I18N("password"), type="password")
        login_btn = gr.Button(I18N("login"), variant="primary")
    login_msg = gr.Markdown(elem_id="ivb-login-result")
    with gr.Column(visible=False) as panel:
        logout_btn = gr.Button(I18N("logout"), size="sm")
        upload_fields = _upload_fields()
        upload_btn = gr.Button(I18N("upload"), variant="primary")
        upload_msg = gr.Markdown(elem_id="ivb-upload-result")
        gr.Markdown(I18N("documents_title"))
        table = _document_table()
        with gr.Row():
            to_delete = gr.Dropdown([], label=I18N("to_delete"), value=None)
            delete_btn = gr.Button(I18N("delete"), variant="stop")
        delete_msg = gr.Markdown(elem_id="ivb-delete-result")
        gr.Markdown(I18N("reingest_title"))
        reingest_btn = gr.Button(I18N("reingest"))
        reingest_msg = gr.Markdown(elem_id="ivb-reingest-result")
        gr.Markdown(I18N("export_title"))
        with gr.Row():
            audit_btn = gr.Button(I18N("export_audit"))
            feedback_btn = gr.Button(I18N("export_feedback"))
        export_file = gr.File(label=I18N("download_file"), visible=False, interactive=False)

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
    gr.Markdown(I18N("upload_title"))
    with gr.Row():
        file = gr.File(
            label=label("file", formats=UPLOAD_LABEL),
            file_types=list(UPLOAD_TYPES),
            type="filepath",
            elem_id="ivb-upload-file",
        )
        with gr.Column():
            doc_id = gr.Textbox(
                label=I18N("doc_id"),
                info=I18N("doc_id_info"),
            )
            title = gr.Textbox(label=I18N("title"), info=I18N("title_info"))
            doc_municipality = gr.Dropdown(
                DOC_MUNICIPALITIES, value="", label=I18N("doc_municipality")
            )
    with gr.Row():
        doc_type = gr.Dropdown(
            list(DOC_TYPES), value="beleid", label=I18N("doc_type"), allow_custom_value=True
        )
        date = gr.Textbox(label=label("date", formats=DATE_FORMATS))
        supersedes = gr.Textbox(label=I18N("supersedes"), info=I18N("supersedes_info"))
    return [file, doc_id, title, doc_municipality, doc_type, date, supersedes]


def _document_table() -> gr.Dataframe:
    """The table of indexed documents (filled at login and after each change)."""
    return gr.Dataframe(
        headers=doc_columns(),  # the page's language once logged in
        column_widths=["18%", "22%", "10%", "10%", "9%", "6%", "7%", "10%", "8%"],
        value=[],
        interactive=False,
        wrap=True,
        label=I18N("documents"),
        elem_id="ivb-documents",
    )

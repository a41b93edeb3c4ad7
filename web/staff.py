"""The staff page's handlers: login, the document table, upload, delete, re-reading the
corpus folder and the exports. Every action checks the login token on the server.

Messages follow the page's language (web.i18n, from each event's request), the per-file
lines from ingest/ (why a file failed and what to do) as well; the CLI prints those in Dutch.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.audit import export_audit
from assistant.auth import LoginResult, StaffAuth
from assistant.feedback import export_feedback_file
from assistant.service import Service
from assistant.settings import Settings
from assistant.store import StoreLockedError
from ingest.upload_meta import UploadMeta
from ingest.uploads import ingest_upload, remove_document, uploads_folder
from web.i18n import DEFAULT_LANGUAGE, request_language, text
from web.render import failed, reingest_markdown, remove_markdown, upload_markdown

log = logging.getLogger("ivb.ui")


def doc_columns(lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """The document table's headers (the columns of `StaffHandlers.document_rows`)."""

    def column(name: str) -> str:
        return text(f"column_{name}", lang)

    return [
        "id", column("title"), column("municipality"), "type", column("date"), column("pages"),
        column("chunks"), column("ingested"), "status",
    ]  # fmt: skip


def _minutes(seconds: float, lang: str) -> str:
    minutes = max(1, round(seconds / 60))
    return text("minute_one", lang) if minutes == 1 else text("minutes", lang, n=minutes)


def _short_time(iso: str) -> str:
    """'2026-11-27T19:17:35+00:00' as '2026-11-27 19:17 UTC'."""
    return f"{iso[:10]} {iso[11:16]} UTC" if len(iso) >= 16 and iso[10] == "T" else iso


class StaffHandlers:
    """What the staff page's events call.

    Args:
        settings: the settings to serve (staff login, corpus folder, upload limits).
        service: the shared service (store, retriever, models).
    """

    def __init__(self, settings: Settings, service: Service) -> None:
        self.settings = settings
        self.service = service
        self.auth = StaffAuth(settings)
        self.uploads_dir = uploads_folder(settings)

    def _staff(self, token: str | None, lang: str = DEFAULT_LANGUAGE) -> str:
        """The logged-in staff member, checked on the server; refuses everyone else."""
        user = self.auth.validate(token)
        if user is None:
            raise gr.Error(text("not_logged_in", lang))
        return user

    def login(self, username: str, password: str, request: gr.Request) -> tuple[Any, ...]:
        """Log in. Returns (token, message, login form, staff panel, password box, document
        table, delete choices)."""
        lang = request_language(request)
        client = getattr(getattr(request, "client", None), "host", None)
        result = self.auth.login(username or "", password or "", client)
        if not result.ok:
            log.warning("staff login failed for %r", (username or "")[:40])
            hidden = gr.Column(visible=False)
            message = self.login_failure(result, lang)
            return None, message, gr.skip(), hidden, "", gr.skip(), gr.skip()
        log.info("staff login: %s", username)
        rows, choices = self.documents(result.token, request)
        return (
            result.token,
            text("logged_in_as", lang, user=html.escape(username.strip())),
            gr.Column(visible=False),
            gr.Column(visible=True),
            "",
            # The headers once, in the page's language; the session keeps them.
            gr.Dataframe(value=rows, headers=doc_columns(lang)),
            choices,
        )

    def login_failure(self, result: LoginResult, lang: str) -> str:
        """Why a login failed, in a language (the page's, or the API caller's; `StaffAuth`
        words it in Dutch)."""
        if not self.auth.enabled:
            return text("staff_off", lang)
        if result.retry_after_s:
            return text("login_blocked", lang, wait=_minutes(result.retry_after_s, lang))
        return text("login_wrong", lang)

    def logout(self, token: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        """Log out. Returns (token, message, login form, staff panel)."""
        self.auth.logout(token)
        message = text("logged_out", request_language(request))
        return None, message, gr.Column(visible=True), gr.Column(visible=False)

    def document_rows(self, lang: str = DEFAULT_LANGUAGE) -> list[list[Any]]:
        """One row per indexed document, for the staff table (columns: `doc_columns`)."""
        rows = []
        for d in self.service.store.documents():
            replaced_by = ", ".join(d.superseded_by)
            status = (
                text("doc_replaced_by", lang, ids=replaced_by)
                if replaced_by
                else text("doc_current", lang)
            )
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

    def documents(self, token: str | None, request: gr.Request | None = None) -> tuple[Any, Any]:
        """The document table and the choice of documents to delete."""
        lang = request_language(request)
        self._staff(token, lang)
        return self._table(lang)

    def _table(self, lang: str) -> tuple[Any, Any]:
        """The document table and the delete choices, for an action already checked."""
        return self.document_rows(lang), gr.Dropdown(choices=self._doc_choices(), value=None)

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
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """Store an uploaded file with its metadata and ingest it; a failure changes nothing.

        The metadata arrives as the page's form fields (an `UploadMeta` is made of them).
        Returns (message, document table, delete choices).
        """
        lang = request_language(request)
        user = self._staff(token, lang)
        meta = UploadMeta.from_form(doc_id, title, municipality, doc_type, date, supersedes)
        result = ingest_upload(self.service, file, meta, lang)
        message = upload_markdown(result, lang)
        log.info("staff %s upload: %s %s", user, result.code or result.action, result.doc_id)
        return message, *self._table(lang)

    def delete(
        self, token: str | None, doc_id: str | None, request: gr.Request | None = None
    ) -> tuple[Any, ...]:
        """Remove a document from the index (and its upload file). Returns (message, table,
        delete choices)."""
        lang = request_language(request)
        user = self._staff(token, lang)
        result = remove_document(self.service, doc_id, lang)
        if result.ok:
            log.info("staff %s deleted %s", user, doc_id)
        return remove_markdown(result, lang), *self._table(lang)

    def reingest(
        self,
        token: str | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """Re-read the corpus folder (unchanged files cost nothing). Returns (message, table,
        delete choices)."""
        lang = request_language(request)
        user = self._staff(token, lang)
        from ingest.pipeline import ingest_paths

        progress(0, desc=text("reingest_reading", lang))

        def on_progress(p: Any) -> None:
            name = Path(p.current).name
            progress((p.files_done, p.files_total), desc=text("reingest_file", lang, name=name))

        try:
            report = ingest_paths(
                [self.settings.corpus_dir],
                self.settings,
                store=self.service.store,
                embedder=self.service.retriever.embedder,
                prune=True,
                on_progress=on_progress,
                lang=lang,
            )
        except StoreLockedError:
            return (
                f"{failed(lang)}{text('reingest_busy', lang)}",
                *self._table(lang),
            )
        log.info("staff %s re-ingested the corpus: %s", user, report.as_dict())
        return reingest_markdown(report, lang), *self._table(lang)

    def export_audit(self, token: str | None, request: gr.Request | None = None) -> Any:
        """The audit log (older records pruned first) as a file to download."""
        user = self._staff(token, request_language(request))
        log.info("staff %s exported the audit log", user)
        return gr.File(value=str(export_audit(self.settings)), visible=True)

    def export_feedback(self, token: str | None, request: gr.Request | None = None) -> Any:
        """Feedback as evaluation items (JSON lines) to download, thumbs-down for review."""
        user = self._staff(token, request_language(request))
        log.info("staff %s exported feedback", user)
        path = export_feedback_file(self.settings, include_negative=True)
        return gr.File(value=str(path), visible=True)

"""The web app without a browser: staff login, uploads, the audit log, feedback, the page
as served, and the named API through gradio_client against the real app on loopback.

The app runs for real: a seeded Chroma store, the real embedding model, the extractive
backend (no LLM needed), launched in this process on a free loopback port.
"""

from __future__ import annotations

import json
import re
import threading
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.util import find_spec
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

import ui
from assistant.answer import AnswerPipeline
from assistant.audit import append_jsonl, prune_audit, pseudonym, read_jsonl, record_turn
from assistant.auth import StaffAuth, hash_password, verify_password
from assistant.backends import available_backends
from assistant.feedback import export_feedback, record_feedback
from assistant.model_line import LineFull, ModelLine, Ticket
from assistant.settings import Settings
from assistant.types import Answer, Citation
from ingest.upload_meta import UploadMeta
from ingest.uploads import sanitise_filename, stage_upload
from tests.conftest import SEED_ID, SEED_PDF, THEMES_PAGES
from tests.pdf_factory import (
    PdfPage,
    make_corrupt_pdf,
    make_encrypted_pdf,
    make_scanned_pdf,
    make_text_pdf,
)
from tests.servers import free_port, running_app
from web.api_schemas import CitationOut
from web.i18n import PREFIX, TEXTS
from web.layout import WebApp, build_app
from web.page_images import find_span, render_page
from web.questions import BUSY_TEXT, LOCAL_WAITING_PER_SLOT
from web.render import (
    DONE,
    FAILED,
    SUPERSEDED_TEXT,
    answer_html,
    mark_quotes,
    section_html,
    sources_html,
)
from web.turns import CitedSource, Turn, cited_sources

PASSWORD = "correct horse battery staple"
QUESTION = "Welke thema's hebben de drie gemeenten samen geprioriteerd?"
FOLLOW_UP = "En welke lokale speerpunten heeft Dronten?"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _staff_settings(base: Settings, **update: object) -> Settings:
    values: dict[str, object] = {
        "staff_username": "beheer",
        "staff_password_hash": SecretStr(hash_password(PASSWORD)),
        "login_max_failures": 3,
        "login_window_s": 60,
        "session_ttl_s": 600,
    }
    values.update(update)
    return base.model_copy(update=values)


# --------------------------------------------------------------------------- auth


def test_hash_and_verify_password():
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$2") and PASSWORD not in hashed
    assert verify_password(PASSWORD, hashed)
    assert not verify_password("wrong", hashed)
    assert not verify_password(PASSWORD, "not-a-bcrypt-hash")
    assert not verify_password("", hashed)
    with pytest.raises(ValueError):
        hash_password("x" * 73)


@pytest.mark.both_stores
def test_login_gives_a_token_that_expires(settings):
    clock = FakeClock()
    auth = StaffAuth(_staff_settings(settings), clock=clock)
    assert auth.enabled
    result = auth.login("beheer", PASSWORD, "10.0.0.1")
    assert result.ok and result.token
    assert auth.validate(result.token) == "beheer"
    assert auth.validate(result.token + "x") is None
    assert auth.validate(None) is None
    clock.now += 599
    assert auth.validate(result.token) == "beheer"
    clock.now += 2
    assert auth.validate(result.token) is None  # expired after session_ttl_s


@pytest.mark.both_stores
def test_logout_ends_the_session(settings):
    auth = StaffAuth(_staff_settings(settings))
    token = auth.login("beheer", PASSWORD, "10.0.0.1").token
    auth.logout(token)
    assert auth.validate(token) is None


@pytest.mark.both_stores
def test_failed_logins_are_rate_limited_per_user_and_client(settings):
    clock = FakeClock()
    auth = StaffAuth(_staff_settings(settings), clock=clock)
    for _ in range(3):
        assert not auth.login("beheer", "fout", "10.0.0.1").ok
    blocked = auth.login("beheer", PASSWORD, "10.0.0.1")
    assert not blocked.ok and blocked.retry_after_s > 0 and "Te veel" in blocked.message
    # Another client address is not blocked by these failures.
    assert auth.login("beheer", PASSWORD, "10.0.0.2").ok
    # After the window the right password works again.
    clock.now += 61
    assert auth.login("beheer", PASSWORD, "10.0.0.1").ok


def test_wrong_username_fails_like_a_wrong_password(settings):
    auth = StaffAuth(_staff_settings(settings))
    result = auth.login("iemand", PASSWORD, "10.0.0.1")
    assert not result.ok and result.message == "Onjuiste gebruikersnaam of wachtwoord."


def test_staff_login_is_off_without_credentials(settings):
    auth = StaffAuth(settings)
    assert not auth.enabled
    assert not auth.login("", "", None).ok
    demo = build_app(settings)
    texts = [_dutch(b.value) for b in demo.blocks.values() if isinstance(b, gr.Markdown)]
    assert any("Beheer staat uit" in str(t) for t in texts)


# --------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        ("rapport.pdf", "rapport.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\nota.PDF", "nota.pdf"),
        ("nul\x00byte.pdf", "nulbyte.pdf"),
        ("regel\nnieuw\t.txt", "regelnieuw.txt"),
        ("...", "upload"),
        ("..", "upload"),
        (".verborgen.md", "verborgen.md"),
        ("a..b..c.docx", "a.b.c.docx"),
        ("café rapport (2024).pdf", "café rapport (2024).pdf"),
    ],
)
def test_sanitise_filename(given_name, expected):
    assert sanitise_filename(given_name) == expected


def test_sanitise_filename_limits_length_and_keeps_the_extension():
    name = sanitise_filename("é" * 500 + ".pdf")
    assert name.endswith(".pdf") and len(name.encode()) <= 120


@given(st.text(min_size=0, max_size=300))
def test_sanitised_names_stay_in_their_folder(name):
    safe = sanitise_filename(name)
    folder = Path("/srv/uploads")
    assert safe and "/" not in safe and "\x00" not in safe and safe not in (".", "..")
    assert not safe.startswith(".")
    assert (folder / safe).parent == folder
    assert len(safe.encode()) <= 120


# --------------------------------------------------------------------------- audit


def _answer(question: str = QUESTION, refused: bool = False) -> Answer:
    citation = Citation(
        n=1,
        chunk_id="doc:abc:00001",
        doc_id="doc",
        title="Nota",
        page="2",
        page_index=1,
        source="/x/nota.pdf",
        quote="cybercrime en digitale veiligheid",
    )
    return Answer(
        question=question,
        text="De thema's zijn cybercrime en digitale veiligheid [1].",
        refused=refused,
        citations=[] if refused else [citation],
        backend="extractive",
        model="extractive",
        timings={"retrieve": 0.01234},
    )


def test_audit_record_is_pseudonymous(settings):
    record_turn(settings, _answer(), "session-hash-1", municipality="Urk")
    (record,) = read_jsonl(settings.audit_path)
    assert record["session"] == pseudonym("session-hash-1") != "session-hash-1"
    assert "session-hash-1" not in settings.audit_path.read_text()
    assert record["question"] == QUESTION and record["municipality"] == "Urk"
    assert record["citations"][0]["page"] == "2" and record["refused"] is False
    assert record["backend"] == "extractive" and record["timings"] == {"retrieve": 0.012}
    assert datetime.fromisoformat(record["time"]).tzinfo is not None
    assert not {"ip", "client", "host", "address", "user"} & set(record)
    assert settings.audit_path.stat().st_mode & 0o777 == 0o600


def test_the_audit_record_keeps_every_quote_of_a_citation(settings):
    """A citation resting on two sentences: the record keeps both in ``quotes`` and the
    first in ``quote`` (it kept only ``quote``)."""
    answer = _answer()
    first = answer.citations[0].quote
    second = "Voor de gemeente Dronten zijn dat"
    cited = answer.citations[0].model_copy(update={"quotes": [first, second]})
    record_turn(settings, answer.model_copy(update={"citations": [cited]}), "s")
    (record,) = read_jsonl(settings.audit_path)
    assert record["citations"][0]["quote"] == first
    assert record["citations"][0]["quotes"] == [first, second]


def test_audit_appends_from_many_threads_stay_whole(settings):
    def write(worker: int) -> None:
        for i in range(50):
            append_jsonl(
                settings.audit_path,
                {"time": "2026-01-01T00:00:00+00:00", "worker": worker, "i": i, "pad": "x" * 2000},
            )

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = settings.audit_path.read_text().splitlines()
    assert len(lines) == 400
    assert {(r["worker"], r["i"]) for r in map(json.loads, lines)} == {
        (w, i) for w in range(8) for i in range(50)
    }


def test_prune_audit_drops_old_records_atomically(settings):
    now = datetime(2026, 6, 1, tzinfo=UTC)
    for days in (400, 366, 364, 1):
        when = (now - timedelta(days=days)).isoformat()
        append_jsonl(settings.audit_path, {"time": when, "days": days})
    settings.audit_path.open("a").write("not json\n")  # kept: never lose what we cannot read
    assert prune_audit(settings, now=now) == 2
    kept = read_jsonl(settings.audit_path)
    assert [r["days"] for r in kept] == [364, 1]
    assert "not json" in settings.audit_path.read_text()
    assert prune_audit(settings, now=now) == 0
    assert not [p for p in settings.audit_path.parent.iterdir() if p.name.startswith(".audit-")]


# --------------------------------------------------------------------------- feedback


def test_feedback_exports_to_the_eval_format(settings):
    answer = _answer()
    record_feedback(
        settings,
        question=QUESTION,
        answer=answer.text,
        citations=answer.citations,
        rating="down",
        session_hash="s1",
        turn_id="t1",
    )
    record_feedback(
        settings,
        question=QUESTION,
        answer=answer.text,
        citations=answer.citations,
        rating="up",
        comment="Klopt.",
        session_hash="s1",
        turn_id="t1",
    )
    refused = _answer("Hoe laat is het?", refused=True)
    record_feedback(
        settings,
        question=refused.question,
        answer="Dat staat er niet.",
        citations=[],
        rating="up",
        turn_id="t2",
        refused=True,
    )
    record_feedback(
        settings,
        question="Wie is de burgemeester?",
        answer="Iets onjuists.",
        citations=[],
        rating="down",
        comment="Fout antwoord",
        turn_id="t3",
    )

    stored = read_jsonl(settings.feedback_path)
    assert len(stored) == 4 and stored[1]["comment"] == "Klopt." and stored[1]["session"]
    assert {"question", "answer", "citations", "rating", "comment", "time", "session"} <= set(
        stored[0]
    )

    items = export_feedback(settings)
    assert [i["question"] for i in items] == [QUESTION, "Hoe laat is het?"]
    first = items[0]
    assert set(first) == {
        "id",
        "question",
        "audience",
        "language",
        "answerable",
        "reference_answer",
        "sources",
        "tags",
        "notes",
    }
    assert first["answerable"] is True
    assert first["reference_answer"] == "De thema's zijn cybercrime en digitale veiligheid."
    assert "key_facts" not in first  # from_feedback leaves key facts to a reviewer
    assert first["sources"] == [{"doc_id": "doc", "page": "2"}]
    assert items[1]["answerable"] is False and "sources" not in items[1]

    with_negative = export_feedback(settings, include_negative=True)
    review = [i for i in with_negative if i.get("needs_review")]
    assert [i["notes"].split(" | ")[0] for i in review] == ["Fout antwoord"]


# --------------------------------------------------------------------------- sources


def test_find_span_ignores_line_breaks_and_quote_styles():
    text = "op drie geprioriteerde thema’s, namelijk\r\n‘cybercrime en digitale veiligheid’"
    start, end = find_span(text, "thema's, namelijk 'cybercrime")
    assert text[start:end] == "thema’s, namelijk\r\n‘cybercrime"
    assert find_span(text, "iets anders") is None
    marked = mark_quotes("a <b> cybercrime en zo", "cybercrime")
    assert marked == "a &lt;b&gt; <mark>cybercrime</mark> en zo"


FIRST = "De drie gemeenten werken samen op drie thema’s."
SECOND = "Voor Dronten zijn dat zorg & veiligheid."
CONTEXT = f"Inleiding. {FIRST} Een zin die niet geciteerd is. {SECOND} Slot."


def _turn(citations: list[CitedSource]) -> Turn:
    return Turn(question="Q?", answer="A [1].", html="", refused=False, audience="raad",
                language="nl", audit_id="a", citations=citations)  # fmt: skip


def _marked(page: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", page)


def test_source_panel_marks_every_sentence_a_citation_quotes():
    """A citation resting on two sentences of its chunk: the panel and the section view
    mark both, not the sentence between them (only the first was marked)."""
    source = CitedSource(n=1, chunk_id="c", doc_id="d", title="Nota", page="2", page_index=1,
                         source="/x/nota.docx", quote=FIRST, quotes=[FIRST, SECOND],
                         context=CONTEXT)  # fmt: skip
    escaped = [FIRST, SECOND.replace("&", "&amp;")]
    panel = sources_html([_turn([source])], 0, 1)
    assert _marked(panel) == escaped and "Een zin die niet geciteerd is." in panel
    assert _marked(section_html(source)) == escaped
    # The excerpt runs from before the first quote to after the last.
    assert _marked(mark_quotes(CONTEXT, [SECOND, FIRST], window=3)) == escaped
    assert mark_quotes(CONTEXT, [SECOND, FIRST], window=3).startswith("…g. <mark>")
    # The API shows both beside the first.
    out = CitationOut.model_validate(source.model_dump())
    assert (out.quote, out.quotes) == (FIRST, [FIRST, SECOND])


def test_source_panel_marks_both_sentences_of_a_real_answer(seeded_service):
    """The Dronten question is answered by two sentences of one chunk: the source panel of
    that turn marks both."""
    answer = AnswerPipeline(seeded_service).ask(
        "Wat zijn de lokale speerpunten van Dronten?", backend="extractive"
    )
    (source,) = cited_sources(answer)
    panel = sources_html([_turn([source])], 0, 1)
    marked = [m.replace("&amp;", "&") for m in _marked(panel)]
    assert len(answer.sentences) == 2 and marked == [s.text for s in answer.sentences]


def test_render_page_marks_every_quote():
    """The page image boxes each quote of a citation, not only the first."""
    first, second = "cybercrime en digitale veiligheid", "Voor de gemeente Dronten zijn dat"
    one = render_page(SEED_PDF, 1, first)
    both = render_page(SEED_PDF, 1, [first, second])
    assert one is not None and both is not None and one.size == both.size
    differing = sum(
        1
        for a, b in zip(one.get_flattened_data(), both.get_flattened_data(), strict=True)
        if a != b
    )
    assert differing > 500  # the second box


def test_render_page_marks_the_quote():
    quote = "cybercrime en digitale veiligheid"
    plain = render_page(SEED_PDF, 1)
    marked = render_page(SEED_PDF, 1, quote)
    assert plain is not None and marked is not None and plain.size == marked.size
    assert plain.width > 800
    differing = sum(
        1
        for a, b in zip(plain.get_flattened_data(), marked.get_flattened_data(), strict=True)
        if a != b
    )
    assert differing > 500  # the translucent box
    assert render_page(SEED_PDF.with_name("missing.pdf"), 0) is None


def test_answer_html_links_citations_and_marks_refusals():
    html = answer_html(_answer(), turn=3)
    assert 'href="#bron-3-1"' in html and "[1]" in html
    refusal = answer_html(_answer(refused=True).model_copy(update={"text": "Niet <hier>."}), 0)
    assert 'class="ivb-refusal"' in refusal and "&lt;hier&gt;" in refusal


# --------------------------------------------------------------------------- uploads


@pytest.fixture(scope="module")
def staff_app(tmp_path_factory, base_settings, embedder):
    """A WebApp over its own seeded store, with staff login configured."""
    from assistant.service import get_service
    from tests.servers import seed_store

    settings = _staff_settings(base_settings, store_dir=tmp_path_factory.mktemp("staff"))
    seed_store(settings, embedder)
    service = get_service(settings, embedder)
    return WebApp(settings, service)


def _fact_pdf(path: Path, fact: str) -> Path:
    page = PdfPage(blocks=[("h", "Cyberlab Urk"), ("p", [fact, "Het lab is open voor iedereen."])])
    return make_text_pdf(path, [page], title="Cyberlab Urk")


def _uploads(app: WebApp) -> list[str]:
    if not app.staff.uploads_dir.exists():
        return []
    return sorted(p.name for p in app.staff.uploads_dir.iterdir() if not p.name.startswith("."))


def test_stage_upload_keeps_other_documents_files_and_rolls_back(tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "nota.pdf").write_bytes(b"of another document")
    (uploads / "mine.pdf").write_bytes(b"old version")
    source = tmp_path / "upload.bin"
    source.write_bytes(b"new")
    owners = {
        str(uploads.resolve() / "nota.pdf"): "other",
        str(uploads.resolve() / "mine.pdf"): "me",
    }

    staged = stage_upload(source, uploads, "../nota.pdf", UploadMeta(doc_id="me"), owners)
    assert staged.target.name == "nota-2.pdf" and staged.target.read_bytes() == b"new"
    assert (uploads / "nota.pdf").read_bytes() == b"of another document"
    staged.rollback()
    assert sorted(p.name for p in uploads.iterdir() if p.is_file()) == ["mine.pdf", "nota.pdf"]

    meta = UploadMeta(doc_id="me", title='A "quoted"\x7f title')
    staged = stage_upload(source, uploads, "mine.pdf", meta, owners)
    assert staged.target.read_bytes() == b"new" and staged.sidecar.is_file()
    assert tomllib.loads(staged.sidecar.read_text()) == {"id": "me", "title": 'A "quoted" title'}
    staged.rollback()  # the old version comes back
    assert (uploads / "mine.pdf").read_bytes() == b"old version"
    assert not (uploads / "mine.pdf.meta.toml").exists()


def test_upload_meta_is_read_from_form_fields_and_checked_before_writing():
    meta = UploadMeta.from_form(" nota ", " Titel ", None, " beleid ", " 2024-02 ", "a, b  c")
    assert meta.supersedes == ("a", "b", "c")
    checked = meta.checked("Mijn nota")
    assert checked == UploadMeta("nota", "Titel", "", "beleid", "2024-02", ("a", "b", "c"))
    assert UploadMeta().checked("Mijn nota 2024").doc_id == "Mijn_nota_2024"
    with pytest.raises(ValueError, match=r"^Datum 'gisteren' is ongeldig"):
        UploadMeta(date="gisteren").checked("x")
    with pytest.raises(ValueError, match=r"^Ongeldige id bij 'vervangt': \$x\.$"):
        UploadMeta.from_form(supersedes="a,$x").checked("x")


def test_staff_actions_need_a_live_token(staff_app):
    with pytest.raises(gr.Error):
        staff_app.staff.upload(None, str(SEED_PDF), "", "", "", "beleid", "", "")
    with pytest.raises(gr.Error):
        staff_app.staff.delete("forged-token", SEED_ID)
    with pytest.raises(gr.Error):
        staff_app.staff.export_audit("")
    assert staff_app.service.store.document(SEED_ID) is not None


def test_upload_replace_and_failed_upload_change_nothing(staff_app, tmp_path):
    app = staff_app
    token = app.staff.auth.login("beheer", PASSWORD, "127.0.0.1").token
    store = app.service.store

    first = _fact_pdf(tmp_path / "cyberlab urk.pdf", "Het cyberlab opent in 2031.")
    message, *_ = app.staff.upload(
        token, str(first), "urk-cyberlab", "", "Urk", "beleid", "2026", ""
    )
    assert message.startswith(DONE) and "toegevoegd" in message, message
    assert _uploads(app) == ["cyberlab urk.pdf", "cyberlab urk.pdf.meta.toml"]
    sidecar = (app.staff.uploads_dir / "cyberlab urk.pdf.meta.toml").read_text()
    assert 'id = "urk-cyberlab"' in sidecar and 'municipality = "Urk"' in sidecar
    record = store.document("urk-cyberlab")
    assert record is not None and record.municipality == "Urk" and record.date == "2026"

    # Replace: same id, other file name and content; the old upload file goes.
    second = _fact_pdf(tmp_path / "nieuw.pdf", "Het cyberlab opent op 14 maart 2031.")
    message, *_ = app.staff.upload(token, str(second), "urk-cyberlab", "", "Urk", "beleid", "", "")
    assert message.startswith(DONE) and "vervangen" in message, message
    assert _uploads(app) == ["nieuw.pdf", "nieuw.pdf.meta.toml"]
    replaced = store.document("urk-cyberlab")
    assert replaced is not None and replaced.doc_hash != record.doc_hash

    # Failures (a corrupt file under the current file's name, an encrypted PDF, a wrong
    # type): the index and the uploads folder stay as they were.
    before = (
        [(d.doc_id, d.doc_hash) for d in store.documents()],
        store.count_chunks(),
        _uploads(app),
        (app.staff.uploads_dir / "nieuw.pdf").read_bytes(),
    )
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    attempts = {
        "corrupt": make_corrupt_pdf(bad_dir / "nieuw.pdf"),
        "encrypted": make_encrypted_pdf(tmp_path / "versleuteld.pdf"),
        "type": tmp_path / "programma.exe",
    }
    attempts["type"].write_bytes(b"MZ\x90\x00")
    for kind, path in attempts.items():
        message, *_ = app.staff.upload(
            token, str(path), "urk-cyberlab", "", "Urk", "beleid", "", ""
        )
        assert message.startswith(FAILED), (kind, message)
        after = (
            [(d.doc_id, d.doc_hash) for d in store.documents()],
            store.count_chunks(),
            _uploads(app),
            (app.staff.uploads_dir / "nieuw.pdf").read_bytes(),
        )
        assert after == before, kind
    assert (
        "ondersteund" in app.staff.upload(token, str(attempts["type"]), "", "", "", "", "", "")[0]
    )

    # Bad metadata is refused before anything is written.
    message, *_ = app.staff.upload(token, str(second), "../evil", "", "", "beleid", "", "")
    assert message.startswith(FAILED) and "ongeldig" in message
    message, *_ = app.staff.upload(token, str(second), "", "", "", "beleid", "gisteren", "")
    assert message.startswith(FAILED) and "Datum" in message

    # Delete: gone from the index and from the uploads folder.
    message, *_ = app.staff.delete(token, "urk-cyberlab")
    assert message.startswith(DONE)
    assert store.document("urk-cyberlab") is None and _uploads(app) == []
    assert store.document(SEED_ID) is not None


def test_staff_page_lines_follow_the_pages_language(staff_app, tmp_path):
    app = staff_app
    token = app.staff.auth.login("beheer", PASSWORD, "127.0.0.1").token
    english = SimpleNamespace(headers={"accept-language": "en-GB,en;q=0.9"}, cookies={})
    encrypted = make_encrypted_pdf(tmp_path / "versleuteld.pdf")
    message, *_ = app.staff.upload(token, str(encrypted), "", "", "", "beleid", "", "", english)
    assert message.startswith("**Not done.** Not added; the index has not changed."), message
    assert "- versleuteld.pdf: is encrypted with a password: ask for an unprotected" in message
    wrong = tmp_path / "programma.exe"
    wrong.write_bytes(b"MZ\x90\x00")
    message, *_ = app.staff.upload(token, str(wrong), "", "", "", "", "", "", english)
    assert message == (
        "**Not done.** programma.exe: file type '.exe' is not supported. Choose a file as PDF, "
        "Word (.docx), Markdown (.md) or text (.txt)."
    )
    message, *_ = app.staff.upload(token, str(encrypted), "", "", "", "", "gisteren", "", english)
    assert "Date 'gisteren' is not valid; write YYYY-MM-DD, YYYY-MM or YYYY." in message
    message, *_ = app.staff.delete(token, "bestaat-niet", english)
    assert message == "**Not done.** bestaat-niet is not (or no longer) in the index."
    # The switch on the page (the ivb_lang cookie) wins over the browser's language.
    dutch = SimpleNamespace(headers=english.headers, cookies={"ivb_lang": "nl"})
    message, *_ = app.staff.upload(token, str(encrypted), "", "", "", "beleid", "", "", dutch)
    assert "versleuteld.pdf: is versleuteld met een wachtwoord" in message


def test_chat_turn_streams_cites_records_and_takes_feedback(staff_app):
    app = staff_app
    steps = list(app.chat.respond(QUESTION, [], "raad", "alle", "extractive", None))
    first, last = steps[0], steps[-1]
    assert first[0][-1]["role"] == "assistant" and first[1] == ""  # shown at once, box cleared
    chat, _, turns, panel, _, _, _ = last
    (turn,) = turns
    assert 'href="#bron-0-1"' in chat[-1]["content"] and re.search(r"pagina (1–)?2\b", panel)
    assert turn.citations[0].page in THEMES_PAGES and "<mark>" in panel
    audit = read_jsonl(app.settings.audit_path)
    assert audit[-1]["id"] == turn.audit_id and audit[-1]["channel"] == "web"

    # The page image: with IVB_DOCUMENT_VIEWER=false (and where pdf.js is not installed).
    imaged = WebApp(app.settings.model_copy(update={"document_viewer": False}), app.service)
    panel, image, detail = imaged.chat.show_source(turns, gr.EventData(None, {"ref": "0-1"}))
    assert "ivb-active" in panel and re.search(r"Pagina (1–)?2\b", detail)
    assert image.value is not None and image.visible is True
    # The document viewer (the default): opened at the cited page, no page image.
    panel, image, detail = app.chat.show_source(turns, gr.EventData(None, {"ref": "0-1"}))
    assert "ivb-active" in panel and image.visible is False
    assert f'src="/ivb/viewer/{SEED_ID}?page={turn.citations[0].page_index}&amp;q=' in detail
    assert re.search(r"pagina (1–)?2\b", detail) and 'id="ivb-viewer-frame"' in detail
    assert app.chat.show_source(turns, gr.EventData(None, {"ref": "../../x"}))[0] is not None

    pending, box, _, _ = app.chat.rate(
        turns, gr.LikeData(None, {"index": 1, "value": "", "liked": False}), None
    )
    assert pending == {"turn": 0, "rating": "down"} and box.visible is True
    app.chat.comment(pending, "Te lang.", turns, None)
    feedback = read_jsonl(app.settings.feedback_path)
    assert [(f["rating"], f["comment"]) for f in feedback[-2:]] == [
        ("down", ""),
        ("down", "Te lang."),
    ]
    assert feedback[-1]["turn_id"] == turn.audit_id

    # A follow-up sees the history; a question outside the documents is a refusal.
    steps = list(
        app.chat.respond(
            "Hoe hoog is de Mount Everest?", turns, "inwoner", "Urk", "extractive", None
        )
    )
    chat, _, turns, panel, _, _, _ = steps[-1]
    assert len(turns) == 2 and turns[1].refused and 'class="ivb-refusal"' in chat[-1]["content"]
    assert "geen bronnen" in panel


def test_chat_events_queue_per_backend(settings):
    settings = settings.model_copy(update={"chat_concurrency": 3})
    demo = build_app(settings)
    fns = list(demo.fns.values())
    limits = {
        f.concurrency_id: f.concurrency_limit
        for f in fns
        if str(f.concurrency_id).startswith("chat-")
    }
    assert limits["chat-shared"] == 3
    if "local" in available_backends(settings):
        # Every local question takes its place in the model's own line at once (one at a
        # time, first come first served: see test_model_line_*), not in a Gradio queue.
        assert limits["chat-local"] is None
    assert demo.ivb_app.chat.local_line.max_waiting == 3 * LOCAL_WAITING_PER_SLOT
    public = [f for f in fns if f.api_visibility == "public"]
    assert [f.api_name for f in public] == ["ask"]
    # The API has a group of its own: API callers never hold up the web chat.
    assert (public[0].concurrency_id, public[0].concurrency_limit) == ("api", 3)
    assert demo._queue.default_concurrency_limit == 3


def test_model_line_serves_first_come_first_served():
    line = ModelLine(max_waiting=3)
    holder = line.join()
    assert holder.place() == 0 and list(holder.places()) == []  # its turn at once
    tickets = [line.join() for _ in range(3)]
    assert [t.place() for t in tickets] == [1, 2, 3] and line.waiting == 3
    with pytest.raises(LineFull):
        line.join()  # three wait already: the fourth is refused, not queued

    told: dict[int, list[int]] = {i: [] for i in range(3)}
    served: list[int] = []
    holding = {"now": 0, "most": 0}
    lock = threading.Lock()

    def request(i: int, ticket: Ticket) -> None:
        with ticket:
            for place in ticket.places(poll_s=0.02):
                told[i].append(place)
            with lock:
                holding["now"] += 1
                holding["most"] = max(holding["most"], holding["now"])
                served.append(i)
            time.sleep(0.02)
            with lock:
                holding["now"] -= 1

    threads = [
        threading.Thread(target=request, args=(i, t)) for i, t in reversed(list(enumerate(tickets)))
    ]  # started last first: the order served is the order joined, not the order started
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while not all(told.values()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [told[i][0] for i in range(3)] == [1, 2, 3]  # each told its place at once
    assert served == []  # nobody gets past the one holding the model
    holder.leave()
    for thread in threads:
        thread.join(5)
        assert not thread.is_alive()
    assert served == [0, 1, 2] and holding["most"] == 1
    for i, places in told.items():
        moves = [p for k, p in enumerate(places) if k == 0 or p != places[k - 1]]
        assert moves[0] == i + 1 and moves == sorted(moves, reverse=True) and moves[-1] >= 1
    assert len(line) == 0 and line.join().place() == 0


def test_model_line_frees_the_place_of_a_request_that_gives_up():
    line = ModelLine(max_waiting=2)
    holder, first, second = line.join(), line.join(), line.join()
    with pytest.raises(LineFull):
        line.join()
    first.leave()  # e.g. the page was closed while it waited
    assert second.place() == 1 and line.waiting == 1
    third = line.join()  # its place is free again
    assert third.place() == 2
    first.leave()  # leaving twice is harmless
    with pytest.raises(RuntimeError):
        first.place()
    holder.leave()
    assert [second.place(), third.place()] == [0, 1]


def test_local_questions_wait_in_one_line_then_are_refused_as_busy(staff_app, monkeypatch):
    app = staff_app
    line = ModelLine(max_waiting=1)
    monkeypatch.setattr(app.chat, "local_line", line)
    monkeypatch.setattr(app.chat, "backends", ["extractive", "local"])
    # No model needed: "local" questions are answered by the extractive backend here.
    extractive = app.chat.pipeline.stream
    monkeypatch.setattr(
        app.chat.pipeline,
        "stream",
        lambda q, **kw: extractive(q, **{**kw, "backend": "extractive"}),
    )
    holder = line.join()  # the model is busy with another question

    steps = app.chat.respond(QUESTION, [], "raad", "alle", "local", None)
    first = next(steps)
    note = first[0][-1]["content"]
    assert "Wachtrij lokaal model: u bent nummer 1" in note and 'class="ivb-status"' in note
    assert "ivb-error" not in note and first[1] == ""
    assert line.waiting == 1  # the line is full now

    # One more: the web chat says it is busy and keeps the question in the box; the API
    # gives a well-formed refusal. Neither waits nor fails.
    (busy,) = list(app.chat.respond("Wat doet Urk?", [], "raad", "alle", "local", None))
    message = busy[0][-1]["content"]
    assert BUSY_TEXT in message and 'class="ivb-refusal"' in message
    assert "Het taalmodel is nu bezet" in message and busy[1] == "Wat doet Urk?"
    result = app.chat.ask_api(QUESTION, "raad", "alle", "local", "[]")
    assert result["refused"] is True and result["refusal_reason"] == "busy"
    assert result["answer"] == BUSY_TEXT and result["citations"] == []
    assert result["backend"] == "local" and "total" in result["timings"]

    # The model is free: the waiting question is answered, and leaves the line.
    holder.leave()
    rest = list(steps)
    writing = [r[0][-1]["content"] for r in rest if isinstance(r[0], list)]
    assert "wordt geschreven" in writing[0]  # the place note goes once it is its turn
    chat, _, turns, panel, _, _, _ = rest[-1]
    assert len(turns) == 1 and 'href="#bron-0-1"' in chat[-1]["content"]
    assert "Wachtrij" not in chat[-1]["content"] and re.search(r"pagina (1–)?2\b", panel)
    assert len(line) == 0


def test_main_fills_an_empty_store_then_launches(settings, monkeypatch):
    launched = []
    monkeypatch.setattr(ui, "launch", lambda demo, s: launched.append((demo, s)))
    ui.main(settings)
    from assistant.service import get_service

    assert [d.doc_id for d in get_service(settings).store.documents()] == [SEED_ID]
    assert len(launched) == 1 and launched[0][1] is settings


@pytest.fixture
def captured_launch(monkeypatch) -> list[tuple[gr.Blocks, dict]]:
    """Starting the server replaced by a recorder: the page and the options the app was
    built with (the page mounted, the API included), nothing binds."""
    import web.server

    launched: list[tuple[gr.Blocks, dict]] = []

    def record(server: web.server.AppServer, demo: gr.Blocks, **kw: object) -> object:
        launched.append((demo, server.options))
        return server

    monkeypatch.setattr(web.server, "_run", record)
    return launched


def test_ivb_serve_options_reach_the_app(seeded_settings, captured_launch, monkeypatch):
    from typer.testing import CliRunner

    from assistant.cli import app as cli
    from assistant.settings import get_settings

    monkeypatch.setenv("IVB_LLM_BACKEND", "extractive")
    port = free_port()
    store = seeded_settings.store_dir
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli, ["serve", "--host", "0.0.0.0", "--port", str(port), "--store", str(store)]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    ((demo, options),) = captured_launch
    assert (options["server_name"], options["server_port"]) == ("0.0.0.0", port)
    assert demo.ivb_app.settings.store_dir == store
    assert [d.doc_id for d in demo.ivb_app.service.store.documents()] == [SEED_ID]
    # gradio's own cap lies above ours, so that a file a bit too large gets our reason.
    limit = int(demo.ivb_app.settings.max_file_mb * 1_000_000)
    assert options["max_file_size"] == f"{ui.gradio_upload_limit(demo.ivb_app.settings)}b"
    assert ui.gradio_upload_limit(demo.ivb_app.settings) > limit


def test_python_ui_py_serves_on_the_settings(seeded_settings, captured_launch, monkeypatch):
    import runpy

    from assistant.settings import REPO_ROOT, get_settings

    port = free_port()
    env = {
        "IVB_HOST": "0.0.0.0",
        "IVB_PORT": str(port),
        "IVB_STORE_DIR": str(seeded_settings.store_dir),
        "IVB_LLM_BACKEND": "extractive",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # As `python ui.py` runs it: no arguments (pytest's own are not the script's).
    monkeypatch.setattr("sys.argv", [str(REPO_ROOT / "ui.py")])
    get_settings.cache_clear()
    try:
        # `python ui.py` is `ivb serve`: the command exits 0 once serving returns.
        with pytest.raises(SystemExit) as done:
            runpy.run_path(str(REPO_ROOT / "ui.py"), run_name="__main__")
    finally:
        get_settings.cache_clear()
    assert done.value.code == 0
    ((demo, options),) = captured_launch
    assert (options["server_name"], options["server_port"]) == ("0.0.0.0", port)
    assert demo.ivb_app.settings.store_dir == seeded_settings.store_dir


def _backend_radio(demo: gr.Blocks) -> gr.Radio:
    (radio,) = [
        b
        for b in demo.blocks.values()
        if isinstance(b, gr.Radio) and _dutch(b.label) == "Antwoordmodel"
    ]
    return radio


def test_backend_choice_is_shown_only_with_more_than_one_backend(settings, tmp_path):
    # llama-cpp-python may be installed, but without the GGUF file there is no local model.
    no_model = settings.model_copy(
        update={"llm_gguf": str(tmp_path / "ontbreekt.gguf"), "llm_backend": "local"}
    )
    assert available_backends(no_model) == ["extractive"]
    radio = _backend_radio(build_app(no_model))
    assert radio.visible is False and radio.value == "extractive"

    remote = no_model.model_copy(
        update={"openai_base_url": "http://127.0.0.1:9/v1", "llm_backend": "openai"}
    )
    assert available_backends(remote) == ["openai", "extractive"]
    radio = _backend_radio(build_app(remote))
    assert radio.visible is True and radio.value == "openai"
    assert [value for _, value in radio.choices] == ["openai", "extractive"]

    if find_spec("llama_cpp") is not None:
        gguf = tmp_path / "model.gguf"
        gguf.write_bytes(b"GGUF")
        with_model = no_model.model_copy(update={"llm_gguf": str(gguf)})
        assert available_backends(with_model) == ["local", "extractive"]


def test_follow_up_in_the_web_chat_reads_the_conversation(staff_app):
    app = staff_app
    *_, first = app.chat.respond(QUESTION, [], "raad", "alle", "extractive", None)
    *_, last = app.chat.respond(FOLLOW_UP, first[2], "raad", "alle", "extractive", None)
    chat, _, turns, panel, _, _, _ = last
    follow_up = turns[1]
    assert not follow_up.refused, follow_up.answer
    assert any(c.page == "2" for c in follow_up.citations)
    assert "pagina 2" in panel and 'href="#bron-1-1"' in chat[-1]["content"]
    assert re.search("crisisorganisatie|evenementen", follow_up.answer, re.IGNORECASE)
    record = read_jsonl(app.settings.audit_path)[-1]
    assert record["id"] == follow_up.audit_id and record["question"] == FOLLOW_UP
    # The question was read with the conversation: the earlier question is part of it.
    standalone = record["standalone_question"]
    assert standalone != FOLLOW_UP and "thema" in standalone.lower(), standalone


def test_scanned_and_too_large_uploads_name_the_file_and_change_nothing(
    staff_app, tmp_path, monkeypatch
):
    app = staff_app
    token = app.staff.auth.login("beheer", PASSWORD, "127.0.0.1").token
    store = app.service.store

    def state() -> tuple:
        return (
            [(d.doc_id, d.doc_hash) for d in store.documents()],
            store.count_chunks(),
            _uploads(app),
        )

    before = state()
    # OCR off: the scan is then refused (tests/test_scans.py reads one with OCR on).
    monkeypatch.setattr(app.service.settings, "ocr", "off")
    scan = make_scanned_pdf(tmp_path / "gescande nota.pdf")
    large = tmp_path / "groot rapport.pdf"
    with large.open("wb") as handle:  # sparse: larger than the limit without writing it
        handle.truncate(int((app.settings.max_file_mb + 1) * 1_000_000))
    limit = f"de grens is {app.settings.max_file_mb:g} MB"
    for path, reason in [(scan, "geen tekst"), (large, limit)]:
        message, rows, _ = app.staff.upload(token, str(path), "", "", "", "beleid", "", "")
        assert message.startswith(FAILED), message
        assert path.name in message and reason in message, message
        assert state() == before, path.name
        assert [r[0] for r in rows] == [d for d, _ in before[0]]


# --------------------------------------------------------------------------- a corpus of text

BUURT_2025 = """\
# Buurtpreventie in Emmeloord

De gemeente Noordoostpolder steunt inwoners die samen op hun buurt letten.

## Appgroepen

In Emmeloord zijn in 2025 veertien buurtpreventie-appgroepen actief. Zij melden verdachte
situaties aan de politie.

## Avondrondes

Vrijwilligers lopen elke maand een avondronde langs donkere plekken.
"""
BUURT_2026 = """\
# Wijkveiligheid Noordoostpolder 2026

## Wijkapp

Vanaf 2026 gebruiken de wijken één gezamenlijke wijkapp van de gemeente, de WijkWijzer.
"""
CORPUS_MANIFEST = """\
[[document]]
file = "buurtpreventie-2025.md"
id = "emmeloord-buurtpreventie-2025"
title = "Buurtpreventie Emmeloord 2025"
municipality = "Noordoostpolder"
date = "2025"

[[document]]
file = "buurtpreventie-2026.md"
id = "emmeloord-buurtpreventie-2026"
title = "Wijkveiligheid Noordoostpolder 2026"
municipality = "Noordoostpolder"
date = "2026"
supersedes = ["emmeloord-buurtpreventie-2025"]

[[document]]
file = "jongerenwerk-urk.docx"
id = "urk-jongerenwerk"
title = "Jongerenwerk Urk"
municipality = "Urk"
"""
CORPUS_IDS = ["emmeloord-buurtpreventie-2025", "emmeloord-buurtpreventie-2026", "urk-jongerenwerk"]


def _jongerenwerk_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Jongerenwerk Urk", level=1)
    document.add_paragraph("Het jongerenwerk zoekt jongeren op waar zij samenkomen.")
    document.add_heading("Hangplekken", level=2)
    document.add_paragraph(
        "Het jongerenwerk in Urk bezoekt elke vrijdagavond de zeven bekende hangplekken in "
        "het dorp."
    )
    document.add_heading("Spreekuur", level=2)
    document.add_paragraph("Elke woensdagmiddag is er spreekuur in het jongerencentrum.")
    document.save(str(path))
    return path


class ProgressRecorder:
    """Stands in for gr.Progress (which only reports inside a running gradio event)."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, str | None]] = []

    def __call__(self, value: object, desc: str | None = None, **_: object) -> None:
        self.calls.append((value, desc))


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory, base_settings, embedder) -> dict:
    """A staff member re-ingests a corpus folder of Markdown and Word files (one replacing
    another) into an empty store, through the staff page's handler."""
    from assistant.service import get_service

    folder = tmp_path_factory.mktemp("corpus-text")
    (folder / "buurtpreventie-2025.md").write_text(BUURT_2025, encoding="utf-8")
    (folder / "buurtpreventie-2026.md").write_text(BUURT_2026, encoding="utf-8")
    _jongerenwerk_docx(folder / "jongerenwerk-urk.docx")
    (folder / "manifest.toml").write_text(CORPUS_MANIFEST, encoding="utf-8")
    settings = _staff_settings(
        base_settings, store_dir=tmp_path_factory.mktemp("corpus-store"), corpus_dir=folder
    )
    app = WebApp(settings, get_service(settings, embedder))
    token = app.staff.auth.login("beheer", PASSWORD, "127.0.0.1").token
    rows_before, _ = app.staff.documents(token)
    progress = ProgressRecorder()
    message, rows, choices = app.staff.reingest(token, progress)
    return {
        "app": app,
        "before": rows_before,
        "message": message,
        "rows": rows,
        "choices": choices,
        "progress": progress.calls,
    }


def test_reingest_corpus_folder_shows_progress_and_refreshes_the_table(corpus_run):
    assert corpus_run["before"] == []
    message = corpus_run["message"]
    assert message.startswith(DONE) and "3 toegevoegd" in message and "0 mislukt" in message
    assert sorted(r[0] for r in corpus_run["rows"]) == CORPUS_IDS
    assert sorted(value for _, value in corpus_run["choices"].choices) == CORPUS_IDS
    status = {r[0]: r[-1] for r in corpus_run["rows"]}
    assert status["emmeloord-buurtpreventie-2025"] == "vervangen door emmeloord-buurtpreventie-2026"

    calls = corpus_run["progress"]
    assert calls[0][0] == 0
    fractions = [0.0] + [done / total for (done, total), _ in calls[1:]]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(set(fractions)) >= 3
    assert all(desc and desc.startswith("Opnemen: ") for _, desc in calls[1:])
    assert {desc.removeprefix("Opnemen: ") for _, desc in calls[1:]} >= {
        "buurtpreventie-2025.md",
        "jongerenwerk-urk.docx",
    }


def _ask_and_open(
    app: WebApp, question: str, doc_id: str, municipality: str = "alle"
) -> tuple[CitedSource, str, str, object]:
    """Ask in the chat, then open the first citation of doc_id: (citation, panel, detail,
    page image)."""
    *_, last = app.chat.respond(question, [], "raad", municipality, "extractive", None)
    turns = last[2]
    (turn,) = turns
    assert not turn.refused, turn.answer
    cited = [c for c in turn.citations if c.doc_id == doc_id]
    assert cited, turn.citations
    ref = {"ref": f"0-{cited[0].n}"}
    panel, image, detail = app.chat.show_source(turns, gr.EventData(None, ref))
    return cited[0], panel, detail, image


@pytest.mark.parametrize(
    ("question", "doc_id", "heading", "quoted"),
    [
        (
            "Hoe heet de gezamenlijke wijkapp van de gemeente?",
            "emmeloord-buurtpreventie-2026",
            "Wijkapp",
            "wijkapp",
        ),
        (
            "Hoe vaak bezoekt het jongerenwerk in Urk de hangplekken?",
            "urk-jongerenwerk",
            "Hangplekken",
            "vrijdagavond",
        ),
    ],
    ids=["markdown", "docx"],
)
def test_markdown_and_docx_sources_show_their_section(
    corpus_run, question, doc_id, heading, quoted
):
    citation, panel, detail, image = _ask_and_open(corpus_run["app"], question, doc_id)
    assert image.visible is False and image.value is None  # no page image for text files
    title = re.search(r'<p class="ivb-h">(.*?)</p>', detail)
    assert title and title.group(1).startswith(f"Bron [{citation.n}]: ")
    assert heading in title.group(1)
    marks = re.findall(r"<mark>(.*?)</mark>", detail, re.DOTALL)
    assert len(marks) == 1 and quoted in marks[0].lower()
    assert "ivb-active" in panel and SUPERSEDED_TEXT not in panel + detail


def test_a_superseded_source_is_labelled(corpus_run):
    # A replaced document ranks below current ones (retrieval halves its score), so it
    # is cited only where the current documents do not answer: here, within one
    # municipality, whose newer document no longer gives the number.
    citation, panel, detail, _ = _ask_and_open(
        corpus_run["app"],
        "Hoeveel buurtpreventie-appgroepen zijn er in 2025 actief in Emmeloord?",
        "emmeloord-buurtpreventie-2025",
        municipality="Noordoostpolder",
    )
    assert citation.superseded is True
    assert SUPERSEDED_TEXT in panel and SUPERSEDED_TEXT in detail


# --------------------------------------------------------------------------- served app


@pytest.fixture(scope="module")
def served(tmp_path_factory, base_settings, embedder) -> Iterator[tuple[str, WebApp]]:
    """The real app on a free loopback port, over its own seeded store; uploads up to 1 MB
    (so that the upload limit can be tried with small files)."""

    settings = _staff_settings(
        base_settings,
        store_dir=tmp_path_factory.mktemp("served"),
        port=free_port(),
        host="127.0.0.1",
        max_file_mb=1.0,
    )
    with running_app(settings, embedder) as served_app:
        yield served_app


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode("utf-8")


def test_page_is_dutch_and_names_nothing_outside(served):
    url, _ = served
    page = _get(url)
    assert re.search(r'<html[^>]*\blang="nl"', page)
    external = [
        u
        for u in re.findall(r"""https?://[^\s"'<>)\\]+""", page)
        if not re.match(r"https?://(127\.0\.0\.1|localhost)[:/]", u)
    ]
    assert external == []
    config = json.loads(_get(url + "config"))
    assert config.get("analytics_enabled") is False
    theme_css = _get(url + "theme.css")
    assert "fonts.googleapis" not in theme_css and "@import" not in theme_css


def test_api_answers_with_the_structured_answer(served):
    from gradio_client import Client

    url, app = served
    client = Client(url, verbose=False)
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert list(endpoints) == ["/ask"]  # the staff actions are not offered to clients

    result = client.predict(QUESTION, "raad", "alle", "extractive", "[]", api_name="/ask")
    expected = app.chat.pipeline.ask(QUESTION, backend="extractive").as_dict()
    assert set(result) == set(expected)
    assert result["refused"] is False and result["answer"] == expected["answer"]
    assert [c["doc_id"] for c in result["citations"]] == [SEED_ID]
    assert result["citations"][0]["page"] in THEMES_PAGES
    assert re.search(r"\[1\]", result["answer"])

    history = json.dumps([[QUESTION, result["answer"]]])
    follow_up = client.predict(
        "En van Dronten?", "inwoner", "Dronten", "", history, api_name="/ask"
    )
    assert follow_up["standalone_question"] != "En van Dronten?"
    assert follow_up["audience"] == "inwoner"

    audit = read_jsonl(app.settings.audit_path)
    assert [r["channel"] for r in audit][-2:] == ["api", "api"]
    assert audit[-1]["municipality"] == "Dronten"


STAFF_BUTTONS = {
    "upload": "Opnemen in de index",
    "delete": "Verwijderen uit de index",
    "reingest": "Corpusmap opnieuw inlezen",
    "audit": "Auditlog downloaden",
    "feedback": "Feedback als evaluatieset downloaden",
}


def _dutch(value: object) -> object:
    """A component's value as a Dutch page shows it: the page's labels are catalogue keys
    (gradio's I18n, '__i18n__{"key": ...}' in the config), which the browser translates."""
    if hasattr(value, "key") and str(value).startswith("__i18n__"):  # gradio's I18nData
        value = str(value)
    if isinstance(value, str) and value.startswith("__i18n__"):
        key = json.loads(value.removeprefix("__i18n__"))["key"]
        return TEXTS["nl"][key.removeprefix(PREFIX)]
    return value


def _staff_endpoints(url: str) -> dict[str, str]:
    """The names under which the page's own config (public: the browser needs it) lets
    anyone call the staff buttons' events, found by the buttons' labels."""
    config = json.loads(_get(url + "config"))
    labels = {c["id"]: _dutch(c.get("props", {}).get("value")) for c in config["components"]}
    names = {}
    for dependency in config["dependencies"]:
        for target, _event in dependency["targets"]:
            for key, label in STAFF_BUTTONS.items():
                if labels.get(target) == label:
                    names[key] = dependency["api_name"]
    assert set(names) == set(STAFF_BUTTONS), names
    return names


def _call(url: str, api_name: str, data: list, session: str | None = None) -> str:
    """One call of an event over gradio's plain HTTP API, in a browser session if given:
    the raw server-sent events."""
    request = urllib.request.Request(
        f"{url}gradio_api/call/{api_name}",
        data=json.dumps({"data": data, "session_hash": session}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        event_id = json.loads(response.read())["event_id"]
    return _get(f"{url}gradio_api/call/{api_name}/{event_id}")


def _completed(stream: str) -> list:
    """The output values of a call that completed."""
    assert "event: complete" in stream, stream[-2000:]
    data = stream.split("event: complete", 1)[1].split("data:", 1)[1].strip().splitlines()[0]
    return json.loads(data)


def test_anonymous_staff_calls_are_refused(served, tmp_path):
    from gradio_client import Client

    url, app = served
    store = app.service.store
    before = [(d.doc_id, d.doc_hash) for d in store.documents()]
    names = _staff_endpoints(url)
    # The staff events carry no api name of ours and are private: gradio_client finds
    # none of them, under the old names or under the ones gradio gave them.
    client = Client(url, verbose=False)
    for name in ["staff_upload", "staff_delete", *names.values()]:
        with pytest.raises(ValueError, match="Cannot find"):
            client.predict(None, SEED_ID, api_name=f"/{name}")

    # The raw HTTP API still reaches the handlers (the page itself calls them); their
    # token check refuses.
    for key, data in [
        ("delete", [None, SEED_ID]),
        ("delete", ["forged-token", SEED_ID]),
        ("reingest", [None]),
        ("audit", ["forged-token"]),
        ("feedback", [None]),
    ]:
        stream = _call(url, names[key], data)
        assert "event: error" in stream, (key, stream)
        assert "event: complete" not in stream
    assert "niet ingelogd" in _call(url, names["reingest"], [None])

    # An upload: the file reaches gradio's upload folder (open to all, as in any gradio
    # app), but the staff handler refuses it and nothing is stored or indexed.
    pdf = _fact_pdf(tmp_path / "anoniem.pdf", "Anonieme inhoud.")
    with pdf.open("rb") as handle:
        (uploaded,) = httpx.post(f"{url}gradio_api/upload", files={"files": handle}).json()
    file_data = {"path": uploaded, "orig_name": "anoniem.pdf", "meta": {"_type": "gradio.FileData"}}
    stream = _call(url, names["upload"], [None, file_data, "anoniem", "", "", "beleid", "", ""])
    assert "event: error" in stream and "niet ingelogd" in stream
    assert not app.staff.uploads_dir.exists() or not any(app.staff.uploads_dir.iterdir())
    assert [(d.doc_id, d.doc_hash) for d in store.documents()] == before


def _staff_session(url: str) -> str:
    """A browser session in which a staff member logged in through the login event."""
    session = f"staff-{time.monotonic_ns()}"
    config = json.loads(_get(url + "config"))
    (login,) = [d["api_name"] for d in config["dependencies"] if d["api_name"] == "login"]
    _completed(_call(url, login, ["beheer", PASSWORD], session))
    return session


def _file_text(value: dict) -> str:
    """The text of a file a call returned (a gr.File update or the file itself)."""
    data = value.get("value", value)
    return _get(data["url"])


def test_staff_exports_the_audit_log_and_feedback(served):
    url, app = served
    names = _staff_endpoints(url)
    answer = app.chat.pipeline.ask(QUESTION, backend="extractive")
    audit_id = record_turn(app.settings, answer, "export-sessie", channel="web")
    common = {"session_hash": "export-sessie", "citations": answer.citations}
    record_feedback(app.settings, question=QUESTION, answer=answer.text, rating="up",
                    comment="Precies goed.", turn_id=audit_id, **common)  # fmt: skip
    record_feedback(app.settings, question="Wie is de burgemeester van Urk?", answer="Onjuist.",
                    rating="down", comment="Fout antwoord", turn_id="t-down",
                    **{**common, "citations": []})  # fmt: skip

    # Without a live staff session both exports are refused.
    for key in ("audit", "feedback"):
        for token in (None, "vervalst"):
            refused = _call(url, names[key], [token])
            assert "event: error" in refused and "niet ingelogd" in refused

    # A token sent by the caller is never used: gradio fills a gr.State input from the
    # session on the server, which only the login event sets.
    token = app.staff.auth.login("beheer", PASSWORD, "127.0.0.1").token
    assert "niet ingelogd" in _call(url, names["audit"], [token])
    session = _staff_session(url)
    (audit_file,) = _completed(_call(url, names["audit"], [None], session))
    records = [json.loads(line) for line in _file_text(audit_file).splitlines()]
    (mine,) = [r for r in records if r["id"] == audit_id]
    assert mine["question"] == QUESTION and mine["session"] == pseudonym("export-sessie")
    assert [c["page"] for c in mine["citations"]] in ([p] for p in THEMES_PAGES)
    assert mine["refused"] is False
    assert "export-sessie" not in _file_text(audit_file)

    (feedback_file,) = _completed(_call(url, names["feedback"], [None], session))
    items = [json.loads(line) for line in _file_text(feedback_file).splitlines()]
    good = [i for i in items if i["question"] == QUESTION and not i.get("needs_review")]
    assert len(good) == 1 and good[0]["answerable"] is True
    assert good[0]["sources"] in ([{"doc_id": SEED_ID, "page": p}] for p in THEMES_PAGES)
    (review,) = [i for i in items if i.get("needs_review")]
    assert review["question"] == "Wie is de burgemeester van Urk?"
    assert review["notes"].startswith("Fout antwoord")


def test_a_file_a_bit_too_large_gets_the_dutch_reason(served, tmp_path):
    """gradio's own cap is above the app's limit: a file just over the limit reaches the
    upload handler, which names it; only a far larger one is stopped by gradio."""
    url, app = served
    names = _staff_endpoints(url)
    limit = app.settings.max_file_mb * 1_000_000
    over = tmp_path / "net te groot.pdf"
    over.write_bytes(b"%PDF-1.7\n" + b"0" * int(limit * 1.2))
    with over.open("rb") as handle:
        response = httpx.post(f"{url}gradio_api/upload", files={"files": handle}, timeout=60)
    assert response.status_code == 200, response.text
    (uploaded,) = response.json()
    file_data = {"path": uploaded, "orig_name": over.name, "meta": {"_type": "gradio.FileData"}}
    data = [None, file_data, "", "", "", "", "", ""]
    message, *_ = _completed(_call(url, names["upload"], data, _staff_session(url)))
    assert message.startswith(FAILED) and over.name in message
    assert f"de grens is {app.settings.max_file_mb:g} MB" in message

    far = tmp_path / "veel te groot.pdf"
    far.write_bytes(b"%PDF-1.7\n" + b"0" * (ui.gradio_upload_limit(app.settings) + 1000))
    with far.open("rb") as handle:
        response = httpx.post(f"{url}gradio_api/upload", files={"files": handle}, timeout=60)
    assert response.status_code == 413

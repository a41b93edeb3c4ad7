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
from pathlib import Path

import gradio as gr
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

import ui
from assistant.audit import append_jsonl, prune_audit, pseudonym, read_jsonl, record_turn
from assistant.auth import StaffAuth, hash_password, verify_password
from assistant.feedback import export_feedback, record_feedback
from assistant.settings import Settings
from assistant.sources import find_span, render_page
from assistant.types import Answer, Citation
from ingest.uploads import sanitise_filename, stage_upload
from tests.conftest import CORPUS, SEED_ID, SEED_PDF
from tests.pdf_factory import PdfPage, make_corrupt_pdf, make_encrypted_pdf, make_text_pdf
from tests.servers import free_port, running_app

PASSWORD = "correct horse battery staple"
QUESTION = "Welke thema's hebben de drie gemeenten samen geprioriteerd?"


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


def test_logout_ends_the_session(settings):
    auth = StaffAuth(_staff_settings(settings))
    token = auth.login("beheer", PASSWORD, "10.0.0.1").token
    auth.logout(token)
    assert auth.validate(token) is None


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
    demo = ui.build_app(settings)
    texts = [b.value for b in demo.blocks.values() if isinstance(b, gr.Markdown)]
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
    marked = ui.mark_quote("a <b> cybercrime en zo", "cybercrime")
    assert marked == "a &lt;b&gt; <mark>cybercrime</mark> en zo"


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
    html = ui.answer_html(_answer(), turn=3)
    assert 'href="#bron-3-1"' in html and "[1]" in html
    refusal = ui.answer_html(_answer(refused=True).model_copy(update={"text": "Niet <hier>."}), 0)
    assert 'class="ivb-refusal"' in refusal and "&lt;hier&gt;" in refusal


# --------------------------------------------------------------------------- uploads


@pytest.fixture(scope="module")
def staff_app(tmp_path_factory, base_settings, embedder):
    """A WebApp over its own seeded store, with staff login configured."""
    from assistant.service import get_service
    from ingest.pipeline import ingest_paths

    settings = _staff_settings(base_settings, store_dir=tmp_path_factory.mktemp("staff"))
    report = ingest_paths([CORPUS], settings, embedder=embedder)
    assert report.ok, report.failed
    service = get_service(settings, embedder)
    return ui.WebApp(settings, service)


def _fact_pdf(path: Path, fact: str) -> Path:
    page = PdfPage(blocks=[("h", "Cyberlab Urk"), ("p", [fact, "Het lab is open voor iedereen."])])
    return make_text_pdf(path, [page], title="Cyberlab Urk")


def _uploads(app: ui.WebApp) -> list[str]:
    if not app.uploads_dir.exists():
        return []
    return sorted(p.name for p in app.uploads_dir.iterdir() if not p.name.startswith("."))


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

    staged = stage_upload(source, uploads, "../nota.pdf", {"id": "me"}, owners)
    assert staged.target.name == "nota-2.pdf" and staged.target.read_bytes() == b"new"
    assert (uploads / "nota.pdf").read_bytes() == b"of another document"
    staged.rollback()
    assert sorted(p.name for p in uploads.iterdir() if p.is_file()) == ["mine.pdf", "nota.pdf"]

    staged = stage_upload(
        source, uploads, "mine.pdf", {"id": "me", "title": 'A "quoted"\x7f title'}, owners
    )
    assert staged.target.read_bytes() == b"new" and staged.sidecar.is_file()
    assert tomllib.loads(staged.sidecar.read_text()) == {"id": "me", "title": 'A "quoted" title'}
    staged.rollback()  # the old version comes back
    assert (uploads / "mine.pdf").read_bytes() == b"old version"
    assert not (uploads / "mine.pdf.meta.toml").exists()


def test_staff_actions_need_a_live_token(staff_app):
    with pytest.raises(gr.Error):
        staff_app.upload(None, str(SEED_PDF), "", "", "", "beleid", "", "")
    with pytest.raises(gr.Error):
        staff_app.delete("forged-token", SEED_ID)
    with pytest.raises(gr.Error):
        staff_app.export_audit("")
    assert staff_app.service.store.document(SEED_ID) is not None


def test_upload_replace_and_failed_upload_change_nothing(staff_app, tmp_path):
    app = staff_app
    token = app.auth.login("beheer", PASSWORD, "127.0.0.1").token
    store = app.service.store

    first = _fact_pdf(tmp_path / "cyberlab urk.pdf", "Het cyberlab opent in 2031.")
    message, *_ = app.upload(token, str(first), "urk-cyberlab", "", "Urk", "beleid", "2026", "")
    assert message.startswith(ui.DONE) and "toegevoegd" in message, message
    assert _uploads(app) == ["cyberlab urk.pdf", "cyberlab urk.pdf.meta.toml"]
    sidecar = (app.uploads_dir / "cyberlab urk.pdf.meta.toml").read_text()
    assert 'id = "urk-cyberlab"' in sidecar and 'municipality = "Urk"' in sidecar
    record = store.document("urk-cyberlab")
    assert record is not None and record.municipality == "Urk" and record.date == "2026"

    # Replace: same id, other file name and content; the old upload file goes.
    second = _fact_pdf(tmp_path / "nieuw.pdf", "Het cyberlab opent op 14 maart 2031.")
    message, *_ = app.upload(token, str(second), "urk-cyberlab", "", "Urk", "beleid", "", "")
    assert message.startswith(ui.DONE) and "vervangen" in message, message
    assert _uploads(app) == ["nieuw.pdf", "nieuw.pdf.meta.toml"]
    replaced = store.document("urk-cyberlab")
    assert replaced is not None and replaced.doc_hash != record.doc_hash

    # Failures (a corrupt file under the current file's name, an encrypted PDF, a wrong
    # type): the index and the uploads folder stay as they were.
    before = (
        [(d.doc_id, d.doc_hash) for d in store.documents()],
        store.count_chunks(),
        _uploads(app),
        (app.uploads_dir / "nieuw.pdf").read_bytes(),
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
        message, *_ = app.upload(token, str(path), "urk-cyberlab", "", "Urk", "beleid", "", "")
        assert message.startswith(ui.FAILED), (kind, message)
        after = (
            [(d.doc_id, d.doc_hash) for d in store.documents()],
            store.count_chunks(),
            _uploads(app),
            (app.uploads_dir / "nieuw.pdf").read_bytes(),
        )
        assert after == before, kind
    assert "ondersteund" in app.upload(token, str(attempts["type"]), "", "", "", "", "", "")[0]

    # Bad metadata is refused before anything is written.
    message, *_ = app.upload(token, str(second), "../evil", "", "", "beleid", "", "")
    assert message.startswith(ui.FAILED) and "ongeldig" in message
    message, *_ = app.upload(token, str(second), "", "", "", "beleid", "gisteren", "")
    assert message.startswith(ui.FAILED) and "Datum" in message

    # Delete: gone from the index and from the uploads folder.
    message, *_ = app.delete(token, "urk-cyberlab")
    assert message.startswith(ui.DONE)
    assert store.document("urk-cyberlab") is None and _uploads(app) == []
    assert store.document(SEED_ID) is not None


def test_chat_turn_streams_cites_records_and_takes_feedback(staff_app):
    app = staff_app
    steps = list(app.respond(QUESTION, [], "raad", "alle", "extractive", None))
    first, last = steps[0], steps[-1]
    assert first[0][-1]["role"] == "assistant" and first[1] == ""  # shown at once, box cleared
    chat, _, turns, panel, _, _, _ = last
    (turn,) = turns
    assert 'href="#bron-0-1"' in chat[-1]["content"] and "pagina 2" in panel
    assert turn["citations"][0]["page"] == "2" and "<mark>" in panel
    audit = read_jsonl(app.settings.audit_path)
    assert audit[-1]["id"] == turn["audit_id"] and audit[-1]["channel"] == "web"

    panel, image, detail = app.show_source(turns, gr.EventData(None, {"ref": "0-1"}))
    assert "ivb-active" in panel and "Pagina 2" in detail
    assert image.value is not None and image.visible is True
    assert app.show_source(turns, gr.EventData(None, {"ref": "../../x"}))[0] is not None

    pending, box, _, _ = app.rate(
        turns, gr.LikeData(None, {"index": 1, "value": "", "liked": False}), None
    )
    assert pending == {"turn": 0, "rating": "down"} and box.visible is True
    app.comment(pending, "Te lang.", turns, None)
    feedback = read_jsonl(app.settings.feedback_path)
    assert [(f["rating"], f["comment"]) for f in feedback[-2:]] == [
        ("down", ""),
        ("down", "Te lang."),
    ]
    assert feedback[-1]["turn_id"] == turn["audit_id"]

    # A follow-up sees the history; a question outside the documents is a refusal.
    steps = list(
        app.respond("Hoe hoog is de Mount Everest?", turns, "inwoner", "Urk", "extractive", None)
    )
    chat, _, turns, panel, _, _, _ = steps[-1]
    assert len(turns) == 2 and turns[1]["refused"] and 'class="ivb-refusal"' in chat[-1]["content"]
    assert "geen bronnen" in panel


def test_chat_events_queue_per_backend(settings):
    settings = settings.model_copy(update={"chat_concurrency": 3})
    demo = ui.build_app(settings)
    fns = list(demo.fns.values())
    limits = {
        f.concurrency_id: f.concurrency_limit
        for f in fns
        if str(f.concurrency_id).startswith("chat-")
    }
    assert limits["chat-shared"] == 3
    if "local" in ui.available_backends(settings):
        # Every local question takes its place in the model's own line at once (one at a
        # time, first come first served: see test_model_line_*), not in a Gradio queue.
        assert limits["chat-local"] is None
    assert demo.ivb_app.local_line.max_waiting == 3 * ui.LOCAL_WAITING_PER_SLOT
    public = [f for f in fns if f.api_visibility == "public"]
    assert [f.api_name for f in public] == ["ask"]
    # The API has a group of its own: API callers never hold up the web chat.
    assert (public[0].concurrency_id, public[0].concurrency_limit) == ("api", 3)
    assert demo._queue.default_concurrency_limit == 3


def test_model_line_serves_first_come_first_served():
    line = ui.ModelLine(max_waiting=3)
    holder = line.join()
    assert holder.place() == 0 and list(holder.places()) == []  # its turn at once
    tickets = [line.join() for _ in range(3)]
    assert [t.place() for t in tickets] == [1, 2, 3] and line.waiting == 3
    with pytest.raises(ui.LineFull):
        line.join()  # three wait already: the fourth is refused, not queued

    told: dict[int, list[int]] = {i: [] for i in range(3)}
    served: list[int] = []
    holding = {"now": 0, "most": 0}
    lock = threading.Lock()

    def request(i: int, ticket: ui.Ticket) -> None:
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
    line = ui.ModelLine(max_waiting=2)
    holder, first, second = line.join(), line.join(), line.join()
    with pytest.raises(ui.LineFull):
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
    line = ui.ModelLine(max_waiting=1)
    monkeypatch.setattr(app, "local_line", line)
    monkeypatch.setattr(app, "backends", ["extractive", "local"])
    # No model needed: "local" questions are answered by the extractive backend here.
    extractive = app.pipeline.stream
    monkeypatch.setattr(
        app.pipeline, "stream", lambda q, **kw: extractive(q, **{**kw, "backend": "extractive"})
    )
    holder = line.join()  # the model is busy with another question

    steps = app.respond(QUESTION, [], "raad", "alle", "local", None)
    first = next(steps)
    note = first[0][-1]["content"]
    assert "Wachtrij lokaal model: u bent nummer 1" in note and 'class="ivb-status"' in note
    assert "ivb-error" not in note and first[1] == ""
    assert line.waiting == 1  # the line is full now

    # One more: the web chat says it is busy and keeps the question in the box; the API
    # gives a well-formed refusal. Neither waits nor fails.
    (busy,) = list(app.respond("Wat doet Urk?", [], "raad", "alle", "local", None))
    message = busy[0][-1]["content"]
    assert ui.BUSY_TEXT in message and 'class="ivb-refusal"' in message
    assert "Het taalmodel is nu bezet" in message and busy[1] == "Wat doet Urk?"
    result = app.ask_api(QUESTION, "raad", "alle", "local", "[]")
    assert result["refused"] is True and result["refusal_reason"] == "busy"
    assert result["answer"] == ui.BUSY_TEXT and result["citations"] == []
    assert result["backend"] == "local" and "total" in result["timings"]

    # The model is free: the waiting question is answered, and leaves the line.
    holder.leave()
    rest = list(steps)
    writing = [r[0][-1]["content"] for r in rest if isinstance(r[0], list)]
    assert "wordt geschreven" in writing[0]  # the place note goes once it is its turn
    chat, _, turns, panel, _, _, _ = rest[-1]
    assert len(turns) == 1 and 'href="#bron-0-1"' in chat[-1]["content"]
    assert "Wachtrij" not in chat[-1]["content"] and "pagina 2" in panel
    assert len(line) == 0


def test_main_fills_an_empty_store_then_launches(settings, monkeypatch):
    launched = []
    monkeypatch.setattr(ui, "launch", lambda demo, s: launched.append((demo, s)))
    ui.main(settings)
    from assistant.service import get_service

    assert [d.doc_id for d in get_service(settings).store.documents()] == [SEED_ID]
    assert len(launched) == 1 and launched[0][1] is settings


# --------------------------------------------------------------------------- served app


@pytest.fixture(scope="module")
def served(tmp_path_factory, base_settings, embedder) -> Iterator[tuple[str, ui.WebApp]]:
    """The real app on a free loopback port, over its own seeded store."""

    settings = _staff_settings(
        base_settings,
        store_dir=tmp_path_factory.mktemp("served"),
        port=free_port(),
        host="127.0.0.1",
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
    expected = app.pipeline.ask(QUESTION, backend="extractive").as_dict()
    assert set(result) == set(expected)
    assert result["refused"] is False and result["answer"] == expected["answer"]
    assert [(c["doc_id"], c["page"]) for c in result["citations"]] == [(SEED_ID, "2")]
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


def test_anonymous_staff_calls_are_refused(served, tmp_path):
    from gradio_client import Client

    url, app = served
    store = app.service.store
    before = [(d.doc_id, d.doc_hash) for d in store.documents()]
    client = Client(url, verbose=False)
    for name in ("/staff_delete", "/staff_upload", "/staff_reingest", "/staff_audit"):
        with pytest.raises(ValueError, match="Cannot find"):
            client.predict(None, SEED_ID, api_name=name)

    # The raw HTTP API still reaches the handlers; their token check refuses.
    def call(api_name: str, data: list) -> str:
        request = urllib.request.Request(
            f"{url}gradio_api/call/{api_name}",
            data=json.dumps({"data": data}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            event_id = json.loads(response.read())["event_id"]
        return _get(f"{url}gradio_api/call/{api_name}/{event_id}")

    for api_name, data in [
        ("staff_delete", [None, SEED_ID]),
        ("staff_delete", ["forged-token", SEED_ID]),
        ("staff_reingest", [None]),
        ("staff_audit", ["forged-token"]),
        ("staff_feedback", [None]),
    ]:
        stream = call(api_name, data)
        assert "event: error" in stream, (api_name, stream)
        assert "event: complete" not in stream
    assert "niet ingelogd" in call("staff_reingest", [None])

    # An upload: the file reaches gradio's upload folder (open to all, as in any gradio
    # app), but the staff handler refuses it and nothing is stored or indexed.
    pdf = _fact_pdf(tmp_path / "anoniem.pdf", "Anonieme inhoud.")
    with pdf.open("rb") as handle:
        (uploaded,) = httpx.post(f"{url}gradio_api/upload", files={"files": handle}).json()
    file_data = {"path": uploaded, "orig_name": "anoniem.pdf", "meta": {"_type": "gradio.FileData"}}
    stream = call("staff_upload", [None, file_data, "anoniem", "", "", "beleid", "", ""])
    assert "event: error" in stream and "niet ingelogd" in stream
    assert not app.uploads_dir.exists() or not any(app.uploads_dir.iterdir())
    assert [(d.doc_id, d.doc_hash) for d in store.documents()] == before

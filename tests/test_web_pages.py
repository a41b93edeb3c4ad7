"""The app's own routes (web.documents) over a real seeded store, through FastAPI's test
client, and the interface languages (web.i18n, web.assets): which documents are served,
the viewer's page, the accessibility statement, the language of a request, and the texts
the server writes in it (the saved conversation, the staff page's messages).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import gradio as gr
import pytest
from docx import Document
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant import prompts
from assistant.answer import AnswerPipeline
from assistant.auth import hash_password
from assistant.backends import BACKEND_LABELS
from tests.conftest import SEED_ID
from web import documents
from web.assets import DutchPageMiddleware, brand_css, contrast_ratio, scope_language
from web.chat import ChatHandlers
from web.documents import (
    MAX_QUOTE,
    MAX_QUOTES,
    document_routes,
    link_quotes,
    pdfjs_available,
    viewer_url,
)
from web.i18n import TEXTS, pick_language, text
from web.render import viewer_html
from web.staff import StaffHandlers, doc_columns
from web.turns import CitedSource, Turn

THEMES_QUOTE = "cybercrime en digitale veiligheid"
# A second quote on the same page of the seed PDF (index 1), away from the first.
DRONTEN_QUOTE = "Voor de gemeente Dronten zijn dat"


@pytest.fixture(scope="module")
def client(seeded_settings, seeded_service, tmp_path_factory):
    """The routes over the seeded store, plus one Markdown document."""
    from ingest.pipeline import ingest_paths

    folder = tmp_path_factory.mktemp("md")
    path = folder / "wijkteam-urk.md"
    path.write_text(
        "# Wijkteam Urk\n\nHet wijkteam van Urk houdt elke dinsdag spreekuur in het "
        "dorpshuis.\n\nInwoners kunnen daar zonder afspraak terecht.\n",
        encoding="utf-8",
    )
    report = ingest_paths([path], seeded_settings, store=seeded_service.store)
    assert report.ok, report.failed
    app = FastAPI()
    app.include_router(document_routes(seeded_settings, seeded_service))
    with TestClient(app) as test_client:
        test_client.md_path = path
        yield test_client
    seeded_service.store.remove("wijkteam-urk")


def test_only_indexed_documents_are_served(client, seeded_service):
    record = seeded_service.store.document(SEED_ID)
    response = client.get(f"/ivb/document/{SEED_ID}")
    assert response.status_code == 200 and response.content[:5] == b"%PDF-"
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    download = client.get(f"/ivb/document/{SEED_ID}?download=1")
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.content == Path(record.source).read_bytes()
    for path in (
        "/ivb/document/onbekend",
        "/ivb/document/..%2F..%2Fetc%2Fpasswd",
        "/ivb/document/%2Fetc%2Fpasswd",
        f"/ivb/page/{SEED_ID}/999.png",
        "/ivb/page/wijkteam-urk/0.png",  # not a PDF
        "/ivb/static/..%2F..%2Fpyproject.toml",
        "/ivb/vendor/..%2F..%2F..%2Fpyproject.toml",
        "/ivb/logo",  # none configured
    ):
        assert client.get(path).status_code == 404, path


def test_a_changed_file_is_not_served(client, tmp_path):
    """A file changed since it was indexed is not what the answer cited: 404."""
    saved = tmp_path / "saved.md"
    shutil.copy(client.md_path, saved)
    try:
        client.md_path.write_text("Iets heel anders.\n", encoding="utf-8")
        assert client.get("/ivb/document/wijkteam-urk").status_code == 404
        assert client.get("/ivb/viewer/wijkteam-urk").status_code == 404
    finally:
        shutil.copy(saved, client.md_path)
    assert client.get("/ivb/document/wijkteam-urk").status_code == 200


def test_the_page_image_fallback(client):
    response = client.get(f"/ivb/page/{SEED_ID}/1.png", params={"q": THEMES_QUOTE})
    assert response.status_code == 200 and response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_viewer_page_for_a_pdf(client):
    quote = "</script><script>alert(1)</script>"
    response = client.get(f"/ivb/viewer/{SEED_ID}", params={"page": 0, "q": quote, "n": 2})
    assert response.status_code == 200
    body = response.text
    assert '<html lang="nl" class="voorbeeld-theme">' in body
    assert "<script>alert(1)" not in body  # the quote is data, never markup
    if pdfjs_available():
        assert 'src="/ivb/static/viewer.js"' in body and '"page": 0' in body
    assert f"/ivb/document/{SEED_ID}?download=1" in body
    english = client.get(f"/ivb/viewer/{SEED_ID}", params={"lang": "en"}).text
    assert '<html lang="en"' in english and "Download the original document" in english
    # Out-of-range pages are clamped, not an error.
    assert client.get(f"/ivb/viewer/{SEED_ID}", params={"page": 999}).status_code == 200


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(html.unescape(url)).query)


def test_a_viewer_link_carries_every_quote_of_its_citation():
    """One ``q`` per quote (it carried only the first); a single quote is the older link."""
    url = viewer_url("ivb doc", 1, [THEMES_QUOTE, DRONTEN_QUOTE], 2, "2")
    assert url.startswith("/ivb/viewer/ivb%20doc?page=1&q=")
    assert _query(url) == {"page": ["1"], "q": [THEMES_QUOTE, DRONTEN_QUOTE], "n": ["2"],
                           "label": ["2"]}  # fmt: skip
    assert _query(viewer_url("d", 0, THEMES_QUOTE, 1, "1"))["q"] == [THEMES_QUOTE]
    # The source panel's viewer links to both quotes of a citation.
    source = CitedSource(n=1, chunk_id="c", doc_id="d", title="T", page="2", page_index=1,
                         source="/x/t.pdf", quote=THEMES_QUOTE,
                         quotes=[THEMES_QUOTE, DRONTEN_QUOTE], context="")  # fmt: skip
    frame = re.search(r'<iframe[^>]* src="([^"]+)"', viewer_html(source)).group(1)
    assert _query(frame)["q"] == [THEMES_QUOTE, DRONTEN_QUOTE]


def test_a_viewer_link_stays_short():
    """At most MAX_QUOTES quotes and MAX_QUOTE characters of them; the first is cut to fit
    (as the one quote was), a later one that does not fit is left out, not cut."""
    many = [f"Zin nummer {i} van het stuk." for i in range(MAX_QUOTES + 3)]
    assert link_quotes(many) == many[:MAX_QUOTES]
    assert link_quotes(["x" * (MAX_QUOTE + 50), "kort"]) == ["x" * MAX_QUOTE]
    long, rest = "a" * (MAX_QUOTE - 10), "b" * 20
    assert link_quotes([long, rest, "c" * 5, " "]) == [long, "c" * 5]
    assert link_quotes("") == [] and link_quotes(THEMES_QUOTE) == [THEMES_QUOTE]
    # Long Dutch sentences with curly quotes and accents: under the 8 KiB that servers and
    # proxies commonly take for a request line.
    sentence = "De gemeenten’ aanpak van ‘ondermijning’ en café-overlast is geëvalueerd. " * 8
    url = viewer_url("d", 0, [sentence] * 10, 1, "1")
    assert len(_query(url)["q"]) == 3 and len(url) < 8 * 1024


def test_the_page_image_marks_every_quote(client):
    """Several ``q``: each quote boxed (only one was taken)."""
    path = f"/ivb/page/{SEED_ID}/1.png"
    one = client.get(path, params={"q": THEMES_QUOTE})
    both = client.get(path, params={"q": [THEMES_QUOTE, DRONTEN_QUOTE]})
    assert one.status_code == both.status_code == 200
    assert both.content[:8] == b"\x89PNG\r\n\x1a\n" and both.content != one.content
    second = client.get(path, params={"q": [DRONTEN_QUOTE, THEMES_QUOTE]})
    assert second.content == both.content  # the same two boxes


@pytest.mark.parametrize("with_pdfjs", [True, False], ids=["pdfjs", "page-image"])
def test_the_pdf_viewer_takes_every_quote(client, monkeypatch, with_pdfjs):
    """pdf.js is told every quote to mark, and its fallback image (or, without pdf.js, the
    image itself) boxes every quote."""
    monkeypatch.setattr(documents, "pdfjs_available", lambda: with_pdfjs)
    quotes = [THEMES_QUOTE, DRONTEN_QUOTE]
    response = client.get(f"/ivb/viewer/{SEED_ID}", params={"page": 1, "q": quotes, "n": 1})
    assert response.status_code == 200
    body = response.text
    if with_pdfjs:
        config = json.loads(
            re.search(r'id="ivb-viewer-config">(.*?)</script>', body, re.DOTALL).group(1)
        )
        assert config["quotes"] == quotes and config["page"] == 1
        image = config["fallback"]
        assert THEMES_QUOTE in config["alt"] and DRONTEN_QUOTE in config["alt"]
    else:
        image = re.search(r'<img class="ivb-fallback" src="([^"]+)"', body).group(1)
    assert urlsplit(html.unescape(image)).path == f"/ivb/page/{SEED_ID}/1.png"
    assert _query(image)["q"] == quotes


def test_the_viewer_page_for_a_markdown_source(client):
    response = client.get("/ivb/viewer/wijkteam-urk", params={"q": "houdt elke dinsdag spreekuur"})
    assert response.status_code == 200
    assert '<mark id="ivb-hit" class="ivb-hit">houdt elke dinsdag spreekuur</mark>' in response.text
    assert "Inwoners kunnen daar zonder afspraak terecht." in response.text
    missing = client.get("/ivb/viewer/wijkteam-urk", params={"q": "staat er niet in"})
    assert text("viewer_not_found", "nl") in missing.text and "<mark" not in missing.text


def test_the_text_viewer_marks_every_quote(client):
    """Two ``q``: both marked, not the text between; the first is the one scrolled to."""
    quotes = ["Inwoners kunnen daar zonder afspraak terecht.", "houdt elke dinsdag spreekuur"]
    body = client.get("/ivb/viewer/wijkteam-urk", params={"q": quotes}).text
    assert re.findall(r'<mark(?: id="ivb-hit")? class="ivb-hit">(.*?)</mark>', body) == [
        quotes[1],
        quotes[0],
    ]
    assert '<mark id="ivb-hit" class="ivb-hit">houdt elke dinsdag spreekuur</mark>' in body
    assert body.count('id="ivb-hit"') == 1 and text("viewer_text_found", "nl") in body
    # One of them not in the document: the other is still marked.
    partly = client.get("/ivb/viewer/wijkteam-urk", params={"q": ["staat er niet in", quotes[0]]})
    assert f'<mark id="ivb-hit" class="ivb-hit">{quotes[0]}</mark>' in partly.text


def test_the_accessibility_statement(client):
    dutch = client.get("/ivb/toegankelijkheid").text
    assert "<h1" in dutch and "Toegankelijkheidsverklaring" in dutch and "WCAG 2.1" in dutch
    assert "Gemeenten Dronten, Noordoostpolder en Urk" in dutch
    english = client.get("/ivb/toegankelijkheid", headers={"Accept-Language": "en-GB"}).text
    assert "Accessibility statement" in english


def test_both_languages_have_every_text():
    assert set(TEXTS["nl"]) == set(TEXTS["en"])
    for backend, label in BACKEND_LABELS.items():  # the page's backend choice, in Dutch
        assert TEXTS["nl"][f"backend_{backend}"] == label
    for key in TEXTS["nl"]:
        assert TEXTS["nl"][key] != TEXTS["en"][key] or key in {"download_file"}, key
    assert set(prompts.BUSY) >= {"nl", "en"}
    assert set(prompts.MODEL_FAILED_NOTICE) >= {"nl", "en"}


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        (None, None, "nl"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "de-DE,de;q=0.9,en;q=0.8,nl;q=0.7", "en"),
        (None, "en;q=0.5,nl;q=0.9", "nl"),
        (None, "fr-FR", "nl"),
        ("en", "nl-NL", "en"),
        ("nl", "en-US", "nl"),
        ("xx", "en-US", "en"),
        (None, "en;q=abc", "nl"),
    ],
)
def test_pick_language(cookie, accept, expected):
    assert pick_language(cookie, accept) == expected


def test_the_page_is_served_in_the_chosen_language():
    def scope(query: bytes = b"", **headers: str) -> dict:
        raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
        return {"type": "http", "query_string": query, "headers": raw}

    assert scope_language(scope(b"lang=en")) == ("en", True)
    assert scope_language(scope(cookie="ivb_lang=en")) == ("en", False)
    assert scope_language(scope(accept_language="en-US")) == ("en", False)
    assert scope_language(scope(cookie='kapot="', accept_language="nl")) == ("nl", False)
    page = b'<!doctype html><html lang="en"><head></head><body></body></html>'
    dutch = DutchPageMiddleware.rewrite(page, "nl")
    assert b'lang="nl"' in dutch and b'class="voorbeeld-theme"' in dutch
    assert b"navigator,'language',{get:()=>'nl'}" in dutch
    assert b"get:()=>'en'" in DutchPageMiddleware.rewrite(page, "en")


def test_brand_colours(seeded_settings):
    branded = seeded_settings.model_copy(update={"brand_color": "#00689e"})
    assert "--ivb-brand: #00689e" in brand_css(branded)
    assert contrast_ratio("#ffffff", "#154273") > 10  # the default: AA for any text size
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)


def test_refusals_follow_the_interface_language(seeded_service):
    pipeline = AnswerPipeline(seeded_service)
    question = "Wat is de hoofdstad van Frankrijk?"
    dutch = pipeline.ask(question, backend="extractive")
    english = pipeline.ask(question, backend="extractive", notice_language="en")
    assert dutch.refused and english.refused
    assert dutch.text == prompts.refusal_text("nl")
    assert english.text == prompts.refusal_text("en")
    assert english.language == "nl"  # the question's language is still recorded


def _visitor(accept_language: str | None, client: str = "127.0.0.1") -> SimpleNamespace:
    """A gradio request as the handlers read it: cookies, headers and the client's address."""
    headers = {"accept-language": accept_language} if accept_language else {}
    return SimpleNamespace(cookies={}, headers=headers, client=SimpleNamespace(host=client))


def test_the_chat_saves_the_conversation_in_the_pages_language(seeded_settings, seeded_service):
    chat = ChatHandlers(seeded_settings, seeded_service)
    refused = Turn(
        question="Hoe lang moet een appeltaart in de oven?", answer="Dat staat er niet in.",
        html="", refused=True, audience="raad", language="nl", audit_id="a1",
        asked_at="2026-12-01T09:30:00+00:00", model="extractive", backend="extractive",
        refusal_reason="no_relevant_passage",
    )  # fmt: skip
    md, docx = chat.export_files([refused], _visitor("en-GB,en;q=0.9"))
    assert md.value["orig_name"].startswith("conversation-ivb-")
    english = Path(md.value["path"]).read_text(encoding="utf-8")
    assert english.startswith("# Conversation with the IVB assistant")
    assert "## Question 1: Hoe lang moet een appeltaart in de oven?" in english
    assert "**Refused: no answer given (reason: " in english and "Geweigerd" not in english
    paragraphs = [p.text for p in Document(docx.value["path"]).paragraphs]
    assert "Conversation with the IVB assistant" in paragraphs
    assert any(p.startswith("Refused: no answer given") for p in paragraphs)
    # A Dutch page (or no language at all) saves it in Dutch, as before.
    md, _ = chat.export_files([refused], _visitor(None))
    dutch = Path(md.value["path"]).read_text(encoding="utf-8")
    assert md.value["orig_name"].startswith("gesprek-ivb-")
    assert dutch.startswith("# Gesprek met de IVB-assistent") and "**Geweigerd: " in dutch


def test_the_staff_pages_messages_follow_the_page_language(seeded_settings, seeded_service):
    password = "geheim-wachtwoord"
    settings = seeded_settings.model_copy(
        update={
            "staff_username": "beheer",
            "staff_password_hash": SecretStr(hash_password(password)),
            "login_max_failures": 2,
        }
    )
    staff = StaffHandlers(settings, seeded_service)
    english, dutch = _visitor("en-GB"), _visitor("nl-NL")

    assert staff.login("beheer", "fout", english)[1] == "Wrong user name or password."
    assert staff.login("beheer", "fout", dutch)[1] == "Onjuiste gebruikersnaam of wachtwoord."
    blocked = staff.login("beheer", password, english)[1]  # two failures from this address
    assert blocked == "Too many failed attempts. Try again in 5 minutes."

    token, message, _, _, _, table, _ = staff.login("beheer", password, _visitor("en", "10.0.0.2"))
    assert message == "Logged in as **beheer**."
    assert table.constructor_args["headers"] == doc_columns("en")
    assert "municipality" in doc_columns("en") and "gemeente" in doc_columns("nl")
    rows, _ = staff.documents(token, english)
    assert {row[0]: row[-1] for row in rows}[SEED_ID] == "current"
    assert {row[0]: row[-1] for row in staff.document_rows()}[SEED_ID] == "actueel"  # no request

    assert staff.logout(token, english)[1] == "You are logged out."
    with pytest.raises(gr.Error, match="You are not logged in"):
        staff.documents(token, english)
    assert staff.logout(None, dutch)[1] == "U bent uitgelogd."
    with pytest.raises(gr.Error, match="U bent niet ingelogd"):
        staff.export_audit(token, dutch)

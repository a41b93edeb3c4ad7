"""The web app in a real browser: ask, read the cited page, rate the answer; log in as staff,
upload a document, get it cited, delete it and get a refusal. Every page is checked with
axe-core and may not load anything from outside this machine.

Screenshots go to artifacts/screenshots/ (chat.png, source.png, staff.png).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from assistant.audit import read_jsonl
from tests.pdf_factory import PdfPage, make_text_pdf

pytestmark = pytest.mark.browser

QUESTION = "Welke thema's hebben de drie gemeenten samen geprioriteerd?"
FACT = "De Urker vismijn opent op 14 maart 2031 een nieuw cyberlab."
FACT_QUESTION = "Wanneer opent de Urker vismijn een nieuw cyberlab?"
FACT_ID = "urk-vismijn-cyberlab"


def _open(page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Uw vraag").wait_for(state="visible")


def _ask(page, question: str) -> None:
    box = page.get_by_label("Uw vraag")
    box.fill(question)
    box.press("Enter")  # the keyboard path: Enter sends the question


def _settled(page) -> None:
    """Wait until no component of the page shows a pending event (dimmed while loading)."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => document.querySelectorAll('.pending').length === 0")


def _no_serious_violations(axe_violations, page) -> None:
    violations = axe_violations(page)
    assert violations == [], violations


def test_chat_cites_page_two_and_shows_the_page(
    running_app, browser_page, axe_violations, screenshot
):
    page = browser_page.page
    _open(page, running_app.url)
    assert page.evaluate("document.documentElement.lang") == "nl"
    _no_serious_violations(axe_violations, page)

    # The empty chat offers example questions; choosing one asks it.
    example = page.locator("#ivb-examples").get_by_role("button", name=QUESTION)
    example.click()
    example.wait_for(state="hidden")
    page.locator("#ivb-chat a.ivb-cite").first.wait_for()
    answer = page.locator("#ivb-chat .ivb-answer").last.inner_text()
    assert "cybercrime" in answer and "ondermijning" in answer
    source = page.locator("#ivb-sources a.ivb-source-link", has_text="pagina 2").first
    source.wait_for()
    assert page.locator("#ivb-sources mark").first.is_visible()
    screenshot(page, "chat.png")

    source.click()
    image = page.locator("#ivb-page-image img")
    image.wait_for()
    page.wait_for_function(
        "() => { const i = document.querySelector('#ivb-page-image img');"
        " return i && i.complete && i.naturalWidth > 500; }"
    )
    assert "Pagina 2" in page.locator("#ivb-source-detail").inner_text()
    assert "Pagina 2" in (image.get_attribute("alt") or "")
    _settled(page)
    screenshot(page, "source.png")

    _no_serious_violations(axe_violations, page)
    assert browser_page.external_requests == []


def test_citation_link_and_feedback_with_a_comment(running_app, browser_page):
    page = browser_page.page
    _open(page, running_app.url)
    _ask(page, QUESTION)
    # The [1] in the answer itself is a link to its source, also by keyboard.
    cite = page.locator("#ivb-chat a.ivb-cite").first
    cite.focus()
    page.keyboard.press("Enter")
    page.locator("#ivb-sources .ivb-active").wait_for()
    page.locator("#ivb-page-image img").wait_for()

    page.locator("#ivb-chat").get_by_role("button", name="Vind ik leuk", exact=True).last.click()
    comment = page.get_by_label("Toelichting (optioneel)")
    comment.wait_for()
    comment.fill("Duidelijk antwoord met de juiste bron.")
    page.get_by_role("button", name="Toelichting versturen").click()
    page.get_by_text("Bedankt voor uw toelichting.").wait_for()

    records = read_jsonl(running_app.settings.feedback_path)
    assert [r["rating"] for r in records][-2:] == ["up", "up"]
    assert records[-1]["comment"] == "Duidelijk antwoord met de juiste bron."
    assert records[-1]["question"] == QUESTION and records[-1]["citations"][0]["page"] == "2"
    assert browser_page.external_requests == []


def _fact_pdf(folder: Path) -> Path:
    page = PdfPage(
        blocks=[
            ("h", "Nieuw cyberlab in de Urker vismijn"),
            ("p", [FACT, "Ondernemers en inwoners kunnen er leren hoe zij zich beschermen",
                   "tegen cybercrime."]),
        ]
    )  # fmt: skip
    return make_text_pdf(folder / "cyberlab vismijn.pdf", [page], title="Cyberlab vismijn Urk")


def _choose(page, label: str, option: str | re.Pattern[str]) -> None:
    page.get_by_label(label).click()
    page.get_by_role("option", name=option).click()


def test_staff_uploads_a_document_that_is_then_cited_and_deleted(
    running_app, browser_page, axe_violations, screenshot, tmp_path
):
    page = browser_page.page
    _open(page, running_app.url)
    page.get_by_role("tab", name="Beheer").click()
    page.get_by_label("Gebruikersnaam").fill(running_app.staff_user)
    page.get_by_label("Wachtwoord").fill("fout wachtwoord")
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_text("Onjuiste gebruikersnaam of wachtwoord.").wait_for()
    _no_serious_violations(axe_violations, page)

    page.get_by_label("Wachtwoord").fill(running_app.staff_password)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_role("button", name="Opnemen in de index").wait_for()
    documents = page.locator("#ivb-documents")
    expect(documents).to_contain_text("ivb-toelichting-beeldvormende-vergadering")

    page.locator("#ivb-upload-file input[type=file]").set_input_files(str(_fact_pdf(tmp_path)))
    page.get_by_label("Id (optioneel)").fill(FACT_ID)
    page.get_by_label("Titel (optioneel)").fill("Cyberlab in de Urker vismijn")
    _choose(page, "Gemeente van het document", "Urk")
    page.get_by_role("button", name="Opnemen in de index").click()
    result = page.locator("#ivb-upload-result")
    result.get_by_text(re.compile("toegevoegd")).wait_for(timeout=120_000)
    assert result.inner_text().startswith("Gelukt.")
    expect(documents).to_contain_text(FACT_ID)
    _no_serious_violations(axe_violations, page)
    screenshot(page, "staff.png")

    page.get_by_role("tab", name="Vragen").click()
    _ask(page, FACT_QUESTION)
    page.locator("#ivb-chat a.ivb-cite").first.wait_for()
    assert "14 maart 2031" in page.locator("#ivb-chat .ivb-answer").last.inner_text()
    assert "Cyberlab in de Urker vismijn" in page.locator("#ivb-sources").inner_text()

    page.get_by_role("tab", name="Beheer").click()
    _choose(page, "Document om te verwijderen", re.compile(FACT_ID))
    page.get_by_role("button", name="Verwijderen uit de index").click()
    page.locator("#ivb-delete-result").get_by_text(re.compile("verwijderd")).wait_for()
    assert running_app.app.service.store.document(FACT_ID) is None

    page.get_by_role("tab", name="Vragen").click()
    page.get_by_role("button", name="Nieuw gesprek").click()
    _ask(page, FACT_QUESTION)
    refusal = page.locator("#ivb-chat .ivb-refusal")
    refusal.wait_for()
    assert "Niet gevonden in de documenten" in refusal.inner_text()
    assert page.locator("#ivb-chat a.ivb-cite").count() == 0
    _no_serious_violations(axe_violations, page)
    assert browser_page.external_requests == []

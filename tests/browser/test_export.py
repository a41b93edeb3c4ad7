""" "Gesprek opslaan" in a real browser: ask two questions (one answered with a source, one
refused), download the conversation as Markdown and as Word, and read the files back.

Screenshot: artifacts/screenshots/export.png (the chat with the save buttons).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document

from tests.conftest import THEMES_PAGES

pytestmark = pytest.mark.browser

QUESTION = "Welke thema's hebben de drie gemeenten samen geprioriteerd?"
OFF_TOPIC = "Hoe lang moet een appeltaart in de oven?"


def _ask(page, question: str) -> None:
    box = page.get_by_label("Uw vraag")
    box.fill(question)
    box.press("Enter")


def _settled(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function("() => document.querySelectorAll('.pending').length === 0")


def _download(page, name: str, tmp_path: Path, must_hold: str) -> Path:
    """Download the file behind a save button; the files are remade after each answer, so
    download again (a few times) until the file holds the last question."""
    for attempt in range(10):
        with page.expect_download() as info:
            page.get_by_role("button", name=name).click()
        path = tmp_path / f"{attempt}-{info.value.suggested_filename}"
        info.value.save_as(path)
        data = path.read_bytes()
        text = data.decode("utf-8") if path.suffix == ".md" else _docx_text(data)
        if must_hold in text:
            return path
        page.wait_for_timeout(500)
    raise AssertionError(f"{name}: the download never held {must_hold!r}")


def _docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def test_the_conversation_is_saved_with_sources_and_refusals(
    running_app, browser_page, axe_violations, screenshot, tmp_path
):
    page = browser_page.page
    page.goto(running_app.url)
    page.get_by_label("Uw vraag").wait_for(state="visible")
    save_md = page.get_by_role("button", name="Gesprek opslaan (Markdown)")
    assert save_md.count() == 0 or not save_md.is_visible()  # nothing to save yet

    _ask(page, QUESTION)
    page.locator("#ivb-chat a.ivb-cite").first.wait_for()
    _ask(page, OFF_TOPIC)
    page.locator("#ivb-chat .ivb-refusal").wait_for()
    save_md.wait_for(state="visible")
    _settled(page)
    screenshot(page, "export.png")
    assert axe_violations(page) == []

    md_path = _download(page, "Gesprek opslaan (Markdown)", tmp_path, OFF_TOPIC)
    assert md_path.name.endswith(".md") and "gesprek-ivb-" in md_path.name
    text = md_path.read_text(encoding="utf-8")
    answered, refused = text.split("## Vraag 2:")
    assert f"## Vraag 1: {QUESTION}" in answered
    assert "cybercrime" in answered and "Model: " in answered and "Gesteld op " in answered
    assert "**Bronnen**" in answered and "Geweigerd" not in answered
    assert any(f", pagina {page_label}" in answered for page_label in THEMES_PAGES)
    sources = answered.split("**Bronnen**")[1]
    quotes = [line[4:] for line in sources.splitlines() if line.startswith("  > ")]
    assert any("cybercrime" in q for q in quotes)  # the quoted text itself
    assert OFF_TOPIC in refused and "Geweigerd: geen antwoord gegeven (reden: " in refused
    assert "2 vragen, waarvan 1 geweigerd." in text

    docx_path = _download(page, "Gesprek opslaan (Word)", tmp_path, OFF_TOPIC)
    assert docx_path.name.endswith(".docx")
    doc = Document(str(docx_path))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == [f"Vraag 1: {QUESTION}", f"Vraag 2: {OFF_TOPIC}"]
    quotes = [p.text for p in doc.paragraphs if p.style.name == "Quote"]
    assert quotes and all(q.strip() for q in quotes)
    assert sum(p.text.startswith("Geweigerd") for p in doc.paragraphs) == 1
    assert browser_page.external_requests == []

    # A new conversation has nothing to save.
    page.get_by_role("button", name="Nieuw gesprek").click()
    save_md.wait_for(state="hidden")

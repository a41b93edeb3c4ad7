"""The document viewer, the English interface, the phone layout and axe at two widths, in
Debian's Chromium against the real app (one server for this module).

- A citation opens the original PDF in pdf.js at the cited page with the quote marked in
  its text layer; the themes sentence of the seed PDF runs over pages 1–2 and is marked
  on both. A Markdown source opens as text with the quote marked.
- ?lang=en (or an English browser) gives the English page, and refusals in English.
- At 390 px the settings start folded, the chat grows with its answers and every source
  is reachable from its answer.
- axe-core finds no WCAG 2.1 A/AA violation, moderate ones included, at 390 and 1400 px.

Screenshots in artifacts/screenshots/: viewer.png, viewer-text.png, english.png,
mobile-chat.png, mobile-source.png, statement.png.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

QUESTION = "Welke thema's hebben de drie gemeenten samen geprioriteerd?"
THEMES_LINK = re.compile(r"pagina 1–2\b")
MD_ID = "buurtpreventie-urk"
MD_FACT = "De buurtpreventie-app in Urk telt sinds maart 2025 ruim 1200 deelnemers."
MD_QUESTION = "Hoeveel deelnemers telt de buurtpreventie-app in Urk?"
ALL_IMPACTS = ("minor", "moderate", "serious", "critical")
AXE_IMPACTS = ("moderate", "serious", "critical")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 1000}


@pytest.fixture(scope="module")
def app_with_markdown(running_app, embedder, tmp_path_factory):
    """The module's app, its store also holding one Markdown document."""
    from ingest.pipeline import ingest_paths

    folder = tmp_path_factory.mktemp("markdown")
    path = folder / f"{MD_ID}.md"
    path.write_text(
        "# Buurtpreventie in Urk\n\n"
        "Inwoners houden samen een oogje in het zeil.\n\n"
        f"{MD_FACT} Zij melden verdachte situaties direct aan de politie.\n",
        encoding="utf-8",
    )
    store = running_app.app.service.store
    report = ingest_paths([path], running_app.settings, store=store, embedder=embedder)
    assert report.ok, report.failed
    return running_app


@pytest.fixture
def page_at(chromium):
    """``page_at(viewport, locale)``: a fresh page; every request outside this machine is
    recorded in ``page.external``."""
    contexts = []

    def make(viewport: dict, locale: str = "nl-NL"):
        context = chromium.new_context(viewport=viewport, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.external = []
        page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:"))
                else page.external.append(r.url)
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.locator("#ivb-question textarea").wait_for(state="visible")
    page.wait_for_timeout(300)


def _ask(page, question: str) -> None:
    box = page.locator("#ivb-question textarea")
    box.fill(question)
    box.press("Enter")


def _settled(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function("() => document.querySelectorAll('.pending').length === 0")


def _viewer(page):
    """The viewer's frame, once pdf.js has drawn and marked (or fallen back)."""
    page.locator("#ivb-viewer-frame").wait_for()
    frame = page.frame_locator("#ivb-viewer-frame")
    frame.locator("body[data-ready]").wait_for(timeout=60_000)
    return frame


def _no_violations(axe_violations, page, impacts=AXE_IMPACTS) -> None:
    violations = axe_violations(page, impacts)
    assert violations == [], violations


def test_a_citation_opens_the_pdf_at_pages_one_and_two_with_the_quote_marked(
    app_with_markdown, page_at, axe_violations, screenshot
):
    app = app_with_markdown
    page = page_at(DESKTOP)
    _open(page, app.url)
    _ask(page, QUESTION)
    source = page.locator("#ivb-sources a.ivb-source-link", has_text=THEMES_LINK).first
    source.click()
    frame = _viewer(page)
    body = frame.locator("body")
    assert body.get_attribute("data-ready") == "1"  # pdf.js, not the fallback image
    # The quote runs from page 1 onto page 2: marked in the text layer of both.
    assert body.get_attribute("data-hit-pages") == "1,2"
    marks = frame.locator(".ivb-page .textLayer mark.ivb-hit")
    on_page = {
        n: frame.locator(f'.ivb-page[data-page-number="{n}"] mark.ivb-hit').count() for n in (1, 2)
    }
    assert on_page[1] > 0 and on_page[2] > 0, on_page
    marked = re.sub(r"\s+", " ", " ".join(marks.all_inner_texts()))
    assert "cybercrime" in marked.lower() and "ondermijning" in marked.lower()
    assert frame.locator(".ivb-page canvas").count() >= 2  # the pages are drawn
    # The viewer opened at the quote: the first mark is in the visible part of the viewer.
    visible = frame.locator("#ivb-viewer").evaluate(
        """(box) => { const m = box.querySelector('mark.ivb-hit').getBoundingClientRect();
            const b = box.getBoundingClientRect();
            return m.top >= b.top && m.bottom <= b.bottom; }"""
    )
    assert visible
    # The download link serves the original, indexed file.
    href = frame.locator("#ivb-download").get_attribute("href")
    with urllib.request.urlopen(app.url.rstrip("/") + href) as response:
        assert response.headers["content-type"] == "application/pdf"
        assert "attachment" in response.headers["content-disposition"]
        data = response.read()
    record = next(d for d in app.app.service.store.documents() if d.format == "pdf")
    assert data[:5] == b"%PDF-" and data == Path(record.source).read_bytes()
    _settled(page)
    screenshot(page, "viewer.png")
    _no_violations(axe_violations, page)
    assert page.external == []


def test_the_viewer_marks_every_quote_of_a_citation(running_app, page_at):
    """A link with two ``q`` (two sentences of one chunk): pdf.js marks both; a link with
    one ``q`` (the older form) marks that one."""
    from urllib.parse import urlencode

    from tests.conftest import SEED_ID

    first, second = "cybercrime en digitale veiligheid", "Voor de gemeente Dronten zijn dat"
    page = page_at(DESKTOP)
    marked = {}
    for quotes in ([first, second], [first]):
        query = urlencode({"page": 1, "q": quotes}, doseq=True)
        page.goto(f"{running_app.url.rstrip('/')}/ivb/viewer/{SEED_ID}?{query}")
        page.locator("body[data-ready]").wait_for(timeout=60_000)
        body = page.locator("body")
        assert body.get_attribute("data-ready") == "1"  # pdf.js, not the fallback image
        assert body.get_attribute("data-hit-quotes") == str(len(quotes))
        texts = page.locator(".ivb-page .textLayer mark.ivb-hit").all_inner_texts()
        marked[len(quotes)] = re.sub(r"\s+", " ", " ".join(texts)).lower()
    assert "digitale veiligheid" in marked[2] and "dronten zijn dat" in marked[2]
    assert "digitale veiligheid" in marked[1] and "dronten" not in marked[1]
    assert page.external == []


def test_the_viewer_serves_only_indexed_documents(app_with_markdown):
    base = app_with_markdown.url.rstrip("/")
    for path in ("/ivb/document/..%2F..%2Fetc%2Fpasswd", "/ivb/document/onbekend",
                 "/ivb/page/onbekend/0.png", "/ivb/vendor/..%2F..%2Fpyproject.toml"):  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(base + path)
        assert caught.value.code == 404, path


def test_a_markdown_source_opens_as_text_with_the_quote_marked(
    app_with_markdown, page_at, axe_violations, screenshot
):
    page = page_at(DESKTOP)
    _open(page, app_with_markdown.url)
    _ask(page, MD_QUESTION)
    page.locator("#ivb-sources a.ivb-source-link", has_text="Buurtpreventie").first.click()
    frame = _viewer(page)
    mark = frame.locator("mark.ivb-hit")
    assert "1200 deelnemers" in mark.inner_text()
    assert "Inwoners houden samen" in frame.locator("#ivb-viewer").inner_text()  # whole text
    _settled(page)
    screenshot(page, "viewer-text.png")
    _no_violations(axe_violations, page)
    assert page.external == []


def test_english_from_the_browser_and_switched_on_the_page(
    app_with_markdown, page_at, axe_violations, screenshot
):
    page = page_at(DESKTOP, locale="en-GB")  # Accept-Language: en-GB
    _open(page, app_with_markdown.url)
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.get_by_label("Your question").is_visible()
    assert page.get_by_role("button", name="Ask", exact=True).is_visible()
    assert page.get_by_role("tab", name="Staff").is_visible()
    # A question the documents do not answer, asked in Dutch: the refusal is in English.
    _ask(page, "Wat is de hoofdstad van Frankrijk?")
    refusal = page.locator("#ivb-chat .ivb-refusal")
    refusal.wait_for()
    assert "Not found in the documents" in refusal.inner_text()
    assert "The documents I can consult do not say this" in refusal.inner_text()
    _ask(page, QUESTION)
    page.locator("#ivb-chat .ivb-answer a.ivb-cite").first.wait_for()
    assert "Sources" in page.locator("#ivb-chat .ivb-answer").last.inner_text()
    page.locator("#ivb-sources a.ivb-source-link", has_text=re.compile(r"page 1–2")).first.click()
    frame = _viewer(page)
    assert "marked in yellow" in frame.locator("#ivb-viewer-status").inner_text()
    _settled(page)
    screenshot(page, "english.png")
    _no_violations(axe_violations, page)

    # Back to Dutch with the switch on the page; the choice is kept.
    page.get_by_role("link", name="Nederlands").click()
    page.get_by_label("Uw vraag").wait_for()
    assert page.evaluate("document.documentElement.lang") == "nl"
    page.reload()
    page.get_by_label("Uw vraag").wait_for()
    assert page.external == []


def test_the_phone_layout(app_with_markdown, page_at, axe_violations, screenshot):
    page = page_at(PHONE)
    _open(page, app_with_markdown.url)
    # The settings start folded; nothing is wider than the screen.
    page.wait_for_function(
        "() => !document.querySelector('#ivb-settings .label-wrap').classList.contains('open')"
    )
    assert not page.get_by_label("Gemeente").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _no_violations(axe_violations, page)
    # The skip link is the first thing the keyboard reaches and leads to the question.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('ivb-skip')")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.closest('#ivb-question') !== null")

    example = page.locator("#ivb-examples").get_by_role("button", name=QUESTION)
    example.click()
    answer = page.locator("#ivb-chat .ivb-answer a.ivb-cite").first
    answer.wait_for()
    _ask(page, "Wat zijn de lokale speerpunten van Dronten?")
    page.wait_for_function("() => document.querySelectorAll('#ivb-chat .ivb-answer').length >= 2")
    page.wait_for_function(
        "() => !document.querySelector('#ivb-chat .ivb-answer:last-of-type .ivb-status')"
    )
    _settled(page)
    # The chat is not a fixed-height box: it is as tall as its two answers.
    heights = page.evaluate(
        """() => { const chat = document.querySelector('#ivb-chat');
           const log = chat.querySelector('[role=log]') || chat;
           return [chat.getBoundingClientRect().height, log.scrollHeight]; }"""
    )
    assert heights[0] + 2 >= heights[1], heights
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "mobile-chat.png")
    _no_violations(axe_violations, page)

    # Each answer's own source link opens that source and brings the panel into view.
    page.locator("#ivb-chat .ivb-answer").first.locator("a.ivb-cite").last.click()
    frame = _viewer(page)
    assert frame.locator("body").get_attribute("data-ready") == "1"
    assert frame.locator("mark.ivb-hit").count() > 0
    page.wait_for_timeout(800)
    in_view = page.locator("#ivb-source-panel").evaluate(
        "(el) => { const r = el.getBoundingClientRect();"
        " return r.top < innerHeight && r.bottom > 0; }"
    )
    assert in_view
    _settled(page)
    screenshot(page, "mobile-source.png")
    _no_violations(axe_violations, page)
    assert page.external == []


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1400px"])
def test_the_accessibility_statement_and_axe_at_both_widths(
    app_with_markdown, page_at, axe_violations, screenshot, viewport
):
    page = page_at(viewport)
    _open(page, app_with_markdown.url)
    _no_violations(axe_violations, page)
    page.get_by_role("tab", name="Beheer").click()
    page.get_by_role("button", name="Inloggen").wait_for()
    _no_violations(axe_violations, page)
    page.get_by_role("tab", name="Vragen").click()
    page.get_by_role("link", name="Toegankelijkheidsverklaring").click()
    page.get_by_role("heading", name="Toegankelijkheidsverklaring").wait_for()
    assert page.evaluate("document.documentElement.lang") == "nl"
    assert "WCAG" in page.locator("main").inner_text()
    _no_violations(axe_violations, page, ALL_IMPACTS)
    if viewport is DESKTOP:
        screenshot(page, "statement.png")
    assert page.external == []

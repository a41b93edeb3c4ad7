"""Browser fixtures: Debian's Chromium through Playwright, and the real app on loopback.

No browser is downloaded: Playwright drives /usr/bin/chromium (``apt-get install
chromium``). axe-core comes from npm (``npm install --prefix tests/browser axe-core@4``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from assistant.settings import REPO_ROOT, Settings
from tests.servers import free_port
from tests.servers import running_app as serve_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
STAFF_USER = "beheer"
STAFF_PASSWORD = "browser-test-wachtwoord"


@dataclass
class RunningApp:
    """The app under test: where it listens, its settings and its WebApp."""

    url: str
    settings: Settings
    app: Any
    staff_user: str = STAFF_USER
    staff_password: str = STAFF_PASSWORD


@dataclass
class Page:
    """A Playwright page plus every request it made to anything but this machine."""

    page: Any
    external_requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def running_app(tmp_path_factory, base_settings, embedder) -> Iterator[RunningApp]:
    """The real app (extractive backend, staff login on, uploads up to 1 MB) over a store
    seeded from corpus/, on a free loopback port."""
    from assistant.auth import hash_password

    settings = base_settings.model_copy(
        update={
            "store_dir": tmp_path_factory.mktemp("browser-store"),
            "host": "127.0.0.1",
            "port": free_port(),
            "staff_username": STAFF_USER,
            "staff_password_hash": SecretStr(hash_password(STAFF_PASSWORD)),
            "max_file_mb": 1.0,
        }
    )
    with serve_app(settings, embedder) as (url, app):
        yield RunningApp(url, settings, app)


@pytest.fixture(scope="module")
def openai_app(
    tmp_path_factory, base_settings, embedder, openai_server_url
) -> Iterator[RunningApp]:
    """The real app answering with the `openai` backend (configured first) over
    llama-cpp-python's OpenAI-compatible server on loopback, serving the packaged GGUF
    (the session's ``openai_server_url``); skipped where that server or the model file is
    missing."""
    settings = base_settings.model_copy(
        update={
            "store_dir": tmp_path_factory.mktemp("browser-openai-store"),
            "host": "127.0.0.1",
            "port": free_port(),
            "llm_backend": "openai",
            "openai_base_url": openai_server_url,
            "openai_model": "ivb-test",
        }
    )
    with serve_app(settings, embedder) as (url, app):
        yield RunningApp(url, settings, app)


@pytest.fixture
def browser_page(chromium) -> Iterator[Page]:
    # A Dutch visitor (Accept-Language nl-NL): the page follows the browser's language.
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(60_000)
    recorded = Page(page)

    def on_request(request: Any) -> None:
        url = request.url
        if not url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
            recorded.external_requests.append(url)

    page.on("request", on_request)
    try:
        yield recorded
    finally:
        context.close()


def _axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    if not AXE.is_file():
        pytest.fail("axe-core is missing: npm install --prefix tests/browser axe-core@4")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
        })"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [(n["target"], n["failureSummary"]) for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]  # fmt: skip


def _screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def axe_violations() -> Any:
    """``axe_violations(page, impacts=("serious", "critical"))``: axe-core's WCAG 2.1 A/AA
    violations of those impacts on the page as it is now."""
    return _axe_violations


@pytest.fixture
def screenshot() -> Any:
    """``screenshot(page, name)``: a full-page screenshot in artifacts/screenshots/."""
    return _screenshot

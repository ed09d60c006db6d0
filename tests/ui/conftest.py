"""Browser tests: Debian's Chromium driven by Playwright (from PyPI, no browser download) against
the live product (``tests.ui.live_server``). Screenshots go to ``build/test-results/ui``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from tests.support.ui_session import sign_in_page
from tests.ui.live_server import EDITOR_KEY, LiveServer, live_server

CHROMIUM = os.environ.get("JOURNEYS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-results" / "ui"
TIMEOUT_MS = 20_000  # how long Playwright waits for something to appear; never asserted on


# Module-wide, not session-wide: while Playwright's sync API runs, its event loop counts as running
# in this thread, and pytest-asyncio cannot run the async tests of other modules.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live product per test module: a module's tests share its customers and counts."""
    with live_server(tmp_path_factory.mktemp("ui")) as running:
        yield running


def open_page(browser: Browser, server: LiveServer, key: str = EDITOR_KEY) -> tuple[Page, list[str]]:
    """A 1280x800 page signed in with ``key``, and the errors its scripts log (none expected)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.append(message.text) if _counts(message) else None)
    sign_in_page(page, server.url, key)
    return page, errors


def _counts(message: ConsoleMessage) -> bool:
    """An error the page logged; the sign-in page (not ours) has no icon, so /favicon.ico is 404."""
    return message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico")


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    """A page signed in as an editor; the test fails if its scripts logged an error."""
    opened, errors = open_page(browser, server)
    yield opened
    opened.context.close()
    assert errors == [], f"the page logged errors: {errors}"

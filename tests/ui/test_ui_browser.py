"""The browser pair itself: Playwright (from PyPI) drives Debian's Chromium by executable path. If
this fails, every browser test would: fix the pair first (see /work/shared/UI_NOTES.md)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from tests.ui.conftest import CHROMIUM


def test_playwright_drives_the_system_chromium(browser: Browser) -> None:
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)"
    assert browser.is_connected()
    page = browser.new_page()
    page.set_content("<p id=x>drawn</p>")
    assert page.inner_text("#x") == "drawn"
    assert int(browser.version.split(".")[0]) >= 100
    page.close()

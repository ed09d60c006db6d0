"""A control character in a template tab, in Chromium: typed as a Jinja escape (``{{ '\\x00' }}``,
which renders a NUL into the subject) or pasted as the character itself, the editor shows what is
wrong and where in that template's tab, marks the tab and keeps Save disabled; removing it makes the
text valid again. (Before, the first checked as valid and a save put a NUL into every Subject.)"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.ui.test_ui_editor import open_editor

ESCAPE = "{{ '\\x00' }}"


def test_a_nul_in_a_subject_shows_in_its_tab_and_blocks_save(page: Page) -> None:
    open_editor(page, "onboarding")
    page.locator("#file-tabs [data-template=welcome]").click()
    expect(page.locator("#pane-template")).to_be_visible()
    page.locator('#part-tabs .part-tab[data-file="welcome/subject.txt"]').click()
    page.locator("#template-source .cm-content").click()
    page.keyboard.press("Control+End")
    error = page.locator("#template-error")
    badge = page.locator("#file-tabs [data-template=welcome] [data-tab-problems]")

    page.keyboard.type(f" {ESCAPE}")

    expect(page.locator("#check-status")).to_have_attribute("data-state", "invalid")
    expect(error).to_contain_text("welcome/subject.txt renders control character U+0000 (NUL)")
    expect(error).to_contain_text("which an email subject (a header) cannot carry")
    expect(badge).to_have_text(" 1")
    expect(page.locator("#save")).to_be_disabled()

    for _ in range(len(ESCAPE)):
        page.keyboard.press("Backspace")
    page.keyboard.insert_text("\x00")

    held = "welcome/subject.txt holds control character U+0000 (NUL) at line 2, column 2"  # after the \n
    expect(error).to_contain_text(held)
    expect(badge).to_have_text(" 1")
    expect(page.locator("#save")).to_be_disabled()

    page.keyboard.press("Backspace")
    expect(page.locator("#check-status")).to_have_attribute("data-state", "valid")
    expect(error).to_be_hidden()

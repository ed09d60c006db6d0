"""Editing on the canvas in Chromium: inserting a wait on the way out of `welcome`, deleting a step
and retarget an edge (from its panel, and by dragging its label onto a step) each rewrite the YAML
as expected, comments and layout kept, and the diagram is drawn again from the valid result."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.ui.test_ui_editor import open_editor

WELCOME = "  - {id: welcome, send: {email: welcome}}\n"
COMMENT = "  # Welcome them first: the sign-up bonus follows.\n"


def source(page: Page) -> str:
    text: str = page.evaluate("window.journeysEditor.state.doc.toString()")
    return text


def add_comment(page: Page) -> None:
    """A comment above `welcome`, typed in, so the test can see canvas edits keep comments."""
    page.evaluate(
        """([line, comment]) => { const view = window.journeysEditor;
        const at = view.state.doc.toString().indexOf(line);
        view.dispatch({ changes: { from: at, insert: comment } }); }""",
        [WELCOME, COMMENT],
    )
    expect(page.locator("#check-status")).to_have_attribute("data-state", "valid")


def text_comes(page: Page, present: str, absent: str = "\x00") -> None:
    """Wait until the editor's text holds ``present`` (and not ``absent``), then for its check."""
    page.wait_for_function(
        """([present, absent]) => { const text = window.journeysEditor.state.doc.toString();
        return text.includes(present) && !text.includes(absent); }""",
        arg=[present, absent],
    )
    page.wait_for_function(
        "(text) => window.lastChecked === text",
        arg=page.evaluate("window.journeysEditor.state.doc.toString()"),
    )


def drawn_steps(page: Page) -> list[str]:
    steps: list[str] = page.locator(".journey-diagram [data-step]").evaluate_all(
        "gs => gs.map(g => g.dataset.step)"
    )
    return steps


def test_inserting_a_wait_after_welcome_from_the_keyboard(page: Page, artifacts: Path) -> None:
    open_editor(page, "onboarding")
    add_comment(page)
    label = page.locator('.journey-diagram .edge-label[data-edge="welcome>signup_bonus#0"]')
    label.focus()
    page.keyboard.press("Enter")

    panel = page.locator("#canvas-panel")
    expect(panel).to_be_visible()
    panel.locator("#canvas-kind").select_option(label="Wait")
    panel.locator('[data-path="wait"]').fill("2d")
    page.screenshot(path=artifacts / "editor-canvas-insert.png")
    panel.get_by_role("button", name="Insert").click()

    text_comes(page, "wait_1")
    expect(page.locator("#check-status")).to_have_attribute("data-state", "valid")
    text = source(page)
    assert COMMENT + WELCOME + "  - {id: wait_1, wait: 2d}\n  - {id: signup_bonus," in text
    expect(page.locator('.journey-diagram [data-step="wait_1"]')).to_be_visible()
    assert page.locator('.journey-diagram .edge-label[data-edge="wait_1>signup_bonus#0"]').count() == 1
    expect(panel).to_be_hidden()


def test_deleting_a_step_reconnects_the_way_into_it(page: Page) -> None:
    open_editor(page, "onboarding")
    add_comment(page)
    page.locator('.journey-diagram [data-step="signup_bonus"]').click()
    panel = page.locator("#canvas-panel")
    panel.get_by_role("button", name="Delete signup_bonus").click()

    text_comes(page, "wait_profile", absent="signup_bonus")
    expect(page.locator("#check-status")).to_have_attribute("data-state", "valid")
    text = source(page)
    assert "signup_bonus" not in text
    assert COMMENT + WELCOME + "  - id: wait_profile\n" in text
    assert "signup_bonus" not in drawn_steps(page)
    assert page.locator('.journey-diagram .edge-label[data-edge="welcome>wait_profile#0"]').count() == 1


def test_retargeting_an_edge_from_its_panel_and_by_dragging(page: Page) -> None:
    open_editor(page, "onboarding")
    page.locator('.journey-diagram .edge-label[data-edge="wait_offer>not_activated#1"]').click()
    panel = page.locator("#canvas-panel")
    point = panel.get_by_role("button", name="Point it there")
    expect(panel.locator("#canvas-target option:checked")).to_have_text("not_activated (now)")
    expect(point).to_be_disabled()  # where the way goes already: nothing to change
    panel.locator("#canvas-target").select_option("activated")
    expect(point).to_be_enabled()
    point.click()

    text_comes(page, "    on_timeout: activated\n")
    # not_activated is no longer reached: the result is shown with its problem, not hidden.
    expect(page.locator("#check-status")).to_have_attribute("data-state", "invalid")
    assert "    on_timeout: activated\n" in source(page)
    expect(page.locator("#problem-list")).to_contain_text('"not_activated" is never reached')
    page.locator(".cm-content").focus()
    page.keyboard.press("Control+z")  # one edit, undone as one
    expect(page.locator("#check-status")).to_have_attribute("data-state", "unchanged")

    label = page.locator('.journey-diagram .edge-label[data-edge="profile_bonus>wait_purchase#0"]')
    target = page.locator('.journey-diagram [data-step="first_purchase_bonus"]')
    label.scroll_into_view_if_needed()
    label.drag_to(target)

    text_comes(page, "next: first_purchase_bonus}")
    expect(page.locator("#check-status")).to_have_attribute("data-state", "valid")
    assert "next: first_purchase_bonus}" in source(page)
    assert (
        page.locator('.journey-diagram .edge-label[data-edge="profile_bonus>first_purchase_bonus#0"]').count()
        == 1
    )

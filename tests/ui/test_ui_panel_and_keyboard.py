"""The step panel and the keyboard in Chromium: the welcome node's panel shows the email rendered
for the sample customer and who waits where; Tab reaches every node, Enter opens, Escape closes."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.ui.live_server import LiveServer
from tests.ui.reading import current_step, open_journey, scroll_to, until

ACTIVE_STEP = "() => document.activeElement && document.activeElement.getAttribute('data-step')"


def test_the_welcome_panel_shows_the_rendered_email(page: Page, artifacts: Path) -> None:
    open_journey(page, "onboarding")

    page.locator(".journey-diagram [data-step=welcome]").click()

    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#panel-title")).to_have_text("welcome")
    expect(panel.locator("[data-locale=default] [data-email=subject]")).to_have_text("Welcome aboard, Ada!")
    frame = page.frame_locator("[data-locale=default] iframe.email-frame")
    expect(frame.locator("body")).to_contain_text("Ada")
    assert panel.locator("[data-locale=default] iframe").get_attribute("sandbox") == ""
    expect(panel.locator("[data-locale=id] > summary")).to_have_text("Locale: id")
    expect(panel.locator("pre.yaml")).to_contain_text("email: welcome")
    expect(panel.locator("[data-panel-step=welcome] [data-count=entered]")).to_have_text("0")
    scroll_to(page, "#workspace")
    page.wait_for_timeout(300)  # let the email's frame paint before the picture (not an assertion)
    page.screenshot(path=artifacts / "node-panel.png")


def test_the_panel_lists_who_waits_at_a_step_linked_to_their_page(page: Page, server: LiveServer) -> None:
    server.event("signed_up", "dee", traits={"email": "dee@example.com", "first_name": "Dee"})
    until(lambda: current_step(server, "dee", "onboarding") == "wait_profile", what="dee to wait")
    open_journey(page, "onboarding")

    page.locator(".journey-diagram [data-step=wait_profile]").click()

    link = page.locator("#panel .waiting a", has_text="dee")
    expect(link).to_have_attribute("href", "/ui/customers/dee")
    expect(page.locator("#panel [data-count=waiting]")).to_have_text("1")


def test_the_keyboard_alone_tabs_through_the_nodes_opens_and_closes_the_panel(page: Page) -> None:
    open_journey(page, "onboarding")
    steps = page.locator(".journey-diagram [data-step]").evaluate_all("gs => gs.map(g => g.dataset.step)")

    reached: list[str] = []
    for _ in range(120):
        page.keyboard.press("Tab")
        step = page.evaluate(ACTIVE_STEP)
        if step and step not in reached:
            reached.append(step)
        if reached == steps:
            break
    assert reached == steps  # every node, in the order of the plan

    for _ in range(len(steps) * 3):
        page.keyboard.press("Shift+Tab")
        if page.evaluate(ACTIVE_STEP) == "welcome":
            break
    page.keyboard.press("Enter")
    expect(page.locator("#panel")).to_be_visible()
    expect(page.locator("#panel [data-email=subject]").first).to_have_text("Welcome aboard, Ada!")
    assert page.evaluate("document.activeElement.id") == "panel-title"
    assert page.locator(".journey-diagram [data-step=welcome]").get_attribute("aria-expanded") == "true"

    page.keyboard.press("Escape")
    expect(page.locator("#panel")).to_be_hidden()
    assert page.evaluate(ACTIVE_STEP) == "welcome"  # the focus is back where it was

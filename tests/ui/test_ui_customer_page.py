"""The customer page in Chromium: after events move a customer through onboarding, the page shows
their ledger and marks the step they are at on the small diagram (the step /v1/customers says);
the find box finds them by email, the keyboard alone gets there and on to the journey; an email
opens as it was sent; axe-core finds no serious violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.ui.live_server import LiveServer
from tests.ui.reading import current_step, overlaps, text_spills, until
from tests.ui.test_ui_accessibility import serious

CUSTOMER = "nia"
ACTIVE = "() => document.activeElement && (document.activeElement.id || document.activeElement.className)"
# The drawn box of every node of the small diagrams, and every text in it, in page coordinates.
MINI_BOXES = """() => [...document.querySelectorAll('.mini-diagram')].map((svg) =>
  [...svg.querySelectorAll('.node')].map((g) => {
    const r = g.querySelector('.shape').getBoundingClientRect();
    return { what: `node ${g.dataset.step || g.dataset.kind}`, box: [r.left, r.top, r.right, r.bottom] };
  }))"""


@pytest.fixture(scope="module")
def customer(server: LiveServer) -> Iterator[str]:
    """Nia signed up and completed her profile: she waits at wait_purchase with 150 points."""
    traits = {"email": "Nia.Sharma@Example.com", "first_name": "Nia", "last_name": "Sharma", "plan": "pro"}
    server.event("signed_up", CUSTOMER, traits=traits)
    until(lambda: current_step(server, CUSTOMER, "onboarding") == "wait_profile", what="nia to wait")
    server.event("profile_completed", CUSTOMER)
    until(lambda: current_step(server, CUSTOMER, "onboarding") == "wait_purchase", what="nia to move on")
    yield CUSTOMER


def open_customer(page: Page, customer_id: str) -> None:
    page.goto(f"/ui/customers/{customer_id}")
    page.wait_for_selector("[data-run-diagram][data-drawn=true]")


def test_the_page_shows_the_ledger_and_marks_the_current_step(
    page: Page, server: LiveServer, customer: str, artifacts: Path
) -> None:
    open_customer(page, customer)

    here = page.locator(".mini-diagram [data-here]")
    expect(here).to_have_count(1)
    assert here.get_attribute("data-step") == current_step(server, customer, "onboarding") == "wait_purchase"
    expect(here.locator("[data-here-text]")).to_have_text("here now")  # words, not colour alone
    assert here.locator(".here-ring").count() == 1 and here.locator(".pin").count() == 1
    assert set(
        page.locator(".mini-diagram .node.visited[data-step]").evaluate_all(
            "gs => gs.map(g => g.dataset.step)"
        )
    ) == {
        "joined",
        "welcome",
        "signup_bonus",
        "wait_profile",
        "profile_bonus",
        "wait_purchase",
    }
    # The marked step is scrolled into the card's view.
    frame = page.locator("[data-run-diagram]").bounding_box()
    marked = here.locator(".shape").bounding_box()
    assert frame and marked
    assert frame["x"] <= marked["x"] and marked["x"] + marked["width"] <= frame["x"] + frame["width"]

    rows = page.locator("[data-ledger] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Profile completed")
    expect(rows.nth(0)).to_contain_text("+50")
    expect(rows.nth(1)).to_contain_text("Sign-up bonus")
    expect(rows.nth(1)).to_contain_text("+100")
    expect(page.locator("[data-kpi=points]")).to_have_text("150")
    expect(page.locator("[data-badges]")).to_contain_text("Newcomer")
    expect(page.locator("[data-run-summary]")).to_contain_text("In progress, at wait_purchase")
    expect(page.locator("[data-temporal]")).to_have_attribute(
        "href", "http://127.0.0.1:8233/namespaces/default/workflows/journey%2Fonboarding%2Fnia"
    )
    expect(page.locator(".timeline li").first).to_contain_text("wait_purchase")
    for boxes in page.evaluate(MINI_BOXES):
        assert overlaps(boxes) == []
    assert text_spills(page, ".mini-diagram") == []
    page.wait_for_timeout(200)  # let the scrolled diagram paint before the picture (not an assertion)
    page.screenshot(path=artifacts / "customer-page.png")


def test_the_find_box_finds_a_customer_by_email_whatever_its_case(page: Page, customer: str) -> None:
    page.goto("/ui/customers")
    page.fill("#find-customer", "nia.sharma@example.COM")
    page.keyboard.press("Enter")

    page.wait_for_url(f"**/ui/customers/{customer}")
    expect(page.locator("h1")).to_contain_text("Nia Sharma")
    page.goto("/ui/customers?q=nobody%40example.com")
    expect(page.locator("[data-not-found]")).to_have_text(
        "No customer with id or email “nobody@example.com”."
        " Ids match exactly; emails match whatever their case."
    )


def test_the_keyboard_alone_finds_a_customer_and_reaches_a_journey(page: Page, customer: str) -> None:
    page.goto("/ui/customers")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate(ACTIVE) == "find-customer":
            break
    assert page.evaluate(ACTIVE) == "find-customer"
    page.keyboard.type("nia.sharma@example.com")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ui/customers/{customer}")
    page.wait_for_selector("[data-run-diagram][data-drawn=true]")

    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(ACTIVE) == "run-link":
            break
    assert page.evaluate("document.activeElement.textContent") == "onboarding"
    page.keyboard.press("Enter")

    page.wait_for_url("**/ui/journeys/onboarding?**")
    expect(page.locator("#panel-title")).to_have_text("wait_purchase")  # the step she is at, opened


def test_an_email_in_the_timeline_opens_as_it_was_sent(page: Page, customer: str) -> None:
    open_customer(page, customer)

    page.locator(".timeline [data-message]", has_text="Welcome aboard, Nia!").click()

    expect(page.locator("[data-message-subject]")).to_have_text("Welcome aboard, Nia!")
    assert page.locator("iframe.message-frame").get_attribute("sandbox") == ""
    expect(page.frame_locator("iframe.message-frame").locator("body")).to_contain_text("Nia")
    expect(page.locator("[data-message-text]")).to_contain_text("Nia")


def test_the_customer_pages_have_no_serious_violation(page: Page, customer: str) -> None:
    page.goto("/ui/customers")
    assert serious(page) == []
    page.goto("/ui/customers?q=nobody")
    assert serious(page) == []
    open_customer(page, customer)
    assert serious(page) == []
    page.locator(".timeline [data-message]").first.click()
    expect(page.locator("[data-message-subject]")).to_be_visible()
    assert serious(page) == []

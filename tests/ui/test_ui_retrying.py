"""Trouble seen in the browser: while the SMTP server is down, the welcome node shows a "retrying"
badge and the journeys page counts the send as retrying; once the server is back and the email
goes out, the badge goes and the node counts it sent, all without a reload."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.ui.live_server import LiveServer
from tests.ui.reading import node_numbers, open_journey, until

BADGE = '.journey-diagram [data-step="welcome"] [data-retrying]'


def welcome_outcome(server: LiveServer, customer_id: str) -> str | None:
    answer = server.api.get(f"/v1/customers/{customer_id}")
    if answer.status_code != 200:
        return None
    for run in answer.json()["journeys"]:
        for step in run["steps"]:
            if step["step"] == "welcome" and step["outcome"]:
                return str(step["outcome"])
    return None


def test_a_send_retrying_shows_on_its_node_and_on_the_journeys_page(
    page: Page, server: LiveServer, artifacts: Path
) -> None:
    open_journey(page, "onboarding")
    badge = page.locator(BADGE)
    expect(badge).to_have_attribute("visibility", "hidden")
    page.evaluate("window.stillTheSamePage = true")

    server.outbox.stop()
    try:
        server.event("signed_up", "rita", traits={"email": "rita@example.com"})
        until(lambda: (welcome_outcome(server, "rita") or "").startswith("retrying"), what="a retrying send")
        expect(badge).to_have_attribute("visibility", "visible")
        expect(badge).to_have_text("1 retrying")
        welcome = node_numbers(page)["welcome"]
        # The customer stands at the step while its send is retried.
        assert (welcome["retrying"], welcome["waiting"], welcome["entered"]) == (1, 1, 1)
        page.locator('.journey-diagram [data-step="welcome"]').screenshot(
            path=artifacts / "node-retrying.png"
        )
        shape = page.locator('.journey-diagram [data-step="welcome"] .shape').bounding_box()
        drawn = badge.locator("rect").bounding_box()
        assert shape is not None and drawn is not None
        assert shape["x"] < drawn["x"] and drawn["x"] + drawn["width"] < shape["x"] + shape["width"]

        listing = page.context.new_page()
        listing.goto("/ui/journeys")
        expect(listing.locator('tr[data-journey="onboarding"] [data-cell="retrying"]')).to_have_text("1")
        listing.close()
    finally:
        server.outbox.start()

    until(lambda: (welcome_outcome(server, "rita") or "").startswith("sent"), seconds=60, what="the send")
    expect(badge).to_have_attribute("visibility", "hidden")
    page.wait_for_function(
        '() => document.querySelector(\'.journey-diagram [data-step="welcome"] [data-count="sent"]\')'
        ".textContent === '1'"
    )
    assert node_numbers(page)["welcome"]["retrying"] == 0
    assert page.evaluate("window.stillTheSamePage") is True

"""Live numbers in Chromium: after events move three customers through onboarding, the numbers on
the nodes change without a reload and equal /v1/journeys/onboarding/stats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.ui.live_server import LiveServer
from tests.ui.reading import current_step, node_numbers, open_journey, scroll_to, until

# What the diagram shows for a step, from /v1 stats: waiting, entered, completed; sends and points.
WAIT_FOR_NUMBERS = """(expected) => {
  const drawn = {};
  for (const g of document.querySelectorAll('.journey-diagram [data-step]')) {
    drawn[g.dataset.step] = Object.fromEntries([...g.querySelectorAll('[data-count]')].map(
      (c) => [c.dataset.count, Number(c.textContent.replace(/,/g, ''))]));
  }
  return Object.entries(expected).every(([step, numbers]) =>
    Object.entries(numbers).every(([key, value]) => drawn[step] && drawn[step][key] === value));
}"""


def expected_from(stats: dict[str, Any]) -> dict[str, dict[str, int]]:
    expected = {}
    for step in stats["steps"]:
        numbers = {"waiting": step["waiting"], "entered": step["entered"], "completed": step["completed"]}
        expected[step["step"]] = numbers
    return expected


def test_numbers_follow_three_customers_without_a_reload(
    page: Page, server: LiveServer, artifacts: Path
) -> None:
    open_journey(page, "onboarding")
    zero = {"waiting": 0, "entered": 0, "completed": 0, "sent": 0, "skipped": 0, "failed": 0, "retrying": 0}
    assert node_numbers(page)["welcome"] == zero
    page.evaluate("window.stillTheSamePage = true")

    for name in ("ada", "bob", "cy"):
        server.event("signed_up", name, traits={"email": f"{name}@example.com", "first_name": name.title()})

    def reaches(name: str, step: str | None) -> None:
        until(lambda: current_step(server, name, "onboarding") == step, what=f"{name} at {step}")

    for name in ("ada", "bob", "cy"):
        reaches(name, "wait_profile")
    for name in ("bob", "cy"):
        server.event("profile_completed", name)
    for name in ("bob", "cy"):
        reaches(name, "wait_purchase")
    server.event("purchase_completed", "cy", properties={"total": 42})
    reaches("cy", None)  # converted and through to the exit

    stats = server.api.get("/v1/journeys/onboarding/stats").json()
    page.wait_for_function(WAIT_FOR_NUMBERS, arg=expected_from(stats))
    drawn = node_numbers(page)
    assert page.evaluate("window.stillTheSamePage") is True  # changed in place, never reloaded
    for step in stats["steps"]:
        numbers = drawn[step["step"]]
        assert (numbers["waiting"], numbers["entered"], numbers["completed"]) == (
            step["waiting"],
            step["entered"],
            step["completed"],
        ), step["step"]
        if "sent" in numbers:
            assert numbers["sent"] + numbers["skipped"] + numbers["failed"] == step["sends"] + step["skips"]
        if "points" in numbers:
            assert numbers["points"] == step["points_awarded"]
    assert drawn["wait_profile"]["waiting"] == 1 and drawn["wait_purchase"]["waiting"] == 1
    assert drawn["welcome"]["sent"] == 3 and drawn["signup_bonus"]["points"] == 300
    expect(page.locator("dd[data-kpi=in_flight]")).to_have_text(str(stats["active"]))
    expect(page.locator("[data-card=goal] [data-kpi=conversions]")).to_have_text("1")
    expect(page.locator("[data-card=goal] [data-kpi=conversion_rate]")).to_have_text("33.3%")
    share = page.locator('.journey-diagram [data-edge="wait_profile>profile_bonus#0"] [data-share-percent]')
    expect(share).to_have_text("67%")
    listed = page.locator('#step-list [data-list-step="wait_purchase"] [data-count="waiting"]')
    expect(listed).to_have_text("1")
    page.screenshot(path=artifacts / "onboarding-with-counts.png")
    scroll_to(page, ".summary-row")
    page.locator("#diagram").evaluate(
        "d => { d.scrollTop += d.querySelector('[data-step=wait_profile]').getBoundingClientRect().top"
        " - d.getBoundingClientRect().top - 16; }"
    )
    page.screenshot(path=artifacts / "onboarding-with-counts-branches.png")

"""axe-core (vendored) finds no serious or critical violation on the pages, panel open or not."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.ui.reading import open_journey

AXE = "/ui/static/vendor/axe.min.js"  # served like every asset, so the pages' policy allows it
RUN = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(
  (v) => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' '))}))"""


def serious(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(url=AXE)
    found: list[dict[str, Any]] = page.evaluate(RUN)
    return [v for v in found if v["impact"] in ("serious", "critical")]


def test_the_journeys_page_has_no_serious_violation(page: Page) -> None:
    page.goto("/ui/journeys")
    assert serious(page) == []


def test_the_journey_page_has_no_serious_violation(page: Page) -> None:
    for journey in ("onboarding", "engagement"):
        open_journey(page, journey)
        assert serious(page) == [], journey


def test_the_journey_page_with_a_panel_open_has_no_serious_violation(page: Page) -> None:
    open_journey(page, "onboarding")
    page.locator(".journey-diagram [data-step=welcome]").click()
    expect(page.locator("#panel [data-email=subject]").first).to_be_visible()
    assert serious(page) == []

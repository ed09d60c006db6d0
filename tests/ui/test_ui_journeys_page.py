"""The journeys page in Chromium: every journey with its numbers; editors pause and resume it (the
page calls /v1 with the session's CSRF token); viewers get no buttons and the API refuses them."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from engine.loader import journey_files
from tests.ui.conftest import open_page
from tests.ui.live_server import VIEWER_KEY, LiveServer
from tests.ui.reading import current_step, until


def test_every_journey_is_listed_with_its_numbers(page: Page, server: LiveServer, artifacts: Path) -> None:
    server.event("signed_up", "eve", traits={"email": "eve@example.com", "first_name": "Eve"})
    until(lambda: current_step(server, "eve", "onboarding") == "wait_profile", what="eve to wait")

    page.goto("/ui/journeys")

    rows = page.locator("tbody tr")
    listed = rows.evaluate_all("rs => rs.map(r => r.dataset.journey)")
    assert listed == sorted(path.stem for path in journey_files(server.journeys_dir))
    onboarding = page.locator('tr[data-journey="onboarding"]')
    expect(onboarding.locator("[data-cell=in_flight]")).to_have_text("1")
    expect(onboarding.locator("[data-cell=entered]")).to_contain_text("1")
    expect(onboarding.locator("[data-cell=status]")).to_have_text("Live")
    expect(onboarding.locator("[data-cell=conversion]")).to_contain_text("0.0%")
    expect(page.locator('tr[data-journey="referral_native"] [data-cell=conversion]')).to_have_text("no goal")
    page.screenshot(path=artifacts / "journeys-page.png")


def test_an_editor_pauses_and_resumes_a_journey(page: Page, server: LiveServer) -> None:
    page.goto("/ui/journeys")
    row = page.locator('tr[data-journey="referral_native"]')

    row.get_by_role("button", name="Pause referral_native").click()
    expect(row.locator("[data-cell=status]")).to_have_text("Paused")
    assert server.api.get("/v1/journeys/referral_native").json()["paused"] is True

    row.get_by_role("button", name="Resume referral_native").click()
    expect(row.locator("[data-cell=status]")).to_have_text("Live")
    assert server.api.get("/v1/journeys/referral_native").json()["paused"] is False


def test_a_viewer_cannot_pause_in_the_page_nor_through_the_api(browser: Browser, server: LiveServer) -> None:
    page, errors = open_page(browser, server, VIEWER_KEY)
    page.goto("/ui/journeys")

    assert page.locator("button[data-action]").count() == 0
    expect(page.get_by_text("signed in as a viewer")).to_be_visible()
    # The page's own request, as its script would send it (session cookie and CSRF token).
    status = page.evaluate(
        """async () => (await fetch('/v1/journeys/onboarding/pause', {method: 'POST',
             headers: {'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content}})).status"""
    )
    assert status == 403
    assert server.api.get("/v1/journeys/onboarding").json()["paused"] is False
    page.context.close()
    assert [e for e in errors if "403" not in e] == []

"""The leaderboards page in Chromium, on the example program's boards (weekly top 10, monthly top
25): customers earn by verified reviews (100 points each, at once) this week, one earned last week,
one opts out. Ties share a rank (1, 1, 3), the opted-out customer is absent, the previous period is
one link (or key press) away, each row opens the customer page; axe-core finds no serious
violation; the nav leads there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from store.types import utcnow
from tests.ui.live_server import LiveServer
from tests.ui.loyalty_seed import award, review, wait_for_wallet
from tests.ui.test_ui_accessibility import serious

REVIEWS = {"ada": 3, "bea": 3, "cyd": 2, "dev": 1, "ott": 4}  # ott opts out
NAMES = {"ada": "Ada Lovelace", "bea": "Bea Arthur"}
ACTIVE_TEXT = "() => document.activeElement && document.activeElement.textContent.trim()"
ROWS = """(board) => [...document.querySelectorAll(`[data-board=${board}] tbody tr`)].map(
  (tr) => [tr.dataset.rank, tr.dataset.customer, tr.querySelector('.num').textContent])"""


@pytest.fixture(scope="module")
def standings(server: LiveServer) -> Iterator[None]:
    for customer_id, name in NAMES.items():
        first, last = name.split()
        server.api.put(f"/v1/customers/{customer_id}", json={"first_name": first, "last_name": last})
    for customer_id, reviews in REVIEWS.items():
        for _ in range(reviews):
            review(server, customer_id)
    for customer_id, reviews in REVIEWS.items():
        wait_for_wallet(server, customer_id, available=100 * reviews)
    answer = server.api.put("/v1/customers/ott/leaderboard-opt-out", json={"opt_out": True})
    assert answer.status_code == 200, answer.text
    server.api.put("/v1/customers/lastweek", json={"email": "lastweek@example.com"})
    award(server, "lastweek", "lastweek", 250, "Grant", at=utcnow() - timedelta(days=7))
    yield


def rows(page: Page, board: str) -> list[list[str]]:
    found: list[list[str]] = page.evaluate(ROWS, board)
    return found


def test_ties_share_a_rank_and_the_opted_out_are_absent(page: Page, standings: None, artifacts: Path) -> None:
    page.goto("/ui/journeys")
    page.locator("nav[aria-label=Main] a", has_text="Leaderboards").click()
    page.wait_for_url("**/ui/leaderboards")
    expect(page.locator("nav[aria-label=Main] a[aria-current=page]")).to_have_text("Leaderboards")

    assert rows(page, "weekly") == [
        ["1", "ada", "300"],
        ["1", "bea", "300"],
        ["3", "cyd", "200"],
        ["4", "dev", "100"],
    ]
    weekly = page.locator("[data-board=weekly]")
    expect(weekly.locator("h2")).to_have_text("This week")
    expect(weekly.locator(".legend")).to_contain_text("top 10")
    expect(weekly.locator(".legend")).not_to_contain_text("This week")  # the board's name says it
    expect(weekly.locator("tr[data-customer=ada] .tied")).to_have_text("tied")
    expect(weekly.locator("tr[data-customer=cyd] .tied")).to_have_count(0)
    expect(weekly.locator("tr[data-customer=ada] a")).to_have_text("Ada Lovelace")
    expect(weekly.locator("tr[data-customer=cyd] a")).to_have_text("cyd")
    expect(page.locator("[data-board=monthly] tr[data-customer=ada]")).to_have_attribute("data-rank", "1")
    expect(page.locator("tr[data-customer=ott]")).to_have_count(0)
    page.screenshot(path=artifacts / "leaderboards.png")

    weekly.locator("tr[data-customer=bea] a").click()
    page.wait_for_url("**/ui/customers/bea")
    expect(page.locator("h1")).to_contain_text("Bea Arthur")


def test_the_keyboard_switches_to_the_previous_period(page: Page, standings: None, artifacts: Path) -> None:
    page.goto("/ui/leaderboards")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate(ACTIVE_TEXT) == "Previous period":
            break
    assert page.evaluate(ACTIVE_TEXT) == "Previous period"
    page.keyboard.press("Enter")

    page.wait_for_url("**/ui/leaderboards?period=previous")
    expect(page.locator("[data-period=previous]")).to_have_attribute("aria-current", "page")
    assert rows(page, "weekly") == [["1", "lastweek", "250"]]
    # The board named "This week" is headed by the period it shows, not by its name.
    expect(page.locator("[data-board=weekly] h2")).to_have_text("Last week previous period")
    expect(page.locator("[data-board=weekly] .legend")).not_to_contain_text("week")
    page.screenshot(path=artifacts / "leaderboards-previous.png")


def test_the_leaderboards_page_has_no_serious_violation(page: Page, standings: None) -> None:
    for period in ("current", "previous"):
        page.goto(f"/ui/leaderboards?period={period}")
        assert serious(page) == [], period

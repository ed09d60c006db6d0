"""The customer page's loyalty in Chromium, on the example program: Lena earns (a sign-up bonus, a
purchase still in its returns window, a reward for referring Rio, a review), redeems a coffee and
has one refused referral (Sam, her own email); Dora earned 600 points a year ago and nothing since,
so her silver tier is due to fall. The page shows what the API's wallet says, the tier's progress
and perks, the downgrade, referrals with their reasons, the challenge, and the ledger a page at a
time by keyboard; axe-core finds no serious violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from store import tiers
from store.reading import reading
from tests.ui.live_server import LiveServer
from tests.ui.loyalty_seed import (
    award,
    earned_a_year_ago,
    redeem,
    referral_code,
    review,
    wait_for_wallet,
    wallet,
)
from tests.ui.reading import scroll_to, until
from tests.ui.test_ui_accessibility import serious

LENA, RIO, SAM, DORA, PAT, NELL, GIL = "lena", "rio", "sam", "dora", "pat", "nell", "gil"
LEDGER_ENTRIES = 18  # more than one page of the customer page's ledger (15)
ACTIVE_TEXT = "() => document.activeElement && document.activeElement.textContent.trim()"


def _referrals(server: LiveServer) -> dict[str, Any] | None:
    found: dict[str, Any] = server.api.get(f"/v1/customers/{LENA}/referrals").json()
    statuses = {referee["customer_id"]: referee["status"] for referee in found["referees"]}
    return found if statuses.get(RIO) == "qualified" and found["refused"] else None


@pytest.fixture(scope="module")
def members(server: LiveServer) -> Iterator[dict[str, Any]]:
    server.event("signed_up", LENA, traits={"email": "lena@example.com", "first_name": "Lena"})
    wait_for_wallet(server, LENA, available=100)  # the onboarding journey's sign-up bonus
    order = {"total": 3_000_000, "order_id": "o-1", "categories": ["shoes"]}
    server.event("purchase_completed", LENA, properties=order)
    wait_for_wallet(server, LENA, pending=350)  # 300 for the purchase, 50 shoes bonus, 14 days
    code = referral_code(server, LENA)
    server.event("signed_up", RIO, traits={"email": "rio@example.com"}, properties={"referral_code": code})
    server.event("signed_up", SAM, traits={"email": "Lena@Example.com"}, properties={"referral_code": code})
    server.event("purchase_completed", RIO, properties={"total": 150_000, "order_id": "o-rio"})
    until(lambda: _referrals(server), what="rio's referral to qualify and sam's to be refused")
    review(server, LENA)
    wait_for_wallet(server, LENA, available=700)  # + 500 for referring Rio, + 100 for the review
    coffee = redeem(server, LENA, "free_coffee", "coffee-1")
    earned_a_year_ago(server, DORA, 600)
    server.api.put(f"/v1/customers/{PAT}", json={"email": "pat@example.com"})
    for n in range(LEDGER_ENTRIES):
        award(server, PAT, f"pat-{n}", n + 1, f"Award {n + 1}")
    server.api.put(f"/v1/customers/{NELL}", json={"email": "nell@example.com", "first_name": "Nell"})
    server.api.put(f"/v1/customers/{GIL}", json={"email": "gil@example.com", "first_name": "Gil"})
    award(server, GIL, "gil", 1_200, "Welcome gift")
    yield {"code": code, "voucher": coffee["voucher"]}


def open_loyalty(page: Page, customer_id: str) -> None:
    page.goto(f"/ui/customers/{customer_id}")
    expect(page.locator("[data-loyalty]")).to_be_visible()


def test_the_wallet_and_tier_are_what_the_api_reads(
    page: Page, server: LiveServer, members: dict[str, Any], artifacts: Path
) -> None:
    truth = wallet(server, LENA)
    assert (truth["available"], truth["pending"], truth["lifetime"]) == (200, 350, 700)

    open_loyalty(page, LENA)

    expect(page.locator("[data-wallet=available]")).to_have_text("200")
    expect(page.locator("[data-wallet=pending]")).to_have_text("350")
    expect(page.locator("[data-wallet=lifetime]")).to_have_text("700")
    [pending] = truth["pending_by_date"]
    expect(page.locator("[data-pending] tbody tr")).to_have_text([f"{pending['date']}350"])
    expiring = page.locator("[data-expiring] tbody tr")
    expect(expiring).to_have_count(len(truth["expiring_by_date"]))
    first_expiry = truth["expiring_by_date"][0]
    expect(expiring.first).to_have_text(f"{first_expiry['date']}{first_expiry['points']}")
    expect(page.locator("[data-wallet=expiring]")).to_contain_text(f"on {first_expiry['date']}")
    expect(page.locator("[data-tier]")).to_have_attribute("data-tier", "silver")
    expect(page.locator("[data-tier-next]")).to_have_text("300 more points to reach gold")
    bar = page.locator("#tier-bar")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("700", "1000")
    expect(page.locator("[data-tier-window]")).to_contain_text("points earned in the last 12 months")
    expect(page.locator("[data-perk]")).to_have_text(["Free shipping"])
    expect(page.locator("[data-downgrade]")).to_have_count(0)

    ledger = page.locator("[data-ledger] tbody tr")
    expect(ledger.first).to_contain_text("\u2212500")  # a minus sign: the coffee, newest first
    expect(page.locator("[data-ledger] tr[data-rule=referral_referrer]")).to_contain_text("+500")
    expect(page.locator("[data-ledger] tr[data-rule=first_review] [data-source]")).to_have_text(
        "rule first_review"
    )
    expect(page.locator("[data-ledger] tr", has_text="Sign-up bonus")).to_contain_text("onboarding")
    page.screenshot(path=artifacts / "customer-loyalty.png")


def test_referrals_show_their_status_and_refused_reasons_and_the_challenge_its_progress(
    page: Page, members: dict[str, Any], artifacts: Path
) -> None:
    open_loyalty(page, LENA)

    expect(page.locator("[data-referral-code]")).to_have_text(members["code"])
    referee = page.locator(f"[data-referee={RIO}]")
    expect(referee).to_contain_text("qualified")
    expect(referee.locator("a")).to_have_attribute("href", f"/ui/customers/{RIO}")
    refused = page.locator(f"[data-refused-referee={SAM}]")
    expect(refused.locator("[data-refusal]")).to_have_attribute("data-refusal", "same_email")
    expect(refused).to_contain_text("same email as the referrer")
    challenge = page.locator("[data-challenge=three_in_thirty]")
    expect(challenge).to_contain_text("Three purchases in 30 days")
    expect(challenge).to_contain_text("in progress")
    expect(challenge.locator("[data-challenge-count]")).to_contain_text("1 of 3")
    scroll_to(page, "#referrals")
    page.screenshot(path=artifacts / "customer-referrals.png")

    referee.locator("a").click()
    page.wait_for_url(f"**/ui/customers/{RIO}")
    expect(page.locator("[data-referrals] .ref-code .sub")).to_contain_text(f"Referred by {LENA}")


def test_a_scheduled_downgrade_is_shown_with_what_keeps_the_tier(
    page: Page, server: LiveServer, members: dict[str, Any], artifacts: Path
) -> None:
    async def state(sandbox: Any) -> tiers.TierState:
        async with reading(sandbox.store.engine).connect() as conn:
            return await tiers.tier_state(conn, DORA)

    scheduled = server.call(state)
    assert scheduled.tier == "silver" and scheduled.downgrade_at is not None

    open_loyalty(page, DORA)

    warning = page.locator("[data-downgrade]")
    expect(warning).to_contain_text(f"falls to no tier on {scheduled.downgrade_at:%Y-%m-%d %H:%M} UTC")
    expect(warning).to_contain_text("unless they reach 500 points")
    expect(page.locator("[data-tier-next]")).to_have_text("500 more points to keep silver")
    expect(page.locator("[data-wallet=available]")).to_have_text("0")  # expired
    expect(page.locator("[data-wallet=lifetime]")).to_have_text("600")
    expect(page.locator("[data-ledger] tbody tr").first).to_contain_text("Points expired")
    page.screenshot(path=artifacts / "customer-downgrade.png")


def test_a_new_member_sees_what_is_still_to_come_and_a_gold_member_the_top(
    page: Page, members: dict[str, Any], artifacts: Path
) -> None:
    open_loyalty(page, NELL)

    expect(page.locator(".tier-name")).to_have_text("No tier yet")
    expect(page.locator("[data-tier-next]")).to_have_text("100 more points to reach bronze")
    expect(page.locator("[data-wallet=expiring]")).to_have_text("none")
    expect(page.locator("[data-loyalty]")).to_contain_text("Nothing pending.")
    expect(page.locator("[data-loyalty]")).to_contain_text("No available points expire.")
    expect(page.locator(".perks-line")).to_contain_text("none at this tier")
    expect(page.locator("[data-referrals]")).to_contain_text("none yet")
    expect(page.locator("[data-referrals]")).to_contain_text("Nobody has signed up with their code.")
    expect(page.locator("[data-challenge=three_in_thirty]")).to_contain_text("not started")
    expect(page.locator("#ledger")).to_contain_text("No points yet.")
    page.screenshot(path=artifacts / "customer-loyalty-empty.png")

    open_loyalty(page, GIL)
    expect(page.locator("[data-tier]")).to_have_attribute("data-tier", "gold")
    expect(page.locator("[data-tier-next]")).to_have_text("the top tier")
    bar = page.locator("#tier-bar")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "1200"
    expect(page.locator("[data-perk]")).to_have_text(["Free shipping", "Early access"])


def test_the_keyboard_pages_through_the_ledger(page: Page, members: dict[str, Any]) -> None:
    open_loyalty(page, PAT)
    first = page.locator("[data-ledger] tbody tr").evaluate_all("rows => rows.map(r => r.dataset.delta)")
    assert first == [str(LEDGER_ENTRIES - n) for n in range(15)]

    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate(ACTIVE_TEXT) == "Show older entries":
            break
    assert page.evaluate(ACTIVE_TEXT) == "Show older entries"
    page.keyboard.press("Enter")

    page.wait_for_url("**ledger_before=*")
    rows = page.locator("[data-ledger] tbody tr")
    expect(rows).to_have_count(LEDGER_ENTRIES - 15)
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.delta)") == ["3", "2", "1"]
    expect(page.locator("[data-ledger-older]")).to_have_count(0)
    page.locator("[data-ledger-newest]").click()
    expect(page.locator("[data-ledger] tbody tr")).to_have_count(15)


def test_the_loyalty_pages_have_no_serious_violation(page: Page, members: dict[str, Any]) -> None:
    for customer_id in (LENA, DORA, PAT, NELL):
        open_loyalty(page, customer_id)
        assert serious(page) == [], customer_id

"""The onboarding journey from journeys/, run for 90 simulated days per customer story."""

from __future__ import annotations

from datetime import timedelta

from simulate.sandbox import Sandbox
from workflows.timing import pick_variant

DAY = timedelta(days=1)
TRAITS = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}


def customer_in_variant(prefix: str, variant: int) -> str:
    """A customer id the onboarding offer split puts in ``variant`` (-1: control group)."""
    for n in range(1000):
        candidate = f"{prefix}-{n}"
        if pick_variant("onboarding", "pick_offer", candidate, [50, 50], 10) == variant:
            return candidate
    raise AssertionError("no such customer id")


async def subjects(sandbox: Sandbox, recipient: str) -> list[str]:
    return [m.subject for m in sandbox.outbox.messages() if recipient in m.recipients]


async def test_profile_on_day_2_and_purchase_on_day_5_converts(onboarding: Sandbox) -> None:
    sandbox = onboarding
    started = await sandbox.event("signed_up", "cust-1", traits=TRAITS)
    assert "onboarding" in started.started
    await sandbox.sleep(2 * DAY)
    await sandbox.event("profile_completed", "cust-1")
    await sandbox.sleep(3 * DAY)
    await sandbox.event("purchase_completed", "cust-1", {"order_id": "o-1", "total": 42})
    result = await sandbox.result("onboarding", "cust-1")
    await sandbox.sleep(85 * DAY)

    assert result.outcome == "exited" and result.reason == "first purchase"
    assert result.goal_reached
    assert await subjects(sandbox, "ada@example.com") == [
        "Welcome aboard, Ada!",
        "Thank you for your first order, Ada",
    ]
    welcome = sandbox.outbox.messages()[0]
    assert welcome.recipients == ["ada@example.com"]
    assert welcome.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in welcome.headers["List-Unsubscribe"]
    assert welcome.message_id
    customer = await sandbox.store.customers.get("cust-1")
    assert customer is not None
    assert customer.stage == "conversion"
    assert await sandbox.store.points.balance("cust-1") == 100 + 50 + 200
    reasons = [entry.reason for entry in await sandbox.store.points.ledger("cust-1")]
    assert reasons == ["Sign-up bonus", "Profile completed", "First purchase"]


async def test_customer_who_never_engages_gets_nudges_then_an_offer_and_is_at_risk(
    onboarding: Sandbox,
) -> None:
    sandbox = onboarding
    customer_id = customer_in_variant("quiet", 0)  # the discount variant
    traits = {**TRAITS, "email": "quiet@example.com", "first_name": "Quinn"}
    await sandbox.event("signed_up", customer_id, traits=traits)
    result = await sandbox.result("onboarding", customer_id)
    await sandbox.sleep(90 * DAY)

    assert result.outcome == "completed" and not result.goal_reached
    assert await subjects(sandbox, "quiet@example.com") == [
        "Welcome aboard, Quinn!",
        "Quinn, 50 points are waiting for you",
        "10% off your first order, Quinn",
    ]
    entered = {taken.step: taken.at for taken in result.steps}
    # Activities take real milliseconds between the simulated days.
    assert round((entered["nudge_profile"] - entered["welcome"]) / DAY, 3) == 3
    assert round((entered["pick_offer"] - entered["welcome"]) / DAY, 3) == 10
    assert round((entered["not_activated"] - entered["welcome"]) / DAY, 3) == 17
    customer = await sandbox.store.customers.get(customer_id)
    assert customer is not None and customer.stage == "at_risk"
    assert await sandbox.store.points.balance(customer_id) == 100


async def test_control_group_gets_no_offer(onboarding: Sandbox) -> None:
    sandbox = onboarding
    customer_id = customer_in_variant("holdout", -1)
    await sandbox.event("signed_up", customer_id, traits={**TRAITS, "email": "hold@example.com"})
    result = await sandbox.result("onboarding", customer_id)

    assert result.outcome == "control"
    assert await subjects(sandbox, "hold@example.com") == [
        "Welcome aboard, Ada!",
        "Ada, 50 points are waiting for you",
    ]


async def test_unsubscribing_on_day_1_ends_the_journey_mid_wait(onboarding: Sandbox) -> None:
    sandbox = onboarding
    await sandbox.event("signed_up", "cust-3", traits={**TRAITS, "email": "bye@example.com"})
    await sandbox.sleep(DAY)
    delivered = await sandbox.event("unsubscribed", "cust-3")
    assert "onboarding" in delivered.signalled
    result = await sandbox.result("onboarding", "cust-3")
    await sandbox.sleep(89 * DAY)

    assert result.outcome == "exited" and result.reason == "unsubscribed received"
    assert await subjects(sandbox, "bye@example.com") == ["Welcome aboard, Ada!"]
    customer = await sandbox.store.customers.get("cust-3")
    assert customer is not None
    assert customer.stage == "acquisition"
    assert not customer.subscribed
    assert await sandbox.store.points.balance("cust-3") == 100

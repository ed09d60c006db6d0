"""Deployed journeys: versions, the current one, rollbacks, pausing."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.loader import load_directory
from engine.plan import Plan
from store import Store

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return {plan.journey: plan for plan in load_directory(JOURNEYS)}


async def test_deploy_versions_and_roll_back(store: Store, plans: dict[str, Plan]) -> None:
    v1 = plans["onboarding"]
    v2 = v1.model_copy(update={"version": "v2-" + v1.version, "description": "second"})

    assert await store.deployments.current("onboarding") is None
    assert await store.deployments.deploy(v1, "journey: onboarding # v1") is True
    assert await store.deployments.deploy(v1, "journey: onboarding # v1") is False
    assert await store.deployments.current("onboarding") == v1
    assert await store.deployments.deploy(v2, "journey: onboarding # v2") is True
    assert await store.deployments.current("onboarding") == v2

    versions = await store.deployments.versions("onboarding")
    assert [(v.version, v.is_current) for v in versions] == [(v2.version, True), (v1.version, False)]
    assert versions[1].source == "journey: onboarding # v1"

    assert await store.deployments.deploy(v1, "journey: onboarding # v1") is False  # a rollback
    assert await store.deployments.current("onboarding") == v1


async def test_pausing_a_journey_keeps_it_deployed(store: Store, plans: dict[str, Plan]) -> None:
    for plan in plans.values():
        await store.deployments.deploy(plan, "")
    names = sorted(plans)

    await store.deployments.set_paused("winback", True)
    assert await store.deployments.is_paused("winback")
    assert not await store.deployments.is_paused("onboarding")
    assert await store.deployments.names() == names
    assert await store.deployments.current("winback") == plans["winback"]

    await store.deployments.set_paused("winback", False)
    assert not await store.deployments.is_paused("winback")


async def test_pausing_before_deploying_is_kept(store: Store, plans: dict[str, Plan]) -> None:
    assert not await store.deployments.is_paused("referral_native")
    await store.deployments.set_paused("referral_native", True)
    await store.deployments.deploy(plans["referral_native"], "")
    assert await store.deployments.is_paused("referral_native")


async def test_before_send_reads_delivery_customer_and_pause_at_once(
    store: Store, plans: dict[str, Plan]
) -> None:
    from datetime import UTC, datetime

    from contracts.activities import DeliveryResult

    await store.deployments.deploy(plans["onboarding"], source="")
    await store.customers.upsert("ada", {"email": "ada@example.com"})
    now = datetime(2030, 1, 1, tzinfo=UTC)  # the send's workflow time
    fresh = await store.before_send("k1", "ada", "onboarding", now)
    await store.deployments.set_paused("onboarding", True)
    paused = await store.before_send("k1", "ada", "onboarding", now)
    not_asked = await store.before_send("k1", "ada", None, now)
    sent = DeliveryResult(status="sent", channel="email", recipient="ada@example.com", subject="Hi")
    at = datetime(2030, 1, 1, tzinfo=UTC)
    await store.deliveries.record(
        "k1", sent, customer_id="ada", journey="onboarding", version="v1", step="welcome", at=at
    )
    done = await store.before_send("k1", "ada", "onboarding", now)
    stranger = await store.before_send("k2", "nobody", "onboarding", now)

    assert (fresh.recorded, fresh.paused, fresh.customer.email) == (None, False, "ada@example.com")
    assert paused.paused and not not_asked.paused
    assert done.recorded == sent
    assert not stranger.customer.exists and stranger.paused

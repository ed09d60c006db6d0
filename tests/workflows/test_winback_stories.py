"""The win-back journey: a member inactive for 30 days gets an offer, then SMS by webhook, then lapses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from engine.plan import Plan
from simulate.sandbox import Sandbox
from tests.support.webhook_receiver import WebhookReceiver

DAY = timedelta(days=1)
TRAITS = {"email": "max@example.com", "first_name": "Max", "phone": "+62 812 0000"}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session")
async def winback(
    example_plans: dict[str, Plan], tmp_path: Path, receiver: WebhookReceiver
) -> AsyncIterator[Sandbox]:
    settings = {"webhook_url": receiver.url}
    async with Sandbox.open([example_plans["winback"]], workdir=tmp_path, settings=settings) as opened:
        yield opened


async def test_inactive_member_gets_the_offer_and_a_purchase_on_day_31_wins_them_back(
    winback: Sandbox, receiver: WebhookReceiver
) -> None:
    await winback.event("purchase_completed", "max", {"total": 30}, traits=TRAITS)
    await winback.sleep(31 * DAY)
    await winback.event("purchase_completed", "max", {"total": 55})
    result = await winback.result("winback", "max")

    assert [m.subject for m in winback.outbox.messages()] == ["We miss you, Max: 20% off your favourites"]
    assert result.outcome == "exited" and result.reason == "won back"
    assert result.goal_reached
    customer = await winback.store.customers.get("max")
    assert customer is not None and customer.stage == "won_back"
    assert "comeback" in customer.badges
    assert await winback.store.points.balance("max") == 100
    stats = await winback.store.steps.stats("winback")
    assert stats.conversions == 1
    assert receiver.requests == []


async def test_purchases_keep_a_member_active_and_no_offer_goes_out(winback: Sandbox) -> None:
    await winback.event("purchase_completed", "max", traits=TRAITS)
    for _ in range(3):
        await winback.sleep(20 * DAY)
        await winback.event("purchase_completed", "max")
    status = await winback.status("winback", "max")

    assert status.current_step == "watch"
    assert winback.outbox.messages() == []
    customer = await winback.store.customers.get("max")
    assert customer is not None and customer.stage == "reach"


async def test_ignored_offer_goes_out_by_webhook_and_the_member_lapses(
    winback: Sandbox, receiver: WebhookReceiver
) -> None:
    await winback.event("purchase_completed", "max", traits=TRAITS)
    result = await winback.result("winback", "max")

    assert result.outcome == "completed" and not result.goal_reached
    assert len(winback.outbox.messages()) == 1
    assert len(receiver.requests) == 1
    body = json.loads(receiver.requests[0].body)
    assert body["type"] == "winback_sms"
    assert body["payload"] == {
        "text": "Max, we saved 20% for you: code COMEBACK20, this week only.",
        "phone": "+62 812 0000",
    }
    assert receiver.requests[0].headers["Idempotency-Key"].startswith("journey/winback/max/")
    customer = await winback.store.customers.get("max")
    assert customer is not None and customer.stage == "lapsed"
    at = {taken.step: taken.at for taken in result.steps}
    assert round((at["winback_sms"] - at["watch"]) / DAY, 3) == 37
    assert round((at["lapsed"] - at["watch"]) / DAY, 3) == 51

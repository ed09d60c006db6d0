"""award to: referrer — the customer's referrer receives it, once per run and recipient; with no
referrer (none, refused, or not a customer) nothing is awarded and no customer is made."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from activities.journey_activities import JourneyActivities
from config.settings import Settings
from contracts.activities import AwardRequest
from store import Store
from store.loyalty_tables import referrals
from store.tables import customers, step_events
from tests.support import RecordingEventSink

AT = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)


def request(
    customer_id: str, *, run: str = "e1", points: int = 300, badge: str | None = None
) -> AwardRequest:
    return AwardRequest(
        key=f"journey/referral/{customer_id}/{run}/thank_referrer/1",
        workflow_id=f"journey/referral/{customer_id}",
        journey="referral",
        version="v1",
        step="thank_referrer",
        customer_id=customer_id,
        at=AT,
        points=points,
        reason="Your friend joined",
        badge=badge,
        to="referrer",
        entry=run,
        marks=[{"step": "thank_referrer", "kind": "entered", "detail": "award", "seq": 0}],
    )


async def link(store: Store, referee: str, referrer: str, status: str = "qualified") -> None:
    async with store.engine.begin() as conn:
        await conn.execute(
            sa.insert(referrals),
            [
                {
                    "referee_id": referee,
                    "referrer_id": referrer,
                    "code": "ABC",
                    "status": status,
                    "linked_at": AT,
                }
            ],
        )


@pytest.fixture
def activities(store: Store, settings: Settings, event_sink: RecordingEventSink) -> JourneyActivities:
    return JourneyActivities(store, settings, event_sink)


async def test_the_referrer_receives_it_once_keyed_by_recipient(
    store: Store, activities: JourneyActivities, event_sink: RecordingEventSink
) -> None:
    await store.customers.upsert("ada", {"first_name": "Ada"})
    await store.customers.upsert("bob", {"first_name": "Bob"})
    await link(store, "bob", "ada")
    first = await activities.award(request("bob", badge="ambassador"))
    again = await activities.award(request("bob", badge="ambassador"))  # a retry
    assert (first.recipient, first.points, first.duplicate) == ("ada", 300, False)
    assert (again.recipient, again.duplicate) == ("ada", True)
    assert await store.points.balance("ada") == 300 and await store.points.balance("bob") == 0
    [entry] = await store.points.ledger("ada")
    assert entry.key == f"{request('bob').key}/to/ada" and entry.journey == "referral"
    assert {event.customer_id for event in event_sink.events} == {"ada"}
    assert "badge_awarded" in event_sink.names()
    # Another entry of the referee's journey is another award.
    await activities.award(request("bob", run="e2"))
    assert await store.points.balance("ada") == 600


@pytest.mark.parametrize("case", ["no referral", "refused", "referrer not a customer"])
async def test_no_referrer_awards_nothing_and_makes_no_customer(
    store: Store, activities: JourneyActivities, case: str
) -> None:
    await store.customers.upsert("bob", {"first_name": "Bob"})
    if case == "refused":
        await store.customers.upsert("ada", {"first_name": "Ada"})
        await link(store, "bob", "ada", status="refused")
    if case == "referrer not a customer":
        await link(store, "bob", "ghost")
    result = await activities.award(request("bob"))
    assert (result.skipped, result.points, result.recipient) == ("no referrer", 0, None)
    async with store.engine.connect() as conn:
        ids = set(await conn.scalars(sa.select(customers.c.id)))
        kinds = list(await conn.scalars(sa.select(step_events.c.kind)))
    assert "ghost" not in ids and await store.points.balance("ada") == 0
    assert kinds == ["entered"]  # the step records that came with the request are kept

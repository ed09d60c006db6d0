"""What the loyalty activities emit survives a failure after their commit: the retry (the same
request) finds nothing new to do and emits what the first attempt kept, each event once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from activities.loyalty import LoyaltyActivities
from contracts.events import CustomerEvent
from contracts.loyalty_activities import ApplyEventRequest, SettleRequest
from store import Store
from tests.support import RecordingEventSink
from tests.workflows.loyalty.program import PROGRAM_TEXT, program

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class RouterDown(Exception):
    pass


class FailsOnce(RecordingEventSink):
    """An EventSink whose first emission fails (the router was unreachable after the commit)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    async def emit(self, event: CustomerEvent) -> None:
        if not self.failed:
            self.failed = True
            raise RouterDown(event.event_id)
        await super().emit(event)


def event(event_id: str, name: str, **properties: object) -> CustomerEvent:
    return CustomerEvent(event_id=event_id, customer_id="ada", name=name, properties=properties)


async def test_an_event_applied_before_a_failed_emission_emits_its_events_on_the_retry(store: Store) -> None:
    await store.loyalty_programs.deploy(program(), PROGRAM_TEXT)
    sink = FailsOnce()
    activities = LoyaltyActivities(store, sink)
    req = ApplyEventRequest(customer_id="ada", event=event("pc1", "profile_completed"), at=T0)

    with pytest.raises(RouterDown):
        await activities.apply_event(req)
    assert await store.points.balance("ada") == 150  # committed before the emission failed
    retried = await activities.apply_event(req)

    assert not retried.applied  # nothing applied twice
    assert await store.points.balance("ada") == 150
    assert sink.names() == ["points_earned", "tier_changed"]
    assert [each.event_id for each in sink.events] == [
        "loyalty/points_earned/earn/pc1/profile",
        f"loyalty/tier_changed/ada/silver/{T0.isoformat()}",
    ]
    assert sink.emitted == 2  # each once on the retry
    # A later repeat of the event says the same again (the same ids: the router takes them once).
    again = await activities.apply_event(req.model_copy(update={"at": T0 + DAY}))
    assert again.emitted == 2 and sink.names() == ["points_earned", "tier_changed"]


async def test_a_settle_retried_after_a_failed_emission_emits_what_fell_due(store: Store) -> None:
    await store.loyalty_programs.deploy(program(), PROGRAM_TEXT)
    sink = FailsOnce()
    activities = LoyaltyActivities(store, RecordingEventSink())
    purchase = event("p1", "purchase_completed", total=5000, order_id="o1")
    await activities.apply_event(ApplyEventRequest(customer_id="ada", event=purchase, at=T0))
    failing = LoyaltyActivities(store, sink)
    req = SettleRequest(customer_id="ada", at=T0 + 15 * DAY)

    with pytest.raises(RouterDown):
        await failing.settle(req)
    assert await store.points.balance("ada") == 50
    await failing.settle(req)

    assert sink.names() == ["points_available"]
    assert sink.emitted == 1
    # The next settle (another time) keeps only its own events: nothing fell due since.
    later = await failing.settle(SettleRequest(customer_id="ada", at=T0 + 16 * DAY))
    assert later.emitted == 0 and sink.emitted == 1

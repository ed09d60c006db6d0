"""Segment membership (SQLite and PostgreSQL): entering and leaving as the data changes, each change
once with its entry's number, one not emitted answered again, and customer.segments on the snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.events import CustomerEvent
from engine.segments.evaluation import Segment
from engine.segments.loader import validate_segment_text
from store import Store
from store.behaviour import read_aggregates
from store.events import Claim
from store.segments import Change, SegmentMembership, emit_changes

STALE = timedelta(minutes=2)
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def segment(text: str) -> Segment:
    found, errors = validate_segment_text(text, "s.yaml")
    assert found is not None, errors
    return found


VIP = segment("segment: vip\nwhere: behaviour.purchase_completed.count_90d >= 2\n")
LONDON = segment("segment: londoners\nwhere: customer.traits.city == 'London'\n")
SEGMENTS = [VIP, LONDON]


async def buy(store: Store, event_id: str, customer: str, at: datetime) -> None:
    claim = Claim(
        event_id, customer, "purchase_completed", at, traits={"plan": "pro"}, properties={"total": 1}
    )
    await store.events.intake([claim], stale_after=STALE)


async def test_a_customer_enters_and_leaves_as_their_data_and_time_change(store: Store) -> None:
    membership = SegmentMembership(store.engine)
    await buy(store, "p1", "ada", NOW - timedelta(days=10))
    assert await membership.evaluate(SEGMENTS, ["ada"], NOW) == []
    await buy(store, "p2", "ada", NOW - timedelta(days=5))
    (entered,) = await membership.evaluate(SEGMENTS, ["ada"], NOW)
    assert (entered.segment, entered.kind, entered.entry) == ("vip", "entered", 1)
    await membership.announced([entered])
    assert await membership.evaluate(SEGMENTS, ["ada"], NOW) == []  # no change, nothing to say
    later = NOW + timedelta(days=81)  # the first purchase left the 90-day window
    (exited,) = await membership.evaluate(SEGMENTS, ["ada"], later)
    assert (exited.kind, exited.entry, exited.at) == ("exited", 1, later)
    await membership.announced([exited])
    await buy(store, "p3", "ada", later)
    (again,) = await membership.evaluate(SEGMENTS, ["ada"], later)
    assert (again.kind, again.entry) == ("entered", 2)
    assert again.event().event_id == "segment/vip/ada/entered/2"
    assert await membership.sizes() == {"vip": 1}


async def test_a_change_not_emitted_is_answered_again(store: Store) -> None:
    membership = SegmentMembership(store.engine)
    await buy(store, "p1", "bob", NOW)
    await buy(store, "p2", "bob", NOW)
    emitted: list[CustomerEvent] = []

    async def failing(event: CustomerEvent) -> None:
        raise RuntimeError("Temporal is away")

    async def emit(event: CustomerEvent) -> None:
        emitted.append(event)

    changes = await membership.evaluate(SEGMENTS, ["bob"], NOW)
    try:
        await emit_changes(membership, changes, failing)
    except RuntimeError:
        pass
    again = await membership.evaluate(SEGMENTS, ["bob"], NOW)
    assert again == changes
    await emit_changes(membership, again, emit)
    assert [event.event_id for event in emitted] == ["segment/vip/bob/entered/1"]
    assert await membership.evaluate(SEGMENTS, ["bob"], NOW) == []


async def test_traits_and_the_snapshot_carry_the_segments(store: Store) -> None:
    membership = SegmentMembership(store.engine)
    await store.customers.upsert("cleo", {"city": "London"})
    changes = await membership.evaluate(SEGMENTS, ["cleo", "nobody"], NOW)
    assert [(c.segment, c.customer_id) for c in changes] == [("londoners", "cleo")]
    snapshot = await store.customers.snapshot("cleo")
    assert snapshot.segments == ["londoners"]
    assert snapshot.as_context()["segments"] == {"londoners": True}


async def test_change_events_are_named_for_journeys(store: Store) -> None:
    event = Change("vip", "ada", "exited", 3, NOW).event()
    assert (event.name, event.properties, event.timestamp) == (
        "segment_exited",
        {"segment": "vip", "entry": 3},
        NOW,
    )


async def test_forgetting_a_customer_deletes_their_behaviour_and_segments(store: Store) -> None:
    membership = SegmentMembership(store.engine)
    await buy(store, "p1", "dora", NOW)
    await buy(store, "p2", "dora", NOW)
    assert len(await membership.evaluate(SEGMENTS, ["dora"], NOW)) == 1
    assert await store.customers.forget("dora")
    async with store.engine.connect() as conn:
        assert (await conn.run_sync(read_aggregates, ["dora"])) == {"dora": []}
    assert await membership.sizes() == {}

"""Behaviour aggregates on intake (SQLite and PostgreSQL): counted in the intake's transaction, once per
event, windows by UTC day, amounts and categories bounded, answered from one row per event name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from engine.segments.behaviour import behaviour_at
from store import Store
from store.behaviour import MOST_CATEGORIES, customer_behaviour, read_aggregates
from store.events import Claim

STALE = timedelta(minutes=2)
NOW = datetime.now(UTC)


def bought(event_id: str, customer: str, days_ago: float, **properties: object) -> Claim:
    return Claim(
        event_id, customer, "purchase_completed", NOW - timedelta(days=days_ago), properties=properties
    )


async def aggregates(store: Store, customer: str) -> dict[str, dict[str, object]]:
    async with store.engine.connect() as conn:
        found = await conn.run_sync(read_aggregates, [customer])
    return behaviour_at(found[customer], NOW)


async def test_purchases_are_counted_summed_and_windowed(store: Store) -> None:
    await store.events.intake(
        [
            bought("p1", "ada", 100, total=10),
            bought("p2", "ada", 40, amount=20.5),
            bought("p3", "ada", 2, total=30, category="shoes"),
        ],
        stale_after=STALE,
    )
    await store.events.intake([bought("p4", "ada", 1, total="lots")], stale_after=STALE)  # not a number: 0
    purchases = (await aggregates(store, "ada"))["purchase_completed"]
    assert (purchases["count"], purchases["sum"]) == (4, 60.5)
    assert (purchases["count_7d"], purchases["count_30d"], purchases["count_90d"]) == (2, 2, 3)
    assert (purchases["sum_30d"], purchases["sum_90d"], purchases["days_since"]) == (30.0, 50.5, 1)
    assert purchases["categories"] == ["shoes"]


async def test_an_event_claimed_again_counts_once(store: Store) -> None:
    (first,) = await store.events.intake([bought("p1", "bob", 1, total=5)], stale_after=STALE)
    assert first.state == "new"
    # Its delivery stalled: a later intake takes the claim over, and it is new again.
    (again,) = await store.events.intake([bought("p1", "bob", 1, total=5)], stale_after=timedelta(0))
    assert again.state == "new"
    assert (await aggregates(store, "bob"))["purchase_completed"]["count"] == 1


async def test_categories_latest_first_and_bounded(store: Store) -> None:
    names = [f"c{i}" for i in range(MOST_CATEGORIES + 30)]
    await store.events.intake(
        [
            Claim("v1", "cleo", "product_viewed", NOW - timedelta(hours=2), properties={"categories": names}),
            Claim("v2", "cleo", "product_viewed", NOW - timedelta(hours=1), properties={"category": "bags"}),
            Claim("v3", "cleo", "product_viewed", NOW, properties={"category": ["not", "text"]}),
        ],
        stale_after=STALE,
    )
    viewed = (await aggregates(store, "cleo"))["product_viewed"]
    assert viewed["count"] == 3
    assert viewed["categories"] == ["bags", *names[: MOST_CATEGORIES - 1]]


async def test_day_buckets_are_trimmed_to_the_longest_window(store: Store) -> None:
    await store.events.intake([bought("old", "dora", 800), bought("new", "dora", 0)], stale_after=STALE)
    async with store.engine.connect() as conn:
        days = (await conn.execute(sa.select(customer_behaviour.c.days))).scalar_one()
    assert len(days) == 1  # the 800-day-old purchase counts in count and sum, not in a window
    purchases = (await aggregates(store, "dora"))["purchase_completed"]
    assert (purchases["count"], purchases["count_365d"]) == (2, 1)


async def test_segment_events_are_not_behaviour(store: Store) -> None:
    await store.events.intake([Claim("s1", "eve", "segment_entered", NOW)], stale_after=STALE)
    assert await aggregates(store, "eve") == {}

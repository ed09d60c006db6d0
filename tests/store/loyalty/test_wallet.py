"""The wallet in the store, on SQLite and PostgreSQL: the per-day cap, repeats, refunds, expiry, and
the balance invariant (balance == remaining of available lots) under concurrent earning and expiry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from activities.loyalty import LoyaltyActivities
from contracts.events import CustomerEvent
from contracts.loyalty_activities import ApplyEventRequest
from store import Store
from store.loyalty_tables import points_lots
from store.tables import points_balances
from tests.support import RecordingEventSink
from tests.workflows.loyalty.program import PROGRAM_TEXT, program

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def purchase(event_id: str, total: int, order: str, customer_id: str = "ada") -> CustomerEvent:
    return CustomerEvent(
        event_id=event_id,
        customer_id=customer_id,
        name="purchase_completed",
        properties={"total": total, "order_id": order},
    )


async def setup(store: Store) -> tuple[LoyaltyActivities, RecordingEventSink]:
    await store.loyalty_programs.deploy(program(), PROGRAM_TEXT)
    sink = RecordingEventSink()
    return LoyaltyActivities(store, sink), sink


async def apply(activities: LoyaltyActivities, event: CustomerEvent, at: datetime) -> None:
    await activities.apply_event(ApplyEventRequest(customer_id=event.customer_id, event=event, at=at))


async def balance_and_remaining(store: Store, customer_id: str) -> tuple[int, int]:
    async with store.engine.connect() as conn:
        balance = await conn.scalar(
            sa.select(points_balances.c.balance).where(points_balances.c.customer_id == customer_id)
        )
        remaining = await conn.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(points_lots.c.remaining), 0)).where(
                points_lots.c.customer_id == customer_id, points_lots.c.status == "available"
            )
        )
    return int(balance or 0), int(remaining or 0)


async def test_the_per_day_cap_counts_what_the_rule_earned_that_day(store: Store) -> None:
    activities, sink = await setup(store)
    await apply(activities, purchase("e1", 40000, "o1"), T0)  # 400
    await apply(activities, purchase("e2", 40000, "o2"), T0 + timedelta(hours=1))  # capped: 100 left
    await apply(activities, purchase("e3", 40000, "o3"), T0 + timedelta(hours=2))  # nothing left today
    await apply(activities, purchase("e4", 10000, "o4"), T0 + DAY)  # a new UTC day
    async with store.engine.connect() as conn:
        rows = (
            await conn.execute(sa.select(points_lots.c.key, points_lots.c.points).order_by(points_lots.c.id))
        ).all()
    assert [(row.key, row.points) for row in rows] == [
        ("earn/e1/purchase", 400),
        ("earn/e2/purchase", 100),
        ("earn/e4/purchase", 100),
    ]
    earned = [event for event in sink.events if event.name == "points_earned"]
    assert [event.properties["pending"] for event in earned] == [True, True, True]


async def test_a_repeated_event_changes_nothing(store: Store) -> None:
    activities, _ = await setup(store)
    await apply(activities, purchase("e1", 5000, "o1"), T0)
    await apply(activities, purchase("e1", 5000, "o1"), T0 + DAY)
    await activities.settle_at("ada", T0 + 15 * DAY)
    await activities.settle_at("ada", T0 + 15 * DAY)
    await apply(activities, purchase("e1", 5000, "o1"), T0 + 16 * DAY)
    assert await balance_and_remaining(store, "ada") == (50, 50)
    assert len(await store.points.ledger("ada")) == 1


async def test_a_refund_never_touches_available_points(store: Store) -> None:
    activities, _ = await setup(store)
    await apply(activities, purchase("e1", 5000, "o1"), T0)
    await activities.settle_at("ada", T0 + 15 * DAY)
    refund = CustomerEvent(
        event_id="r1", customer_id="ada", name="order_refunded", properties={"order_id": "o1"}
    )
    await apply(activities, refund, T0 + 16 * DAY)
    assert await balance_and_remaining(store, "ada") == (50, 50)


async def test_the_balance_invariant_holds_under_concurrent_earning_and_expiry(store: Store) -> None:
    activities, _ = await setup(store)
    for n in range(6):  # lots that will be due to expire, made available
        await apply(activities, purchase(f"old{n}", 1000 + 100 * n, f"old{n}"), T0 + n * timedelta(minutes=1))
    await activities.settle_at("ada", T0 + 15 * DAY)
    later = T0 + 15 * DAY + 360 * DAY
    await asyncio.gather(
        *(apply(activities, purchase(f"new{n}", 2000, f"new{n}"), later) for n in range(6)),
        *(activities.settle_at("ada", later + timedelta(seconds=n)) for n in range(6)),
        *(store.points.award(f"award{n}", "ada", 7, "Bonus", at=later) for n in range(4)),
    )
    balance, remaining = await balance_and_remaining(store, "ada")
    assert balance == remaining == 28  # every old lot expired; the awards are available, purchases pending
    async with store.engine.connect() as conn:
        statuses = (
            await conn.execute(
                sa.select(points_lots.c.status, sa.func.count())
                .group_by(points_lots.c.status)
                .order_by(points_lots.c.status)
            )
        ).all()
    assert [tuple(row) for row in statuses] == [("available", 4), ("expired", 6), ("pending", 6)]


async def test_a_negative_award_takes_from_the_lots_first_in_first_out(store: Store) -> None:
    activities, _ = await setup(store)
    await apply(activities, purchase("e1", 5000, "o1"), T0)  # 50 pending: not spendable
    await store.points.award("a1", "ada", 30, "Bonus", at=T0)
    await store.points.award("a2", "ada", 40, "Bonus", at=T0 + DAY)
    await store.points.award("fix", "ada", -50, "Correction", at=T0 + 2 * DAY)
    async with store.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(points_lots.c.key, points_lots.c.status, points_lots.c.remaining).order_by(
                    points_lots.c.id
                )
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("earn/e1/purchase", "pending", 50),
        ("a1", "spent", 0),  # the soonest to expire gives first, all it has
        ("a2", "available", 20),
    ]
    assert await balance_and_remaining(store, "ada") == (20, 20)

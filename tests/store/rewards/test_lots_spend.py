"""Spending from lots, on SQLite and PostgreSQL: soonest expiry first, spent lots marked, the balance
equal to what available lots have left, concurrent spends never overdrawing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from store import Overdraw, Store
from store.lots_spend import consume_fifo
from store.loyalty_tables import points_lots
from store.tables import points_balances

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def given_lots(store: Store, customer_id: str, lots: list[tuple[int, datetime | None]]) -> None:
    """Available lots of (points, expires_at), with the balance they make."""
    async with store.engine.begin() as conn:
        for n, (points, expires_at) in enumerate(lots):
            await conn.execute(
                points_lots.insert().values(
                    key=f"lot/{customer_id}/{n}",
                    customer_id=customer_id,
                    reason="test",
                    points=points,
                    remaining=points,
                    status="available",
                    earned_at=T0,
                    available_at=T0,
                    expires_at=expires_at,
                )
            )
        total = sum(points for points, _ in lots)
        await conn.execute(
            points_balances.insert().values(customer_id=customer_id, balance=total, lifetime=total)
        )


async def lot_states(store: Store, customer_id: str) -> list[tuple[str, int]]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(points_lots.c.status, points_lots.c.remaining)
            .where(points_lots.c.customer_id == customer_id)
            .order_by(points_lots.c.id)
        )
        return [(row.status, int(row.remaining)) for row in rows]


async def test_the_lot_expiring_soonest_gives_first(store: Store) -> None:
    await given_lots(
        store, "ada", [(100, T0 + 300 * DAY), (50, T0 + 100 * DAY), (70, None), (30, T0 + 200 * DAY)]
    )
    async with store.engine.begin() as conn:
        taken = await consume_fifo(conn, "ada", 120, T0)
    async with store.engine.connect() as conn:
        ids = list(await conn.scalars(sa.select(points_lots.c.id).order_by(points_lots.c.id)))
    assert taken == [(ids[1], 50), (ids[3], 30), (ids[0], 40)]
    assert await lot_states(store, "ada") == [
        ("available", 60),
        ("spent", 0),
        ("available", 70),
        ("spent", 0),
    ]


async def test_nothing_to_take_and_more_than_the_lots_hold(store: Store) -> None:
    await given_lots(store, "bo", [(40, T0 + DAY)])
    async with store.engine.begin() as conn:
        assert await consume_fifo(conn, "bo", 0, T0) == []
        assert [points for _, points in await consume_fifo(conn, "bo", 100, T0)] == [40]
        assert await consume_fifo(conn, "nobody", 10, T0) == []


async def test_a_raw_redemption_spends_from_the_lots(store: Store) -> None:
    await given_lots(store, "cy", [(100, T0 + 20 * DAY), (100, T0 + 10 * DAY)])
    assert await store.points.redeem("r1", "cy", 150, "Voucher", at=T0) == 50
    assert await store.points.redeem("r1", "cy", 150, "Voucher", at=T0) == 50  # the repeat takes nothing
    assert await lot_states(store, "cy") == [("available", 50), ("spent", 0)]
    with pytest.raises(Overdraw):
        await store.points.redeem("r2", "cy", 60, "Too much", at=T0)
    assert await lot_states(store, "cy") == [("available", 50), ("spent", 0)]


async def test_concurrent_redemptions_keep_the_balance_equal_to_the_lots(store: Store) -> None:
    await given_lots(store, "dee", [(10, T0 + n * DAY) for n in range(1, 11)])  # 100 points

    async def spend(n: int) -> int | None:
        try:
            return await store.points.redeem(f"r{n}", "dee", 15, "Spend", at=T0)
        except Overdraw:
            return None

    results = await asyncio.gather(*(spend(n) for n in range(10)))
    assert sum(result is not None for result in results) == 6  # 6 x 15 = 90 of 100
    assert await store.points.balance("dee") == 10
    assert sum(remaining for _, remaining in await lot_states(store, "dee")) == 10

"""The loyalty workflow on the time-skipping server: pending points, refunds, expiry with its reminder,
FIFO against redemptions, a tier downgrade after review and grace with the warning first, repeats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest_asyncio
import sqlalchemy as sa

from simulate.sandbox import Sandbox
from store.loyalty_tables import points_lots
from store.tables import points_balances, points_ledger, processed_events
from tests.workflows.loyalty.program import PROGRAM_TEXT, program

DAY = timedelta(days=1)


@pytest_asyncio.fixture(loop_scope="session")
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with Sandbox.open([], workdir=tmp_path) as opened:
        await opened.store.loyalty_programs.deploy(program(), PROGRAM_TEXT)
        yield opened


async def balance(sandbox: Sandbox, customer_id: str) -> int:
    return await sandbox.store.points.balance(customer_id)


async def lots(sandbox: Sandbox, customer_id: str) -> list[tuple[str, int, int]]:
    async with sandbox.store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(points_lots.c.status, points_lots.c.points, points_lots.c.remaining)
            .where(points_lots.c.customer_id == customer_id)
            .order_by(points_lots.c.id)
        )
        return [(row.status, row.points, row.remaining) for row in rows]


async def emitted(sandbox: Sandbox, customer_id: str, name: str) -> list[str]:
    """Ids of the events the program emitted for the customer (the router claimed each once)."""
    async with sandbox.store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(processed_events.c.event_id).where(
                processed_events.c.event_id.like(f"loyalty/{name}/%")
            )
        )
        return [row.event_id for row in rows if customer_id in row.event_id or name == "points_available"]


async def invariant(sandbox: Sandbox, customer_id: str) -> None:
    async with sandbox.store.engine.connect() as conn:
        stored = await conn.scalar(
            sa.select(points_balances.c.balance).where(points_balances.c.customer_id == customer_id)
        )
        remaining = await conn.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(points_lots.c.remaining), 0)).where(
                points_lots.c.customer_id == customer_id, points_lots.c.status == "available"
            )
        )
    assert int(stored or 0) == int(remaining or 0)


async def ledger_reasons(sandbox: Sandbox, customer_id: str) -> list[tuple[str, int, str | None]]:
    async with sandbox.store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(points_ledger.c.reason, points_ledger.c.delta, points_ledger.c.rule)
            .where(points_ledger.c.customer_id == customer_id)
            .order_by(points_ledger.c.id)
        )
        return [(row.reason, row.delta, row.rule) for row in rows]


async def test_points_wait_out_the_returns_window_then_become_available(sandbox: Sandbox) -> None:
    await sandbox.event("purchase_completed", "ada", {"total": 5000, "order_id": "o1"}, event_id="p1")
    await sandbox.sleep(DAY)
    assert await balance(sandbox, "ada") == 0
    assert await lots(sandbox, "ada") == [("pending", 50, 50)]
    # The same event again changes nothing.
    await sandbox.event("purchase_completed", "ada", {"total": 5000, "order_id": "o1"}, event_id="p1")
    await sandbox.sleep(14 * DAY)
    assert await balance(sandbox, "ada") == 50
    assert await lots(sandbox, "ada") == [("available", 50, 50)]
    assert await ledger_reasons(sandbox, "ada") == [("Purchase", 50, "purchase")]
    await invariant(sandbox, "ada")


async def test_a_refund_inside_the_window_cancels_the_pending_points(sandbox: Sandbox) -> None:
    await sandbox.event("purchase_completed", "bob", {"total": 5000, "order_id": "o2"}, event_id="p2")
    await sandbox.event("purchase_completed", "bob", {"total": 3000, "order_id": "o3"}, event_id="p3")
    await sandbox.sleep(3 * DAY)
    await sandbox.event("order_refunded", "bob", {"order_id": "o2"}, event_id="r2")
    await sandbox.sleep(12 * DAY)
    assert await lots(sandbox, "bob") == [("cancelled", 50, 0), ("available", 30, 30)]
    assert await balance(sandbox, "bob") == 30
    assert await ledger_reasons(sandbox, "bob") == [("Purchase", 30, "purchase")]
    await invariant(sandbox, "bob")


async def test_points_expire_after_twelve_months_first_in_first_out_with_a_reminder(sandbox: Sandbox) -> None:
    await sandbox.event("profile_completed", "cy", event_id="pc1")  # 150 available at once
    await sandbox.sleep(10 * DAY)
    await sandbox.event("purchase_completed", "cy", {"total": 20000, "order_id": "o4"}, event_id="p4")
    await sandbox.sleep(20 * DAY)  # the purchase's 200 are available now
    assert await balance(sandbox, "cy") == 350
    # A redemption of 100 takes them from the oldest lot first.
    await sandbox.store.points.redeem("spend-1", "cy", 100, "Coffee", at=await sandbox.now())
    assert await lots(sandbox, "cy") == [("available", 150, 50), ("available", 200, 200)]
    await invariant(sandbox, "cy")
    await sandbox.sleep(12 * 30 * DAY - 30 * DAY - 31 * DAY)  # a day before the reminder of the first lot
    assert await emitted(sandbox, "cy", "points_expiring") == []
    await sandbox.sleep(2 * DAY)
    assert len(await emitted(sandbox, "cy", "points_expiring")) == 1
    assert await balance(sandbox, "cy") == 250
    await sandbox.sleep(30 * DAY)  # the first lot expired: its 50 left
    assert await balance(sandbox, "cy") == 200
    assert await lots(sandbox, "cy") == [("expired", 150, 0), ("available", 200, 200)]
    assert ("Points expired", -50, None) in await ledger_reasons(sandbox, "cy")
    await invariant(sandbox, "cy")


async def test_a_tier_falls_after_review_and_grace_with_the_warning_first(sandbox: Sandbox) -> None:
    await sandbox.event("profile_completed", "dee", event_id="pc2")  # 150: silver at once
    await sandbox.sleep(DAY)
    async with sandbox.store.engine.connect() as conn:
        tier = await conn.scalar(sa.text("SELECT tier FROM customers WHERE id = 'dee'"))
    assert tier == "silver"
    # The window is 30 days: the points leave it on day 30, the review on day 30 finds her below,
    # the grace runs 20 days (to day 50), the warning 7 days before its end (day 43: not checked on
    # the day itself, where the milliseconds between the event and the review decide).
    await sandbox.sleep(30 * DAY + 11 * DAY)
    assert await emitted(sandbox, "dee", "tier_downgrade_warning") == []
    await sandbox.sleep(2 * DAY)
    assert len(await emitted(sandbox, "dee", "tier_downgrade_warning")) == 1
    async with sandbox.store.engine.connect() as conn:
        assert await conn.scalar(sa.text("SELECT tier FROM customers WHERE id = 'dee'")) == "silver"
    await sandbox.sleep(8 * DAY)
    async with sandbox.store.engine.connect() as conn:
        assert await conn.scalar(sa.text("SELECT tier FROM customers WHERE id = 'dee'")) == "member"
    changed = await emitted(sandbox, "dee", "tier_changed")
    assert len(changed) == 2

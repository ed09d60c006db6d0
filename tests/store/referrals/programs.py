"""Programs and helpers the referral, leaderboard and challenge store tests share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from contracts.events import CustomerEvent
from engine.loyalty.loader import validate_program_text
from engine.loyalty.program import Program
from store import Store
from store.loyalty_tables import points_lots
from store.tables import points_balances, points_ledger, processed_events

T = TypeVar("T")

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

PROGRAM = """
program: test
tiers:
  levels:
    - {name: member, threshold: 0}
referrals:
  signup_event: signed_up
  code_property: referral_code
  qualify_event: purchase_completed
  where: "event.properties.total >= 1000"
  referrer: {points: 500, badge: ambassador}
  referee: {points: 200}
  max_per_referrer: 2
  period: 30d
leaderboards:
  - {id: weekly, name: This week, period: week, top: 3}
  - {id: monthly, period: month, top: 10}
challenges:
  - id: three_in_thirty
    name: Three purchases in 30 days
    event: purchase_completed
    count: 3
    within: 30d
    reward: {points: 300, badge: regular}
  - id: big_spender
    event: purchase_completed
    where: "event.properties.total >= 5000"
    count: 2
    within: 7d
    repeatable: true
    reward: {points: 100}
"""


def program(text: str = PROGRAM) -> Program:
    loaded, errors = validate_program_text(text, "loyalty.yaml")
    assert loaded is not None, errors
    return loaded


def event(event_id: str, customer_id: str, name: str, at: datetime = T0, **properties: Any) -> CustomerEvent:
    return CustomerEvent(
        event_id=event_id, customer_id=customer_id, name=name, properties=properties, timestamp=at
    )


async def in_tx(store: Store, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(conn)`` in one transaction, as the loyalty activity does."""
    async with store.engine.begin() as conn:
        return await work(conn)


async def seen_event(store: Store, customer_id: str, event_id: str, at: datetime) -> None:
    """Record an event as the router does when it takes one in."""
    async with store.engine.begin() as conn:
        await conn.execute(
            processed_events.insert().values(
                event_id=event_id, customer_id=customer_id, name="page_viewed", at=at, done=True
            )
        )


async def balance_and_lots(store: Store, customer_id: str) -> tuple[int, int]:
    """The balance and the remaining points of the customer's available lots (equal, always)."""
    async with store.engine.connect() as conn:
        balance = await conn.scalar(
            sa.select(points_balances.c.balance).where(points_balances.c.customer_id == customer_id)
        )
        lots = await conn.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(points_lots.c.remaining), 0)).where(
                points_lots.c.customer_id == customer_id, points_lots.c.status == "available"
            )
        )
    return int(balance or 0), int(lots or 0)


async def ledger_keys(store: Store, customer_id: str) -> list[str]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(points_ledger.c.key)
            .where(points_ledger.c.customer_id == customer_id)
            .order_by(points_ledger.c.id)
        )
        return [str(key) for key in rows.scalars()]

"""Reading a customer's wallet and ledger (the API's ``/wallet`` and ``/ledger``).

- ``wallet``: available points (the balance), pending points with the day each part becomes
  available, available points by the day they expire, lifetime points, the tier, the progress to the
  next tier (on the points the program qualifies on: lifetime, or earned in the window) and the
  tier's perks. Five small indexed reads whatever the history's size; at most ``MAX_DATES`` days
  listed for pending and expiring each (the totals count everything).
- ``ledger``: one page of the ledger, newest first, keyset-paginated by row id (``after``: the
  ``next`` of the previous page; the rows after it in this order, i.e. older), at most
  ``MAX_PAGE`` rows; one indexed read per page however deep.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.loyalty.program import Program
from store.loyalty_tables import loyalty_members, points_lots
from store.reading import reading
from store.tables import customers, points_balances, points_ledger
from store.tiers import qualifying_points

MAX_DATES = 60
MAX_PAGE = 200
DEFAULT_PAGE = 50


class DatedPoints(BaseModel):
    date: date
    points: int


class Wallet(BaseModel):
    customer_id: str
    available: int
    pending: int
    pending_by_date: list[DatedPoints]  # when each part becomes available (UTC days)
    expiring_by_date: list[DatedPoints]  # when available points expire (UTC days)
    lifetime: int
    tier: str | None
    qualifying_points: int  # lifetime, or earned in the tier window
    next_tier: str | None
    points_to_next: int
    perks: list[str]


class LedgerRow(BaseModel):
    id: int
    delta: int
    reason: str
    rule: str | None
    journey: str | None
    step: str | None
    balance_after: int
    created_at: datetime


class LedgerPage(BaseModel):
    entries: list[LedgerRow]
    next: int | None  # pass as ``after`` for the next (older) page; None on the last page


_lots = points_lots.c
_WALLET = (
    sa.select(
        points_balances.c.balance,
        points_balances.c.lifetime,
        sa.func.coalesce(loyalty_members.c.tier, customers.c.tier).label("tier"),
    )
    .select_from(
        points_balances.outerjoin(
            loyalty_members, loyalty_members.c.customer_id == points_balances.c.customer_id
        ).outerjoin(customers, customers.c.id == points_balances.c.customer_id)
    )
    .where(points_balances.c.customer_id == sa.bindparam("customer_id"))
)
_TIER_ONLY = (
    sa.select(sa.func.coalesce(loyalty_members.c.tier, customers.c.tier))
    .select_from(customers.outerjoin(loyalty_members, loyalty_members.c.customer_id == customers.c.id))
    .where(customers.c.id == sa.bindparam("customer_id"))
)


def _by_time(column: sa.Column[datetime | None], status: str) -> sa.Select[datetime | None, int]:
    """The customer's lots of ``status`` summed per instant of ``column``, soonest first."""
    return (
        sa.select(column, sa.func.sum(_lots.remaining))
        .where(
            _lots.customer_id == sa.bindparam("customer_id"),
            _lots.status == status,
            _lots.remaining > 0,
            column.is_not(None),
        )
        .group_by(column)
        .order_by(column)
    )


_PENDING = _by_time(_lots.available_at, "pending")
_EXPIRING = _by_time(_lots.expires_at, "available")
_PENDING_TOTAL = sa.select(sa.func.coalesce(sa.func.sum(_lots.remaining), 0)).where(
    _lots.customer_id == sa.bindparam("customer_id"), _lots.status == "pending"
)


def _per_day(rows: Iterable[tuple[datetime | None, int]]) -> list[DatedPoints]:
    days: dict[date, int] = {}
    for when, points in rows:
        if when is None:  # pragma: no cover  (the query leaves these out)
            continue
        day = when.date()
        if day not in days and len(days) == MAX_DATES:
            break
        days[day] = days.get(day, 0) + int(points)
    return [DatedPoints(date=day, points=points) for day, points in days.items()]


async def wallet(engine: AsyncEngine, program: Program | None, customer_id: str, at: datetime) -> Wallet:
    """The customer's wallet at ``at`` (zeros for a customer who never had points)."""
    params = {"customer_id": customer_id}
    async with reading(engine).connect() as conn:
        row = (await conn.execute(_WALLET, params)).first()
        if row is None:
            balance, lifetime, tier = 0, 0, await conn.scalar(_TIER_ONLY, params)
        else:
            balance, lifetime, tier = int(row.balance), int(row.lifetime), row.tier
        pending = int(await conn.scalar(_PENDING_TOTAL, params) or 0)
        pending_days = (
            _per_day((await conn.execute(_PENDING.limit(MAX_DATES * 4), params)).all()) if pending else []
        )
        expiring_days = _per_day((await conn.execute(_EXPIRING.limit(MAX_DATES * 4), params)).all())
        qualifying = await qualifying_points(conn, program, customer_id, at) if program else lifetime
    progress = program.progress(qualifying, tier) if program else None
    tier_of = program.tier(tier) if program else None
    return Wallet(
        customer_id=customer_id,
        available=balance,
        pending=pending,
        pending_by_date=pending_days,
        expiring_by_date=expiring_days,
        lifetime=lifetime,
        tier=tier,
        qualifying_points=qualifying,
        next_tier=progress.next if progress else None,
        points_to_next=progress.points_to_next if progress else 0,
        perks=list(tier_of.perks) if tier_of else [],
    )


_LEDGER = sa.select(
    points_ledger.c.id,
    points_ledger.c.delta,
    points_ledger.c.reason,
    points_ledger.c.rule,
    points_ledger.c.journey,
    points_ledger.c.step,
    points_ledger.c.balance_after,
    points_ledger.c.created_at,
).where(points_ledger.c.customer_id == sa.bindparam("customer_id"))


def ledger_query(after: int | None, limit: int) -> sa.Select[Any]:
    """The read of one ledger page: the rows of ``:customer_id`` below row ``after``, newest first, at
    most ``limit`` (a range of the ``(customer_id, id)`` index, read backwards)."""
    query = _LEDGER
    if after is not None:
        query = query.where(points_ledger.c.id < after)
    return query.order_by(points_ledger.c.id.desc()).limit(limit)


async def ledger(
    engine: AsyncEngine, customer_id: str, after: int | None, limit: int = DEFAULT_PAGE
) -> LedgerPage:
    """A page of at most ``limit`` (1..``MAX_PAGE``) ledger rows older than row ``after``, newest first."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"a ledger page holds 1 to {MAX_PAGE} rows, not {limit}")
    async with reading(engine).connect() as conn:
        query = ledger_query(after, limit + 1)
        rows = (await conn.execute(query, {"customer_id": customer_id})).mappings().all()
    entries = [LedgerRow.model_validate(dict(row)) for row in rows[:limit]]
    return LedgerPage(entries=entries, next=entries[-1].id if len(rows) > limit else None)

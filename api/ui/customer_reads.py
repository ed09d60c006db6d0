"""The bounded reads of the customer page: finding customers by email, a page of their points
ledger, the newest of their step records (per journey and in all), and how many rows they have.

Each read has a limit, so a customer with 10,000 step records reads as fast as one with ten. They
belong with the store's repositories (``store.steps.for_customer`` and ``store.points.ledger``
read everything, oldest first) and should move there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from contracts.records import StepRecord
from store.database import Store
from store.reading import reading
from store.tables import customers, deliveries, points_ledger, step_events


@dataclass(frozen=True)
class Found:
    id: str
    email: str | None
    name: str


@dataclass(frozen=True)
class LedgerRow:
    id: int  # the ledger's order (as booked): the cursor of the next page
    delta: int
    reason: str
    journey: str | None
    step: str | None
    balance_after: int
    at: datetime


@dataclass(frozen=True)
class LedgerPage:
    rows: list[LedgerRow]
    older: int | None  # the cursor of the next (older) page, None when this is the last


@dataclass(frozen=True)
class Totals:
    steps: int
    deliveries: int
    ledger: int


_RECORD_COLUMNS = [
    step_events.c[name]
    for name in ("id", "journey", "version", "workflow_id", "customer_id", "step", "kind", "detail", "at")
]


@dataclass(frozen=True)
class Stored:
    """A step record with its row id (the order of records written at the same moment)."""

    id: int
    record: StepRecord


async def by_email(store: Store, email: str, *, limit: int) -> list[Found]:
    """Customers whose email is ``email`` whatever its case, by id, at most ``limit``."""
    c = customers.c
    query = (
        sa.select(c.id, c.email, c.first_name, c.last_name)
        .where(sa.func.lower(c.email) == email.lower())
        .order_by(c.id)
        .limit(limit)
    )
    async with reading(store.engine).connect() as conn:
        rows = (await conn.execute(query)).all()
    return [Found(row.id, row.email, f"{row.first_name} {row.last_name}".strip()) for row in rows]


async def ledger_page(store: Store, customer_id: str, *, before: int | None, size: int) -> LedgerPage:
    """``size`` ledger entries, newest first, booked before entry ``before`` (None: the newest)."""
    p = points_ledger.c
    query = sa.select(p.id, p.delta, p.reason, p.journey, p.step, p.balance_after, p.created_at).where(
        p.customer_id == customer_id
    )
    if before is not None:
        query = query.where(p.id < before)
    query = query.order_by(p.id.desc()).limit(size + 1)
    async with reading(store.engine).connect() as conn:
        found = (await conn.execute(query)).all()
    rows = [
        LedgerRow(r.id, r.delta, r.reason, r.journey, r.step, r.balance_after, r.created_at) for r in found
    ]
    return LedgerPage(rows=rows[:size], older=rows[size - 1].id if len(rows) > size else None)


def _stored(row: sa.Row[tuple[object, ...]]) -> Stored:
    values = row._asdict()
    return Stored(id=int(values.pop("id")), record=StepRecord.model_validate(values))


async def newest_records(store: Store, customer_id: str, *, limit: int) -> list[Stored]:
    """The customer's ``limit`` newest step records, of every journey, newest first."""
    e = step_events.c
    query = (
        sa.select(*_RECORD_COLUMNS)
        .where(e.customer_id == customer_id)
        .order_by(e.at.desc(), e.id.desc())
        .limit(limit)
    )
    async with reading(store.engine).connect() as conn:
        return [_stored(row) for row in await conn.execute(query)]


async def entries_by_journey(store: Store, customer_id: str, journeys: Sequence[str]) -> dict[str, int]:
    """How often the customer entered each of ``journeys`` (those never entered are left out)."""
    if not journeys:
        return {}
    e = step_events.c
    query = (
        sa.select(e.journey, sa.func.count())
        .where(e.journey.in_(journeys), e.customer_id == customer_id, e.kind == "journey_entered")
        .group_by(e.journey)
    )
    async with reading(store.engine).connect() as conn:
        return {journey: int(n) for journey, n in await conn.execute(query)}


async def journey_records(store: Store, customer_id: str, journey: str, *, limit: int) -> list[Stored]:
    """The customer's ``limit`` newest step records of ``journey``, oldest first."""
    e = step_events.c
    query = (
        sa.select(*_RECORD_COLUMNS)
        .where(e.journey == journey, e.customer_id == customer_id)
        .order_by(e.at.desc(), e.id.desc())
        .limit(limit)
    )
    async with reading(store.engine).connect() as conn:
        found = [_stored(row) for row in await conn.execute(query)]
    found.reverse()
    return found


async def totals(store: Store, customer_id: str) -> Totals:
    """How many step records, deliveries and ledger entries the customer has, in one statement."""

    def count(table: sa.Table) -> sa.ScalarSelect[int]:
        return sa.select(sa.func.count()).where(table.c.customer_id == customer_id).scalar_subquery()

    query = sa.select(count(step_events), count(deliveries), count(points_ledger))
    async with reading(store.engine).connect() as conn:
        steps, sent, booked = (await conn.execute(query)).one()
    return Totals(steps=int(steps), deliveries=int(sent), ledger=int(booked))

"""The bounded reads of the customer pages: finding customers by email, their names, when the lots
of ledger rows were earned, the newest of their step records (per journey and in all), and how many
rows they have.
The ledger itself is read as the API reads it (``store.wallet_read.ledger``).

Each read has a limit, so a customer with 10,000 step records reads as fast as one with ten. They
belong with the store's repositories (``store.steps.for_customer`` and ``store.points.ledger``
read everything, oldest first) and should move there.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from contracts.records import StepRecord
from store.database import Store
from store.loyalty_tables import points_lots
from store.reading import reading
from store.tables import customers, deliveries, points_ledger, step_events


@dataclass(frozen=True)
class Found:
    id: str
    email: str | None
    name: str


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


async def names(store: Store, customer_ids: Collection[str]) -> dict[str, str]:
    """The names of ``customer_ids`` (a board's rows: at most 1,000), for those who have one."""
    if not customer_ids:
        return {}
    c = customers.c
    query = sa.select(c.id, c.first_name, c.last_name).where(c.id.in_(list(customer_ids)))
    async with reading(store.engine).connect() as conn:
        rows = (await conn.execute(query)).all()
    found = {str(row.id): f"{row.first_name or ''} {row.last_name or ''}".strip() for row in rows}
    return {key: name for key, name in found.items() if name}


async def earned_at(store: Store, ledger_ids: Sequence[int]) -> dict[int, datetime]:
    """When the lot each of ``ledger_ids`` booked was earned (an earning rule's lot becomes available
    later than it was earned; its campaigns are those of the day it was earned). Rows that booked no
    lot are left out."""
    if not ledger_ids:
        return {}
    query = (
        sa.select(points_ledger.c.id, points_lots.c.earned_at)
        .join(points_lots, points_lots.c.key == points_ledger.c.key)
        .where(points_ledger.c.id.in_(list(ledger_ids)))
    )
    async with reading(store.engine).connect() as conn:
        return {int(row.id): row.earned_at for row in await conn.execute(query)}


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

"""Customer lifetime value (total purchases per customer, averages overall and by acquisition source)
and acquisition (customers created in a range, by source, and the share who went on to buy).

A customer's acquisition source is their ``utm_source`` trait (events carry it in ``traits``: the
store keeps no other event's properties); customers without one are grouped under None. Purchases
are ``store.purchases`` (each ``purchase_completed``'s amount, in cents). Bounded: at most
``MOST_SOURCES`` sources (the largest), a page of at most ``MOST_CUSTOMERS`` customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from measurement.ranges import DayRange
from store.measure_tables import purchases
from store.tables import customers

SOURCE_TRAIT = "utm_source"
MOST_SOURCES = 100
MOST_CUSTOMERS = 100


@dataclass(frozen=True)
class SourceValue:
    source: str | None
    customers: int
    purchasers: int
    purchases: int
    revenue_cents: int


@dataclass(frozen=True)
class CustomerValue:
    customer_id: str
    source: str | None
    purchases: int
    revenue_cents: int


@dataclass(frozen=True)
class Clv:
    overall: SourceValue
    by_source: list[SourceValue]
    more_sources: bool  # sources beyond the MOST_SOURCES largest were left out
    customers: list[CustomerValue]  # most revenue first, then by id
    next_offset: int | None


@dataclass(frozen=True)
class SourceAcquisition:
    source: str | None
    signups: int
    purchasers: int


@dataclass(frozen=True)
class Acquisition:
    range: DayRange
    total: SourceAcquisition
    by_source: list[SourceAcquisition]
    more_sources: bool


def _source() -> sa.ColumnElement[Any]:
    source: sa.ColumnElement[Any] = customers.c.traits[SOURCE_TRAIT].as_string()
    return source


def _per_customer() -> sa.Subquery:
    p = purchases.c
    return (
        sa.select(p.customer_id, sa.func.count().label("n"), sa.func.sum(p.amount_cents).label("cents"))
        .group_by(p.customer_id)
        .subquery("per_customer")
    )


async def clv(conn: AsyncConnection, *, limit: int = 20, offset: int = 0) -> Clv:
    if not 1 <= limit <= MOST_CUSTOMERS or offset < 0:
        raise ValueError(f"limit is 1 to {MOST_CUSTOMERS} and offset at least 0")
    t, c = _per_customer(), customers.c
    joined = customers.outerjoin(t, t.c.customer_id == c.id)
    revenue = sa.func.coalesce(sa.func.sum(t.c.cents), 0)
    aggregates = (
        sa.func.count(c.id),
        sa.func.count(t.c.customer_id),
        sa.func.coalesce(sa.func.sum(t.c.n), 0),
        revenue,
    )
    overall_row = (await conn.execute(sa.select(*aggregates).select_from(joined))).one()
    source = _source().label("source")
    rows = (
        await conn.execute(
            sa.select(source, *aggregates)
            .select_from(joined)
            .group_by(source)
            .order_by(revenue.desc(), sa.func.count(c.id).desc(), source.asc().nulls_last())
            .limit(MOST_SOURCES + 1)
        )
    ).all()
    cents = sa.func.coalesce(t.c.cents, 0)
    page = (
        await conn.execute(
            sa.select(c.id, _source(), sa.func.coalesce(t.c.n, 0), cents)
            .select_from(joined)
            .order_by(cents.desc(), c.id)
            .limit(limit + 1)
            .offset(offset)
        )
    ).all()
    return Clv(
        overall=SourceValue(None, *(int(v) for v in overall_row)),
        by_source=[SourceValue(row[0], *(int(v) for v in row[1:])) for row in rows[:MOST_SOURCES]],
        more_sources=len(rows) > MOST_SOURCES,
        customers=[CustomerValue(row[0], row[1], int(row[2]), int(row[3])) for row in page[:limit]],
        next_offset=offset + limit if len(page) > limit else None,
    )


async def acquisition(conn: AsyncConnection, days: DayRange) -> Acquisition:
    c = customers.c
    buyers = sa.select(purchases.c.customer_id).distinct().subquery("buyers")
    joined = customers.outerjoin(buyers, buyers.c.customer_id == c.id)
    aggregates = (sa.func.count(c.id), sa.func.count(buyers.c.customer_id))
    in_range = sa.and_(c.created_at >= days.start, c.created_at < days.end)
    total = (await conn.execute(sa.select(*aggregates).select_from(joined).where(in_range))).one()
    source = _source().label("source")
    rows = (
        await conn.execute(
            sa.select(source, *aggregates)
            .select_from(joined)
            .where(in_range)
            .group_by(source)
            .order_by(sa.func.count(c.id).desc(), source.asc().nulls_last())
            .limit(MOST_SOURCES + 1)
        )
    ).all()
    return Acquisition(
        range=days,
        total=SourceAcquisition(None, int(total[0]), int(total[1])),
        by_source=[SourceAcquisition(row[0], int(row[1]), int(row[2])) for row in rows[:MOST_SOURCES]],
        more_sources=len(rows) > MOST_SOURCES,
    )

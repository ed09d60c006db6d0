"""Customers per lifecycle stage at the end of each UTC day of a range, and the changes between stages.

From ``stage_changes`` (every change, written with it) and each customer's ``created_at``: a customer
is in the default stage from their creation until their first change. The counts at the start of the
range come from everything before it; each day then adds its new customers and its changes. Erased
customers leave no trace (their rows go with them). Changes from before migration 0011 are not known:
a customer already out of the default stage then counts from their last update at the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.customers import DEFAULT_STAGE
from engine.stages import STAGES
from measurement.ranges import DayRange, day_of
from store.measure_tables import stage_changes
from store.tables import customers


@dataclass(frozen=True)
class Transition:
    from_stage: str
    to_stage: str
    changes: int


@dataclass(frozen=True)
class Lifecycle:
    range: DayRange
    stages: list[str]
    days: list[tuple[date, dict[str, int]]]  # customers per stage at the end of each day
    transitions: list[Transition]  # changes within the range, most first


async def lifecycle(conn: AsyncConnection, days: DayRange) -> Lifecycle:
    dialect = conn.dialect.name
    c, s = customers.c, stage_changes.c
    counts: dict[str, int] = {DEFAULT_STAGE: 0}

    def move(from_stage: str, to_stage: str, n: int) -> None:
        counts[from_stage] = counts.get(from_stage, 0) - n
        counts[to_stage] = counts.get(to_stage, 0) + n

    counts[DEFAULT_STAGE] += int(
        await conn.scalar(sa.select(sa.func.count()).select_from(customers).where(c.created_at < days.start))
        or 0
    )
    before = sa.select(s.from_stage, s.to_stage, sa.func.count()).where(s.at < days.start)
    for from_stage, to_stage, n in await conn.execute(before.group_by(s.from_stage, s.to_stage)):
        move(from_stage, to_stage, int(n))
    created_day = day_of(c.created_at, dialect)
    created: dict[str, int] = {
        day: int(n)
        for day, n in await conn.execute(
            sa.select(created_day, sa.func.count())
            .where(c.created_at >= days.start, c.created_at < days.end)
            .group_by(created_day)
        )
    }
    change_day = day_of(s.at, dialect)
    changed: dict[str, list[tuple[str, str, int]]] = {}
    totals: dict[tuple[str, str], int] = {}
    for day, from_stage, to_stage, n in await conn.execute(
        sa.select(change_day, s.from_stage, s.to_stage, sa.func.count())
        .where(s.at >= days.start, s.at < days.end)
        .group_by(change_day, s.from_stage, s.to_stage)
    ):
        changed.setdefault(day, []).append((from_stage, to_stage, int(n)))
        totals[(from_stage, to_stage)] = totals.get((from_stage, to_stage), 0) + int(n)
    result: list[tuple[date, dict[str, int]]] = []
    for day in days.days():
        key = day.isoformat()
        counts[DEFAULT_STAGE] += created.get(key, 0)
        for from_stage, to_stage, n in changed.get(key, []):
            move(from_stage, to_stage, n)
        result.append((day, dict(counts)))
    stages = list(STAGES) + sorted({stage for _, day_counts in result for stage in day_counts} - set(STAGES))
    filled = [(day, {stage: day_counts.get(stage, 0) for stage in stages}) for day, day_counts in result]
    transitions = [
        Transition(from_stage, to_stage, n)
        for (from_stage, to_stage), n in sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    ]
    return Lifecycle(days, stages, filled, transitions)

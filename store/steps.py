"""Step events (entries, completions, conversions) and the per-step counts drawn on a diagram."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.records import StepRecord
from store.inserts import insert_ignore
from store.reading import reading
from store.tables import deliveries, points_ledger, step_events


def _record_key(record: StepRecord) -> str:
    at = record.at if record.at.tzinfo else record.at.replace(tzinfo=UTC)
    parts = (
        record.workflow_id,
        record.kind,
        record.step or "",
        at.astimezone(UTC).isoformat(),
        record.detail,
    )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


async def insert_records(conn: AsyncConnection, records: Sequence[StepRecord]) -> None:
    """Add step events inside the caller's transaction; records already added are skipped.

    One statement, compiled once and run with many parameter sets.
    """
    if not records:
        return
    unique = {_record_key(record): record.model_dump() for record in records}
    rows = [{"key": key, **row} for key, row in unique.items()]
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        for row in rows:
            await insert_ignore(conn, step_events, row)
        return
    await conn.execute(_insert_ignoring_duplicates(dialect), rows)


@functools.cache
def _insert_ignoring_duplicates(dialect: str) -> sa.Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(step_events).on_conflict_do_nothing(index_elements=[step_events.c.key])


class StepStats(BaseModel):
    entered: int = 0
    completed: int = 0
    waiting: int = 0  # entered and not yet completed: customers at this step right now
    sends: int = 0
    skips: int = 0
    conversions: int = 0
    points_awarded: int = 0


class JourneyStats(BaseModel):
    journey: str
    entered: int = 0
    exited: int = 0
    active: int = 0
    conversions: int = 0
    steps: dict[str, StepStats] = Field(default_factory=dict)


class StepTally(BaseModel):
    """One step of one version as the journey page draws it."""

    entered: int = 0
    completed: int = 0
    waiting: int = 0  # entered and not yet completed: customers at this step right now
    outcomes: dict[str, int] = Field(default_factory=dict)  # completed, by where they went ("end", "left: …")
    conversions: int = 0  # goals reached while at this step
    deliveries: dict[str, int] = Field(default_factory=dict)  # sends by status: sent, skipped, failed, held
    points: int = 0


class JourneyCounts(BaseModel):
    """The live counts of a journey: of one version, or of all when ``version`` is None. Deliveries and
    points carry no version, so they are always the journey's, across versions."""

    journey: str
    version: str | None
    entered: int = 0
    entered_since: int = 0  # entries at or after ``since`` (0 when none was given)
    exited: int = 0
    active: int = 0
    conversions: int = 0
    steps: dict[str, StepTally] = Field(default_factory=dict)


def _counts_query(journey: str, version: str | None, since: datetime | None) -> sa.CompoundSelect[Any]:
    """One statement, each part read from its own index (migration 0004): step records grouped by
    step, kind and (for one version) detail; deliveries by step and status; points by step."""
    e, d, p = step_events.c, deliveries.c, points_ledger.c
    blank: sa.ColumnElement[str] = sa.literal_column("''")
    count = sa.func.count()
    of_journey = [e.journey == journey] + ([e.version == version] if version is not None else [])
    detail = e.detail if version is not None else blank  # outcomes are drawn for one version only
    records = sa.select(sa.literal_column("'e'"), e.step, e.kind, detail, count).where(*of_journey)
    parts = [
        records.group_by(e.step, e.kind, *([e.detail] if version is not None else [])),
        sa.select(sa.literal_column("'d'"), d.step, d.status, blank, count)
        .where(d.journey == journey)
        .group_by(d.step, d.status),
        sa.select(sa.literal_column("'p'"), p.step, blank, blank, sa.func.sum(p.delta))
        .where(p.journey == journey)
        .group_by(p.step),
    ]
    if since is not None:
        parts.append(
            sa.select(sa.literal_column("'r'"), sa.null(), blank, blank, count).where(
                *of_journey, e.step.is_(None), e.kind == "journey_entered", e.at >= since
            )
        )
    return sa.union_all(*parts)


class StepRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, records: Sequence[StepRecord]) -> None:
        """Add step events; a record already added (same run, kind, step, time, detail) is skipped."""
        if not records:
            return
        async with self._engine.begin() as conn:
            await insert_records(conn, records)

    async def stats(self, journey: str, version: str | None = None) -> JourneyStats:
        """Counts per step of ``journey`` (all versions unless ``version`` is given)."""
        stats = JourneyStats(journey=journey)

        def step(name: str | None) -> StepStats:
            return stats.steps.setdefault(name or "", StepStats())

        events = sa.select(step_events.c.step, step_events.c.kind, sa.func.count().label("n")).where(
            step_events.c.journey == journey
        )
        sends = sa.select(deliveries.c.step, deliveries.c.status, sa.func.count().label("n")).where(
            deliveries.c.journey == journey
        )
        points = sa.select(points_ledger.c.step, sa.func.sum(points_ledger.c.delta).label("n")).where(
            points_ledger.c.journey == journey
        )
        if version is not None:
            events = events.where(step_events.c.version == version)
        async with reading(self._engine).connect() as conn:
            for name, kind, n in await conn.execute(events.group_by(step_events.c.step, step_events.c.kind)):
                if kind == "journey_entered":
                    stats.entered += n
                elif kind == "journey_exited":
                    stats.exited += n
                elif kind == "converted":
                    stats.conversions += n
                    if name:
                        step(name).conversions += n
                elif kind == "entered":
                    step(name).entered += n
                elif kind == "completed":
                    step(name).completed += n
            if version is None:
                # Deliveries and the ledger do not carry the version; they count for the journey.
                for name, status, n in await conn.execute(
                    sends.group_by(deliveries.c.step, deliveries.c.status)
                ):
                    if status == "sent":
                        step(name).sends += n
                    else:
                        step(name).skips += n
                for name, n in await conn.execute(points.group_by(points_ledger.c.step)):
                    if name:
                        step(name).points_awarded += int(n or 0)
        for counts in stats.steps.values():
            counts.waiting = max(counts.entered - counts.completed, 0)
        stats.active = max(stats.entered - stats.exited, 0)
        return stats

    async def counts(
        self, journey: str, version: str | None = None, *, since: datetime | None = None
    ) -> JourneyCounts:
        """Everything the journey page draws, in one query: per step entered, completed (by outcome),
        waiting, conversions, deliveries by status and points; for the journey entered, exited,
        active, conversions, and entries since ``since``."""
        counts = JourneyCounts(journey=journey, version=version)
        async with reading(self._engine).connect() as conn:
            rows = (await conn.execute(_counts_query(journey, version, since))).all()
        for part, step, kind, detail, n in rows:
            n = int(n or 0)
            tally = counts.steps.setdefault(step, StepTally()) if step else None
            if part == "r":
                counts.entered_since = n
            elif part == "d" and tally is not None:
                tally.deliveries[kind] = tally.deliveries.get(kind, 0) + n
            elif part == "p" and tally is not None:
                tally.points += n
            elif kind == "journey_entered":
                counts.entered += n
            elif kind == "journey_exited":
                counts.exited += n
            elif kind == "converted":
                counts.conversions += n
                if tally is not None:
                    tally.conversions += n
            elif kind == "entered" and tally is not None:
                tally.entered += n
            elif kind == "completed" and tally is not None:
                tally.completed += n
                if detail:
                    tally.outcomes[detail] = tally.outcomes.get(detail, 0) + n
        for tally in counts.steps.values():
            tally.waiting = max(tally.entered - tally.completed, 0)
        counts.active = max(counts.entered - counts.exited, 0)
        return counts

    async def waiting(
        self, journey: str, version: str, step: str, *, after: str | None = None, limit: int = 20
    ) -> list[str]:
        """Customers at ``step`` of ``journey`` ``version`` now (entered more often than completed),
        by id, the ``limit`` after ``after``: a page of the journey page's side panel."""
        e = step_events.c
        balance = sa.func.sum(sa.case((e.kind == "entered", 1), else_=-1))
        query = (
            sa.select(e.customer_id)
            .where(e.journey == journey, e.version == version, e.step == step)
            .where(e.kind.in_(("entered", "completed")))
            .group_by(e.customer_id)
            .having(balance > 0)
            .order_by(e.customer_id)
            .limit(limit)
        )
        # Always bounded below: the planner then walks the journey's customers in order and stops
        # after ``limit`` of them (one step's many entries are not all grouped first).
        query = query.where(e.customer_id > (after or ""))
        async with reading(self._engine).connect() as conn:
            return list(await conn.scalars(query))

    async def last_entry(self, journey: str, customer_id: str) -> datetime | None:
        """When ``customer_id`` last entered ``journey`` (for ``entry: once`` and cooldowns)."""
        async with reading(self._engine).connect() as conn:
            value = await conn.scalar(
                sa.select(sa.func.max(step_events.c.at)).where(
                    step_events.c.journey == journey,
                    step_events.c.customer_id == customer_id,
                    step_events.c.kind == "journey_entered",
                )
            )
        return value  # type: ignore[no-any-return]

    async def for_customer(self, customer_id: str, journey: str | None = None) -> list[StepRecord]:
        query = sa.select(step_events).where(step_events.c.customer_id == customer_id)
        if journey is not None:
            query = query.where(step_events.c.journey == journey)
        async with reading(self._engine).connect() as conn:
            rows = (await conn.execute(query.order_by(step_events.c.at, step_events.c.id))).mappings()
            return [
                StepRecord.model_validate({k: v for k, v in row.items() if k not in ("id", "key")})
                for row in rows
            ]

"""Step events (entries, completions, conversions) and the per-step counts drawn on a diagram."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

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

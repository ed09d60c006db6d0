"""Step events (entries, completions, conversions) and the per-step counts drawn on a diagram."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.records import StepRecord
from store import counters
from store.inserts import dialect_insert
from store.reading import reading
from store.sqlite_thread import SqliteThread, on_a_file
from store.tables import send_retries, step_counters, step_events


def _record_key(record: StepRecord) -> str:
    """What makes a record one: its run, entry and number when the workflow made it, else (older
    runs, erasure) its run, kind, step, time and detail."""
    if record.seq is not None:
        parts: tuple[str, ...] = ("#", record.workflow_id, record.entry, str(record.seq), record.kind)
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
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
    """Add step events inside the caller's transaction, and to their counters; records already
    added are skipped (and not counted again)."""
    if records:
        await conn.run_sync(insert_records_sync, records)


def insert_records_sync(conn: sa.Connection, records: Sequence[StepRecord]) -> None:
    """``insert_records`` for a synchronous connection (``run_sync``, ``store.sqlite_thread``).

    One statement, compiled once and run with many parameter sets, answering the keys it inserted.
    """
    if not records:
        return
    unique = {_record_key(record): record.model_dump(exclude=NOT_STORED) for record in records}
    rows = [{"key": key, **row} for key, row in unique.items()]
    inserted = set(conn.execute(_insert_ignoring_duplicates(conn.dialect.name), rows).scalars())
    counters.add_sync(conn, counters.tally((counters.record_key(unique[key]), 1) for key in inserted))


NOT_STORED = {"entry", "seq"}  # part of the key, not columns


@functools.cache
def _insert_ignoring_duplicates(dialect: str) -> sa.Insert:
    return (
        dialect_insert(dialect)(step_events)
        .on_conflict_do_nothing(index_elements=[step_events.c.key])
        .returning(step_events.c.key)
    )


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
    deliveries: dict[str, int] = Field(default_factory=dict)  # sends logged, by status
    retrying: int = 0  # sends failing now that will be tried again
    points: int = 0


class JourneyCounts(BaseModel):
    """The live counts of a journey: of one version, or of all when ``version`` is None."""

    journey: str
    version: str | None
    entered: int = 0
    entered_since: int = 0  # entries at or after ``since`` (0 when none was given)
    exited: int = 0
    active: int = 0
    conversions: int = 0
    steps: dict[str, StepTally] = Field(default_factory=dict)


RECENT = "recent"  # the detail the counts query gives journey entries since ``since``
RETRYING = "retrying"  # the kind it gives the sends being retried now


def _counts_query(journey: str, version: str | None, since: datetime | None) -> sa.CompoundSelect[Any]:
    """The counters of ``journey`` (one version, or all) with shards summed and journey entries
    folded into "since" and "before", and the sends being retried now, by step: (step, kind, detail, n)."""
    c, r = step_counters.c, send_retries.c
    blank: sa.ColumnElement[str] = sa.literal_column("''")
    entered_recently = c.detail >= counters.hour_of(since) if since is not None else sa.false()
    detail = sa.case(
        (c.kind == "completed", c.detail),
        (sa.and_(c.kind == "journey_entered", entered_recently), sa.literal(RECENT)),
        else_=blank,
    )
    kept = sa.select(c.step, c.kind, detail, sa.func.sum(c.n)).where(c.journey == journey)
    retrying = sa.select(r.step, sa.literal(RETRYING), blank, sa.func.count()).where(r.journey == journey)
    if version is not None:
        kept = kept.where(c.version == version)
        retrying = retrying.where(r.version == version)
    return sa.union_all(kept.group_by(c.step, c.kind, detail), retrying.group_by(r.step))


class StepRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # Every wait and step a run takes is recorded here (the worker's most frequent write): on a
        # SQLite file it runs whole in a thread, one hand-off instead of several per statement.
        self._thread = SqliteThread(engine.url) if on_a_file(engine.url) else None

    async def close(self) -> None:
        if self._thread is not None:
            await self._thread.close()

    async def record(self, records: Sequence[StepRecord]) -> None:
        """Add step events; a record already added (same run, kind, step, time, detail) is skipped."""
        if not records:
            return
        if self._thread is not None:
            await self._thread.transaction(insert_records_sync, records)
            return
        async with self._engine.begin() as conn:
            await insert_records(conn, records)

    async def stats(self, journey: str, version: str | None = None) -> JourneyStats:
        """Counts per step of ``journey`` (all versions unless ``version`` is given)."""
        counts = await self.counts(journey, version)
        stats = JourneyStats(
            journey=journey,
            entered=counts.entered,
            exited=counts.exited,
            active=counts.active,
            conversions=counts.conversions,
        )
        for name, tally in counts.steps.items():
            sent = tally.deliveries.get("sent", 0)
            stats.steps[name] = StepStats(
                entered=tally.entered,
                completed=tally.completed,
                waiting=tally.waiting,
                sends=sent,
                skips=sum(tally.deliveries.values()) - sent,
                conversions=tally.conversions,
                points_awarded=tally.points,
            )
        return stats

    async def counts(
        self, journey: str, version: str | None = None, *, since: datetime | None = None
    ) -> JourneyCounts:
        """Everything the journey page draws, from the counters (store/counters.py) and the sends
        being retried, in one query: per step entered, completed (by outcome), waiting,
        conversions, deliveries by status, retrying and points; for the journey entered, exited,
        active, conversions, and entries since the hour of ``since``."""
        counts = JourneyCounts(journey=journey, version=version)
        async with reading(self._engine).connect() as conn:
            rows = (await conn.execute(_counts_query(journey, version, since))).all()
        for step, kind, detail, n in rows:
            n = int(n or 0)
            tally = counts.steps.setdefault(step, StepTally()) if step else None
            if kind == "journey_entered":
                counts.entered += n
                if detail == RECENT:
                    counts.entered_since += n
            elif kind == "journey_exited":
                counts.exited += n
            elif kind == "converted":
                counts.conversions += n
                if tally is not None:
                    tally.conversions += n
            elif tally is None:
                continue
            elif kind == "entered":
                tally.entered += n
            elif kind == "completed":
                tally.completed += n
                tally.outcomes[detail] = tally.outcomes.get(detail, 0) + n
            elif kind.startswith(counters.SEND):
                status = kind.removeprefix(counters.SEND)
                tally.deliveries[status] = tally.deliveries.get(status, 0) + n
            elif kind == counters.POINTS:
                tally.points += n
            elif kind == RETRYING:
                tally.retrying += n
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

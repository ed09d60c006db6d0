"""Segment membership: who is in which segment now, and the ``segment_entered`` / ``segment_exited``
events when that changes.

``evaluate`` reads the customers (their snapshot, without ``customer.segments``: a segment's
condition does not depend on the order segments are evaluated in) and their behaviour aggregates,
evaluates every segment at ``at`` and writes the changes to ``segment_members`` in one transaction.
Each change is an event whose id names the segment, the customer, the change and the entry's number
(``segment/vip/ada/entered/2``), so emitting it again (a retried activity, a repeat after a failed
emit) is a duplicate the router ignores. A change is ``announced`` once emitted; one that is not
yet is answered again by the next evaluation of that customer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.events import CustomerEvent
from engine.errors import JourneyError
from engine.segments.behaviour import behaviour_at
from engine.segments.evaluation import Segment, members
from engine.segments.loader import check_segments, segments_dir
from store.behaviour import NOT_BEHAVIOUR, customer_behaviour, read_aggregates, segment_members
from store.customers import load_snapshots
from store.reading import reading

log = logging.getLogger("journeys.segments")
Kind = Literal["entered", "exited"]


@dataclass(frozen=True)
class Change:
    segment: str
    customer_id: str
    kind: Kind
    entry: int  # the entry's number (1 for the first time in the segment)
    at: datetime

    def event(self) -> CustomerEvent:
        return CustomerEvent(
            event_id=f"segment/{self.segment}/{self.customer_id}/{self.kind}/{self.entry}",
            customer_id=self.customer_id,
            name=f"segment_{self.kind}",
            properties={"segment": self.segment, "entry": self.entry},
            timestamp=self.at,
        )


_MEMBERSHIPS = sa.select(segment_members).where(
    segment_members.c.customer_id.in_(sa.bindparam("customer_ids", expanding=True))
)


def evaluate_sync(
    conn: sa.Connection, segments: Sequence[Segment], customer_ids: Sequence[str], at: datetime
) -> list[Change]:
    """Evaluate ``segments`` for ``customer_ids`` at ``at``, write the changes; answer them and the
    changes not announced yet. A customer the store does not know is in no segment."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids or not segments:
        return []
    # customer.loyalty and .history cost more to read than all the rest: only for segments reading them.
    context = any("loyalty" in segment.where or "history" in segment.where for segment in segments)
    snapshots = load_snapshots(conn, ids, at=at, context=context)
    aggregates = read_aggregates(conn, ids)
    rows = {
        (row.segment, row.customer_id): row
        for row in conn.execute(_MEMBERSHIPS.with_for_update(), {"customer_ids": ids})
    }
    changes: list[Change] = []
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    for cid in ids:
        snapshot = snapshots[cid]
        now_in: frozenset[str] = frozenset()
        if snapshot.exists:
            customer = snapshot.as_context()
            customer.pop("segments", None)
            now_in = members(segments, customer, behaviour_at(aggregates[cid], at))
        for segment in segments:
            row = rows.get((segment.name, cid))
            was_in = row is not None and row.exited_at is None
            if segment.name in now_in and not was_in:
                entry = 1 if row is None else int(row._mapping["entries"]) + 1
                values = {
                    "k_segment": segment.name,
                    "k_customer": cid,
                    "v_entered_at": at,
                    "v_exited_at": None,
                }
                (inserts if row is None else updates).append({**values, "v_entries": entry})
                changes.append(Change(segment.name, cid, "entered", entry, at))
            elif was_in and segment.name not in now_in:
                assert row is not None
                entry = int(row._mapping["entries"])
                updates.append(
                    {"k_segment": segment.name, "k_customer": cid, "v_entered_at": row.entered_at}
                    | {"v_exited_at": at, "v_entries": entry}
                )
                changes.append(Change(segment.name, cid, "exited", entry, at))
            elif row is not None and not row.announced:
                kind: Kind = "entered" if row.exited_at is None else "exited"
                when = row.exited_at or row.entered_at
                changes.append(Change(segment.name, cid, kind, int(row._mapping["entries"]), when))
    if inserts:
        conn.execute(_INSERT, inserts)
    if updates:
        conn.execute(_UPDATE, updates)
    return changes


_KEY = (
    segment_members.c.segment == sa.bindparam("k_segment"),
    segment_members.c.customer_id == sa.bindparam("k_customer"),
)
_INSERT = segment_members.insert().values(
    segment=sa.bindparam("k_segment"),
    customer_id=sa.bindparam("k_customer"),
    entered_at=sa.bindparam("v_entered_at"),
    exited_at=sa.bindparam("v_exited_at"),
    entries=sa.bindparam("v_entries"),
    announced=False,
)
_UPDATE = (
    segment_members.update()
    .where(*_KEY)
    .values(
        entered_at=sa.bindparam("v_entered_at"),
        exited_at=sa.bindparam("v_exited_at"),
        entries=sa.bindparam("v_entries"),
        announced=False,
    )
)
# A change is announced unless the membership changed again meanwhile (another entry, or back in).
_ANNOUNCED = (
    segment_members.update()
    .where(
        *_KEY,
        segment_members.c.entries == sa.bindparam("v_entries"),
        sa.or_(
            sa.and_(sa.bindparam("v_entered", type_=sa.Boolean()), segment_members.c.exited_at.is_(None)),
            sa.and_(
                sa.not_(sa.bindparam("v_entered", type_=sa.Boolean())),
                segment_members.c.exited_at.is_not(None),
            ),
        ),
    )
    .values(announced=True)
)


def announced_sync(conn: sa.Connection, changes: Sequence[Change]) -> None:
    """Mark ``changes`` emitted, in one statement."""
    if changes:
        conn.execute(
            _ANNOUNCED,
            [
                {
                    "k_segment": c.segment,
                    "k_customer": c.customer_id,
                    "v_entries": c.entry,
                    "v_entered": c.kind == "entered",
                }
                for c in changes
            ],
        )


class SegmentMembership:
    """Segment evaluation against the store, and the sizes the API shows."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def evaluate(
        self, segments: Sequence[Segment], customer_ids: Sequence[str], at: datetime
    ) -> list[Change]:
        async with self._engine.begin() as conn:
            return await conn.run_sync(evaluate_sync, segments, customer_ids, at)

    async def announced(self, changes: Sequence[Change]) -> None:
        if changes:
            async with self._engine.begin() as conn:
                await conn.run_sync(announced_sync, changes)

    async def candidates(
        self,
        segments: Sequence[Segment],
        since: datetime | None,
        until: datetime,
        after: str | None,
        page: int,
    ) -> list[str]:
        async with reading(self._engine).connect() as conn:
            return await conn.run_sync(candidates_sync, segments, since, until, after, page)

    async def sizes(self) -> dict[str, int]:
        """Members now per segment (a segment without any is absent)."""
        query = (
            sa.select(segment_members.c.segment, sa.func.count())
            .where(segment_members.c.exited_at.is_(None))
            .group_by(segment_members.c.segment)
        )
        async with reading(self._engine).connect() as conn:
            return {name: int(count) for name, count in await conn.execute(query)}


Emit = Callable[[CustomerEvent], Awaitable[object]]


class SegmentHook:
    """Evaluates a customer's segments after each of their events (``ingest.router``) and emits the
    changes through the router; segments come from the journeys folder (``use`` or ``load``)."""

    def __init__(self, membership: SegmentMembership) -> None:
        self.membership = membership
        self.segments: list[Segment] = []

    def use(self, segments: Sequence[Segment]) -> None:
        self.segments = list(segments)

    def load(self, journeys_dir: Path) -> list[JourneyError]:
        """The valid segments of ``journeys_dir/segments``; the problems of the others, each logged
        at its file and line (a service starts on the valid ones), are answered."""
        segments, errors = check_segments(journeys_dir)
        self.use(segments)
        for error in errors:
            log.error("segment file not loaded: %s", replace(error, file=str(journeys_dir / error.file)))
        if errors:
            log.error(
                "%d problem(s) in %s: customers are not evaluated for those segments until they are"
                " fixed (journeys validate %s)",
                len(errors),
                segments_dir(journeys_dir),
                journeys_dir,
            )
        return errors

    async def after(self, event: CustomerEvent, at: datetime, emit: Emit) -> None:
        """Evaluate the customer of ``event`` at ``at`` (the router's clock), or at the event's time when
        later: the event just counted is in its own windows even when its sender's clock runs ahead."""
        if not self.segments or event.name in NOT_BEHAVIOUR:
            return
        at = max(at, event.timestamp) if event.timestamp is not None else at
        await emit_changes(
            self.membership, await self.membership.evaluate(self.segments, [event.customer_id], at), emit
        )


async def emit_changes(membership: SegmentMembership, changes: Sequence[Change], emit: Emit) -> None:
    """Emit each change as its event, then mark it announced; one that fails to emit stays
    unannounced (the next evaluation answers it again) and the failure is raised."""
    emitted: list[Change] = []
    try:
        for change in changes:
            await emit(change.event())
            emitted.append(change)
    finally:
        await membership.announced(emitted)


DAY = timedelta(days=1)


def candidates_sync(
    conn: sa.Connection,
    segments: Sequence[Segment],
    since: datetime | None,
    until: datetime,
    after: str | None,
    page: int,
) -> list[str]:
    """The customers, in id order after ``after``, whose membership time alone could have changed
    between ``since`` and ``until``: those whose last event of a name a segment reads by
    ``days_since`` or a window crossed a threshold (the index on ``(event, last_at)``), and the
    members of segments that read a window (an earlier event may have left it). Every customer
    with such an event when ``since`` is None (the first sweep)."""
    ranges: list[sa.ColumnElement[bool]] = []
    windowed: list[str] = []
    c = customer_behaviour.c
    for segment in segments:
        if not segment.recency:
            continue
        spans: set[tuple[str, int | None]] = set(segment.reads.recency)
        for event, field in segment.reads.fields:
            if field.startswith(("count_", "sum_")):
                spans.add((event, int(field.split("_")[1].removesuffix("d"))))
        if any(field.startswith(("count_", "sum_")) for _, field in segment.reads.fields) or any(
            days is None for _, days in segment.reads.recency
        ):
            windowed.append(segment.name)  # an earlier event may leave a window: members too
        for event, days in sorted(spans, key=lambda span: (span[0], span[1] or -1)):
            if since is None or days is None:
                ranges.append(sa.and_(c.event == event, c.last_at <= until))
            else:
                low, high = since - (days + 1) * DAY, until - max(days - 1, 0) * DAY
                ranges.append(sa.and_(c.event == event, c.last_at > low, c.last_at <= high))
    if not ranges:
        return []
    m = segment_members.c
    parts: list[sa.Select[tuple[str]]] = [sa.select(c.customer_id).where(each) for each in ranges]
    if windowed:
        parts.append(sa.select(m.customer_id).where(m.segment.in_(windowed), m.exited_at.is_(None)))
    # Each part stops at a page after ``after`` (keyset, in id order): a page costs a page per part,
    # not a pass over every candidate.
    limited = []
    for part in parts:
        column = part.selected_columns[0]
        if after is not None:
            part = part.where(column > after)
        inner = part.order_by(column).limit(page).subquery()
        limited.append(sa.select(inner.c[0]))
    union = sa.union(*limited).subquery()
    query = sa.select(union.c[0]).order_by(union.c[0]).limit(page)
    return list(conn.execute(query).scalars())

"""Per-customer behaviour aggregates, kept on ingest: what a segment's ``behaviour.<event>`` reads.

One row of ``customer_behaviour`` per customer and event name: how many, the sum of the events'
``properties.total`` (else ``properties.amount``), the first and last time, the categories they
named, and counts and sums per UTC day for the windows of ``engine.segments.vocabulary`` — a small
JSON of at most ``MOST_DAYS`` days on the row itself, trimmed on every write, so one row read answers
every window (a per-day table would cost a row per customer, event and day, and a grouped read per
evaluation). Written in the transaction that claims the events (``store.events``);
``behaviour_events`` remembers each event counted, so an event claimed again counts once.
``(event, last_at)`` is indexed: the sweep finds the customers whose recency crossed a threshold.

What is read from an event is bounded whatever it holds: the amount counts when a finite number of
at most ``MOST_AMOUNT`` either way (else 0); at most ``MOST_CATEGORIES`` categories of at most
``MOST_CATEGORY_LENGTH`` characters are kept per row, the latest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from contracts.customers import CustomerSnapshot
from engine.plan import SCHEDULED_EVENT
from engine.segments.behaviour import Aggregate
from engine.segments.vocabulary import MOST_DAYS
from store.inserts import _insert_or_nothing, insert_many_ignore_sync
from store.numbers import finite_number
from store.tables import metadata
from store.types import UTCDateTime

MOST_AMOUNT = 1e12
MOST_CATEGORIES = 20
MOST_CATEGORY_LENGTH = 100
MOST_EVENT_NAME = 200
# Segment events are answers of evaluation, not behaviour: counting them would only feed it back.
NOT_BEHAVIOUR = frozenset({"segment_entered", "segment_exited", SCHEDULED_EVENT})

customer_behaviour = sa.Table(
    "customer_behaviour",
    metadata,
    sa.Column("customer_id", sa.String(200), primary_key=True),
    sa.Column("event", sa.String(200), primary_key=True),
    sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("total", sa.Float(), nullable=False, server_default="0"),
    sa.Column("first_at", UTCDateTime(), nullable=False),
    sa.Column("last_at", UTCDateTime(), nullable=False),
    sa.Column("days", sa.JSON(), nullable=False),  # ISO day -> [count, sum], the last MOST_DAYS days
    sa.Column("categories", sa.JSON(), nullable=False),  # latest first
    sa.Index("ix_customer_behaviour_event_last_at", "event", "last_at"),
)

behaviour_events = sa.Table(
    "behaviour_events",
    metadata,
    sa.Column("event_id", sa.String(200), primary_key=True),
    sa.Column("at", UTCDateTime(), nullable=False),
)

# Who is in which segment (store.segments): one row per segment and customer ever in it.
segment_members = sa.Table(
    "segment_members",
    metadata,
    sa.Column("segment", sa.String(100), primary_key=True),
    sa.Column("customer_id", sa.String(200), primary_key=True),
    sa.Column("entered_at", UTCDateTime(), nullable=False),
    sa.Column("exited_at", UTCDateTime(), nullable=True),  # None while a member
    sa.Column("entries", sa.Integer(), nullable=False),  # how many times entered: the entry's number
    sa.Column("announced", sa.Boolean(), nullable=False),  # its last change emitted as an event
    sa.Index("ix_segment_members_segment_exited_at", "segment", "exited_at"),
)

Event = tuple[str, str, str, datetime | None, Mapping[str, Any] | None]  # id, customer, name, at, properties


def amount_of(properties: Mapping[str, Any] | None) -> float:
    props = properties or {}
    for key in ("total", "amount"):
        value = props.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):  # the first number decides
            number = finite_number(value)
            return float(number) if number is not None and abs(number) <= MOST_AMOUNT else 0.0
    return 0.0


def categories_of(properties: Mapping[str, Any] | None) -> list[str]:
    props = properties or {}
    raw = props.get("categories")
    items = raw[:MOST_CATEGORIES] if isinstance(raw, list) else [props.get("category")]
    found: list[str] = []
    for item in items:
        if isinstance(item, str) and item and item[:MOST_CATEGORY_LENGTH] not in found:
            found.append(item[:MOST_CATEGORY_LENGTH])
    return found


_SELECT = sa.select(customer_behaviour).where(
    customer_behaviour.c.customer_id.in_(sa.bindparam("customer_ids", expanding=True))
)
_SELECT_LOCKED = _SELECT.with_for_update()  # built once: a statement built per call costs its cache key
_UPDATE = (
    customer_behaviour.update()
    .where(
        customer_behaviour.c.customer_id == sa.bindparam("k_customer"),
        customer_behaviour.c.event == sa.bindparam("k_event"),
    )
    .values(
        count=sa.bindparam("v_count"),
        total=sa.bindparam("v_total"),
        first_at=sa.bindparam("v_first_at"),
        last_at=sa.bindparam("v_last_at"),
        days=sa.bindparam("v_days"),
        categories=sa.bindparam("v_categories"),
    )
)


def record_behaviour(conn: sa.Connection, events: Sequence[Event], now: datetime) -> None:
    """Add ``events`` to their customers' aggregates, each event once ever (an event without a time
    counts at ``now``). Synchronous, inside the intake's transaction (``store.events``): four
    statements whatever the number of events, none without one."""
    taken = [
        (eid, cid, name, at or now, props)
        for eid, cid, name, at, props in events
        if name not in NOT_BEHAVIOUR and len(name) <= MOST_EVENT_NAME
    ]
    if not taken:
        return
    rows = [{"event_id": eid, "at": at} for eid, _, _, at, _ in taken]
    counted = insert_many_ignore_sync(conn, behaviour_events, rows, behaviour_events.c.event_id)
    fresh = [event for event in taken if event[0] in counted]
    if not fresh:
        return
    keys = sorted({(cid, name) for _, cid, name, _, _ in fresh})
    first = {key: min(at for _, c, n, at, _ in fresh if (c, n) == key) for key in keys}
    _insert_missing(conn, keys, first)
    ids = sorted({cid for cid, _ in keys})
    current = {
        (row.customer_id, row.event): row
        for row in conn.execute(_SELECT_LOCKED, {"customer_ids": ids})
        if (row.customer_id, row.event) in first
    }
    updates = []
    for key in keys:
        row = current[key]
        count, total = int(row._mapping["count"]), float(row.total)  # .count is the tuple's
        first_at, last_at = row.first_at, row.last_at
        days: dict[str, list[float]] = {day: list(value) for day, value in (row.days or {}).items()}
        categories: list[str] = list(row.categories or [])
        for _, _, _, at, props in sorted((e for e in fresh if (e[1], e[2]) == key), key=lambda e: e[3]):
            amount = amount_of(props)
            count, total = count + 1, total + amount
            first_at, last_at = min(first_at, at), max(last_at, at)
            bucket = days.setdefault(at.date().isoformat(), [0, 0.0])
            bucket[0], bucket[1] = int(bucket[0]) + 1, float(bucket[1]) + amount
            named = categories_of(props)
            categories = (named + [c for c in categories if c not in named])[:MOST_CATEGORIES]
        updates.append(
            {
                "k_customer": key[0],
                "k_event": key[1],
                "v_count": count,
                "v_total": total,
                "v_first_at": first_at,
                "v_last_at": last_at,
                "v_days": _trimmed(days, max(now, last_at)),
                "v_categories": categories,
            }
        )
    conn.execute(_UPDATE, updates)


def _insert_missing(
    conn: sa.Connection, keys: list[tuple[str, str]], first: dict[tuple[str, str], datetime]
) -> None:
    """A row of zeros for each (customer, event) not counted yet; insert-or-nothing, so concurrent
    intakes of one customer's first event both go on (the second then waits on the row lock)."""
    rows = [
        {
            "customer_id": cid,
            "event": name,
            "count": 0,
            "total": 0.0,
            "first_at": first[(cid, name)],
            "last_at": first[(cid, name)],
            "days": {},
            "categories": [],
        }
        for cid, name in keys
    ]
    conn.execute(_insert_or_nothing(conn.dialect.name, customer_behaviour), rows)


def _trimmed(days: dict[str, list[float]], newest: datetime) -> dict[str, list[float]]:
    oldest = (newest - timedelta(days=MOST_DAYS - 1)).date().isoformat()
    return {day: value for day, value in sorted(days.items()) if day >= oldest}


def aggregate_of(row: Any) -> Aggregate:
    days = {day: (int(value[0]), float(value[1])) for day, value in (row.days or {}).items()}
    return Aggregate(
        row.event,
        int(row.count),
        float(row.total),
        row.first_at,
        row.last_at,
        days,
        tuple(row.categories or []),
    )


def read_aggregates(conn: sa.Connection, customer_ids: Sequence[str]) -> dict[str, list[Aggregate]]:
    """Each customer's aggregates (an empty list for one without any), in one read."""
    found: dict[str, list[Aggregate]] = {cid: [] for cid in customer_ids}
    if customer_ids:
        for row in conn.execute(_SELECT, {"customer_ids": list(dict.fromkeys(customer_ids))}):
            found[row.customer_id].append(aggregate_of(row))
    return found


_MEMBER_OF = sa.select(segment_members.c.customer_id, segment_members.c.segment).where(
    segment_members.c.customer_id.in_(sa.bindparam("customer_ids", expanding=True)),
    segment_members.c.exited_at.is_(None),
)


def with_segments(conn: sa.Connection, snapshots: dict[str, CustomerSnapshot]) -> dict[str, CustomerSnapshot]:
    """``snapshots`` with the segments each customer is in now (``customer.segments.<name>``)."""
    known = [cid for cid, snapshot in snapshots.items() if snapshot.exists]
    if not known:
        return snapshots
    found: dict[str, list[str]] = {}
    for cid, segment in conn.execute(_MEMBER_OF, {"customer_ids": known}):
        found.setdefault(cid, []).append(segment)
    return {
        cid: snapshot.model_copy(update={"segments": sorted(found[cid])}) if cid in found else snapshot
        for cid, snapshot in snapshots.items()
    }

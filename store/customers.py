"""Customers: contact details, consent, lifecycle stage, free-form traits, tier and badges."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.customers import DEFAULT_STAGE, CustomerSnapshot
from contracts.events import DATA_MAX_DEPTH
from contracts.records import StepRecord
from store.behaviour import customer_behaviour, segment_members, with_segments
from store.customer_history import bounded_total, customer_history, history_events
from store.engagement_tables import delivery_links, tracked_messages
from store.inserts import dialect_insert, insert_ignore
from store.loyalty_context import HistoryRow, OneToOne, with_context
from store.loyalty_tables import (
    challenge_progress,
    loyalty_events,
    loyalty_members,
    period_points,
    points_lots,
    redemptions,
    referral_attempts,
    referrals,
    vouchers,
)
from store.measure_tables import purchases, stage_changes
from store.policy_tables import counted_sends, send_counts
from store.reading import reading
from store.steps import insert_records
from store.tables import customers, deliveries, points_balances, points_ledger, processed_events, step_events
from store.types import utcnow

#: Trait keys that live in their own columns; every other trait merges into ``traits``.
COLUMN_TRAITS = ("email", "first_name", "last_name", "locale", "timezone")


class Customer(CustomerSnapshot):
    """A customer as the API and the activities see it: the snapshot plus consent and record times."""

    unsubscribed_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    def snapshot(self) -> CustomerSnapshot:
        return CustomerSnapshot.model_validate(self.model_dump(include=_SNAPSHOT_FIELDS))


_SNAPSHOT_FIELDS = set(CustomerSnapshot.model_fields)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _new_row(customer_id: str, at: datetime) -> dict[str, Any]:
    return {"id": customer_id, "traits": {}, "badges": [], "created_at": at, "updated_at": at}


def readable_traits(traits: dict[str, Any]) -> dict[str, Any]:
    """Stored traits as they can be shown and sent on: traits stored before the API bounded them
    (``contracts.events.data_problems``) are cut at ``DATA_MAX_DEPTH`` (deeper objects and lists read
    as null) and lone surrogates read as U+FFFD, so such a customer still reads, updates and erases."""
    return {_readable_text(key): _readable(value, 2) for key, value in traits.items()}


def _readable(value: Any, depth: int) -> Any:
    if isinstance(value, dict):
        if depth > DATA_MAX_DEPTH:
            return None
        return {_readable_text(str(key)): _readable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return None if depth > DATA_MAX_DEPTH else [_readable(item, depth + 1) for item in value]
    if isinstance(value, str):
        return _readable_text(value)
    return value


def _readable_text(text: str) -> str:
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)
    return text


async def ensure_customer(conn: AsyncConnection, customer_id: str, at: datetime | None = None) -> None:
    """Create an empty customer row unless one exists (inside the caller's transaction)."""
    await insert_ignore(conn, customers, _new_row(customer_id, at or utcnow()))


# Built once (its values are parameters): every journey step reads a customer, and building the
# join and its cache key anew each time cost more than running it.
_LOAD_CUSTOMER = (
    sa.select(
        customers,
        sa.func.coalesce(points_balances.c.balance, 0).label("points"),
        sa.func.coalesce(points_balances.c.lifetime, 0).label("lifetime_points"),
    )
    .select_from(customers.outerjoin(points_balances, points_balances.c.customer_id == customers.c.id))
    .where(customers.c.id == sa.bindparam("customer_id"))
)


async def load_customer(conn: AsyncConnection, customer_id: str) -> Customer | None:
    row = (await conn.execute(_LOAD_CUSTOMER, {"customer_id": customer_id})).mappings().first()
    if row is None:
        return None
    values = dict(row)
    values["traits"] = readable_traits(values["traits"] or {})
    values["badges"] = list(values["badges"] or [])
    return Customer.model_validate(values)


def _split_traits(traits: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``traits`` as (values of their own columns, the rest for the ``traits`` column)."""
    columns = {key: _text(traits[key]) for key in COLUMN_TRAITS if key in traits}
    for key in ("first_name", "last_name"):
        if key in columns and columns[key] is None:
            columns[key] = ""
    for key, default in (("locale", "en"), ("timezone", "UTC")):
        if key in columns and not columns[key]:
            columns[key] = default
    return columns, {key: value for key, value in traits.items() if key not in COLUMN_TRAITS}


def merge_traits(conn: sa.Connection, changes: Sequence[tuple[str, Mapping[str, Any]]], at: datetime) -> None:
    """Create each customer of ``changes`` if missing and merge its traits into it, in order (a later
    change of the same customer wins key by key), inside the caller's transaction (synchronous: run it
    with ``AsyncConnection.run_sync``, or in ``store.sqlite_thread``).

    A statement or two whatever the number of changes: a read of the free-form traits being merged
    into (only if some are), then one upsert (``INSERT ... ON CONFLICT DO UPDATE``, the rows as
    parameters) per set of columns changed.
    """
    merged: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for customer_id, traits in changes:
        columns, extra = _split_traits(traits)
        into = merged.setdefault(customer_id, ({}, {}))
        into[0].update(columns)
        into[1].update(extra)
    current: dict[str, dict[str, Any]] = {}
    if with_extra := [cid for cid, (_, extra) in merged.items() if extra]:
        rows = conn.execute(
            sa.select(customers.c.id, customers.c.traits)
            .where(customers.c.id.in_(with_extra))
            .with_for_update()
        )
        current = {cid: traits or {} for cid, traits in rows}
    shapes: dict[tuple[tuple[str, ...], bool], list[dict[str, Any]]] = {}
    for customer_id, (columns, extra) in merged.items():
        row = {**_new_row(customer_id, at), **columns, "traits": {**current.get(customer_id, {}), **extra}}
        shapes.setdefault((tuple(sorted(columns)), bool(extra)), []).append(row)
    for (keys, with_traits), rows_of_shape in shapes.items():
        conn.execute(_upsert_of(conn.dialect.name, keys, with_traits), rows_of_shape)


@functools.cache
def _upsert_of(dialect: str, keys: tuple[str, ...], with_traits: bool) -> sa.Insert:
    """A new customer row, or, for one that exists, its ``keys`` (and ``traits``) and ``updated_at``."""
    insert = dialect_insert(dialect)(customers)
    changed = [*keys, "updated_at", *(["traits"] if with_traits else [])]
    return insert.on_conflict_do_update(
        index_elements=[customers.c.id], set_={key: insert.excluded[key] for key in changed}
    )


_LOAD_SNAPSHOTS = (
    sa.select(
        customers,
        sa.func.coalesce(points_balances.c.balance, 0).label("points"),
        sa.func.coalesce(points_balances.c.lifetime, 0).label("lifetime_points"),
    )
    .select_from(customers.outerjoin(points_balances, points_balances.c.customer_id == customers.c.id))
    .where(customers.c.id.in_(sa.bindparam("customer_ids", expanding=True)))
)


# The same with the rows a customer has at most one of that ``customer.loyalty`` and ``.history``
# read (``store.loyalty_context``), under names of their own: one statement instead of four.
_ONE_TO_ONE = {
    "_tier": loyalty_members.c.tier,
    "_history": customer_history.c.customer_id,
    "_purchase_count": customer_history.c.purchase_count,
    "_purchase_total": customer_history.c.purchase_total,
    "_last_purchase_at": customer_history.c.last_purchase_at,
    "_categories": customer_history.c.categories,
}
_LOAD_SNAPSHOTS_WITH_CONTEXT = (
    sa.select(
        customers,
        sa.func.coalesce(points_balances.c.balance, 0).label("points"),
        sa.func.coalesce(points_balances.c.lifetime, 0).label("lifetime_points"),
        *(column.label(name) for name, column in _ONE_TO_ONE.items()),
    )
    .select_from(
        customers.outerjoin(points_balances, points_balances.c.customer_id == customers.c.id)
        .outerjoin(loyalty_members, loyalty_members.c.customer_id == customers.c.id)
        .outerjoin(customer_history, customer_history.c.customer_id == customers.c.id)
    )
    .where(customers.c.id.in_(sa.bindparam("customer_ids", expanding=True)))
)


def load_snapshots(
    conn: sa.Connection, customer_ids: Sequence[str], *, at: datetime, context: bool = True
) -> dict[str, CustomerSnapshot]:
    """What a journey sees of each customer at ``at``, in one read (as ``CustomerRepository.snapshot``:
    ``exists=False`` for an id the store does not know); synchronous, as ``merge_traits``.

    ``at`` is the reader's time, never read here: a workflow's time (``workflow.now()``, carried by its
    activity requests) inside a run, the API's now elsewhere. ``customer.loyalty.expiring_soon`` and
    ``customer.history.days_since_last_purchase`` are measured from it."""
    unique = list(dict.fromkeys(customer_ids))
    found: dict[str, CustomerSnapshot] = {}
    read = OneToOne({}, {}, {})
    if unique:
        query = _LOAD_SNAPSHOTS_WITH_CONTEXT if context else _LOAD_SNAPSHOTS
        for row in conn.execute(query, {"customer_ids": unique}).mappings():
            values = dict(row)
            if context:
                _split_one_to_one(values, read)
            values["traits"] = readable_traits(values["traits"] or {})
            values["badges"] = list(values["badges"] or [])
            found[values["id"]] = CustomerSnapshot.model_validate(values)
    if context:  # customer.loyalty and .history (segments not reading them leave them out)
        found = with_context(conn, found, at, read)
    found = with_segments(conn, found)  # customer.segments
    return {cid: found.get(cid) or CustomerSnapshot(id=cid, exists=False, subscribed=False) for cid in unique}


def _split_one_to_one(values: dict[str, Any], into: OneToOne) -> None:
    """Move a joined row's one-to-one columns (``_ONE_TO_ONE``) from ``values`` into ``into``."""
    extra = {name: values.pop(name) for name in _ONE_TO_ONE}
    customer_id = values["id"]
    into.balances[customer_id] = (int(values["points"]), int(values["lifetime_points"]))
    into.tiers[customer_id] = extra["_tier"]
    if extra["_history"] is not None:
        into.histories[customer_id] = HistoryRow(
            int(extra["_purchase_count"]),
            bounded_total(float(extra["_purchase_total"])),
            extra["_last_purchase_at"],
            extra["_categories"],
        )


class CustomerRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, customer_id: str) -> Customer | None:
        async with reading(self._engine).connect() as conn:
            return await load_customer(conn, customer_id)

    async def snapshot(self, customer_id: str, at: datetime | None = None) -> CustomerSnapshot:
        """What a journey sees of the customer at ``at`` (a workflow's time; None: now, for the API
        and the router); ``exists=False`` for an unknown id."""
        when = at or utcnow()
        async with reading(self._engine).connect() as conn:
            return (await conn.run_sync(lambda sync: load_snapshots(sync, [customer_id], at=when)))[
                customer_id
            ]

    async def upsert(self, customer_id: str, traits: Mapping[str, Any]) -> Customer:
        """Create the customer if missing and merge ``traits`` into it (keys not given are kept)."""
        async with self._engine.begin() as conn:
            await conn.run_sync(merge_traits, [(customer_id, traits)], utcnow())
            customer = await load_customer(conn, customer_id)
        assert customer is not None
        return customer

    async def set_stage(
        self, customer_id: str, stage: str, at: datetime | None = None, records: Sequence[StepRecord] = ()
    ) -> tuple[str, str]:
        """Move the customer to ``stage`` (creating it if unknown); returns (previous, new). The step
        ``records`` that led here are written in the same transaction."""
        async with self._engine.begin() as conn:
            await insert_records(conn, records)
            await ensure_customer(conn, customer_id, at)
            previous = await conn.scalar(
                sa.select(customers.c.stage).where(customers.c.id == customer_id).with_for_update()
            )
            await conn.execute(
                customers.update()
                .where(customers.c.id == customer_id)
                .values(stage=stage, updated_at=at or utcnow())
            )
            if str(previous or DEFAULT_STAGE) != stage:  # the stage history the lifecycle report reads
                journey = records[0].journey if records else None
                await conn.execute(
                    stage_changes.insert().values(
                        customer_id=customer_id,
                        from_stage=str(previous or DEFAULT_STAGE),
                        to_stage=stage,
                        journey=journey,
                        at=at or utcnow(),
                    )
                )
        return str(previous or DEFAULT_STAGE), stage

    async def unsubscribe(self, customer_id: str, at: datetime | None = None) -> None:
        """Withdraw consent to marketing email; remembered even for a customer not seen before."""
        now = at or utcnow()
        async with self._engine.begin() as conn:
            await ensure_customer(conn, customer_id, now)
            await conn.execute(
                customers.update()
                .where(customers.c.id == customer_id, customers.c.subscribed.is_(True))
                .values(subscribed=False, unsubscribed_at=now, updated_at=now)
            )

    async def forget(self, customer_id: str) -> bool:
        """Erase the customer's personal data (right to erasure); False if the id was unknown.

        The customer row goes; ledger, deliveries, step events and processed events stay for the
        books and the counts, under a random id that cannot be traced back, without the address
        or the emails' bodies.
        """
        alias = f"forgotten-{uuid.uuid4().hex}"
        async with self._engine.begin() as conn:
            deleted = await conn.execute(customers.delete().where(customers.c.id == customer_id))
            tracked = tracked_messages.c  # tracked emails stay for the counts; their links (URLs) go
            theirs = sa.select(tracked.message).where(tracked.customer_id == customer_id)
            await conn.execute(delivery_links.delete().where(delivery_links.c.message.in_(theirs)))
            await conn.execute(
                tracked_messages.update().where(tracked.customer_id == customer_id).values(customer_id=alias)
            )
            for table in (points_balances, points_ledger, step_events, processed_events, purchases):
                await conn.execute(
                    table.update().where(table.c.customer_id == customer_id).values(customer_id=alias)
                )
            for table in (customer_history, history_events, stage_changes):  # purchase and stage history
                await conn.execute(table.delete().where(table.c.customer_id == customer_id))
            for table in (customer_behaviour, segment_members):  # behaviour aggregates, segments
                await conn.execute(table.delete().where(table.c.customer_id == customer_id))
            for table in (period_points, challenge_progress, loyalty_members):  # referral code, boards
                await conn.execute(table.delete().where(table.c.customer_id == customer_id))
            for table in (points_lots, loyalty_events):  # the wallet's lots, the events applied
                await conn.execute(table.delete().where(table.c.customer_id == customer_id))
            await conn.execute(redemptions.delete().where(redemptions.c.customer_id == customer_id))
            for table in (send_counts, counted_sends):  # the channel policy's counters of their sends
                await conn.execute(table.delete().where(table.c.customer_id == customer_id))
            await conn.execute(  # codes issued stay issued (never handed out again), to nobody
                vouchers.update()
                .where(vouchers.c.customer_id == customer_id)
                .values(customer_id=None, redemption_key=None)
            )
            for column in (
                referrals.c.referee_id,
                referrals.c.referrer_id,
                referral_attempts.c.referee_id,
                referral_attempts.c.referrer_id,
            ):
                await conn.execute(column.table.delete().where(column == customer_id))
            await conn.execute(
                deliveries.update()
                .where(deliveries.c.customer_id == customer_id)
                .values(customer_id=alias, recipient=None, html=None, text=None)
            )
        return deleted.rowcount > 0

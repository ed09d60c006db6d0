"""Each customer's purchase history, kept on ingest: what ``customer.history`` reads.

A ``purchase_completed`` event adds to its customer's row of ``customer_history`` (count, total,
last purchase, how often each category was bought) in the transaction that claims the event
(``store.events``). ``history_events`` remembers each event counted, so an event claimed again (its
delivery failed and its sender retried, or its claim was taken over) is counted once.

What is read from an event is bounded whatever it holds: ``total`` counts when it is a finite number
of 0 or more (else 0; at most ``MOST_PURCHASE``), a customer's total stays at most ``MOST_TOTAL`` (so
it is always a finite number, however many purchases), ``categories`` when a list (at most
``MOST_CATEGORIES_PER_EVENT`` texts of at most ``MOST_CATEGORY_LENGTH`` characters, repeats once), and
a customer keeps the counts of at most ``MOST_CATEGORIES`` categories (the least bought make room).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from store.inserts import insert_many_ignore_sync
from store.numbers import finite_number
from store.tables import metadata
from store.types import UTCDateTime

PURCHASE_EVENT = "purchase_completed"
MOST_CATEGORIES = 50
MOST_CATEGORIES_PER_EVENT = 20
MOST_CATEGORY_LENGTH = 100
MOST_PURCHASE = 10**13  # ten trillion in currency units: far beyond any one order
MOST_TOTAL = 1e18  # a customer's lifetime total: a hundred thousand of the largest orders

customer_history = sa.Table(
    "customer_history",
    metadata,
    sa.Column("customer_id", sa.String(200), primary_key=True),
    sa.Column("purchase_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("purchase_total", sa.Float(), nullable=False, server_default="0"),
    sa.Column("last_purchase_at", UTCDateTime(), nullable=True),
    sa.Column("categories", sa.JSON(), nullable=False),  # category -> purchases that named it
)

history_events = sa.Table(
    "history_events",
    metadata,
    sa.Column("event_id", sa.String(200), primary_key=True),
    sa.Column("customer_id", sa.String(200), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
)


@dataclass(frozen=True)
class Purchase:
    event_id: str
    customer_id: str
    at: datetime
    total: float
    categories: tuple[str, ...]


def purchase_of(
    event_id: str, customer_id: str, name: str, at: datetime, properties: Mapping[str, Any] | None
) -> Purchase | None:
    """The purchase an event is, or None for any other event."""
    if name != PURCHASE_EVENT:
        return None
    props = properties or {}
    amount = purchase_amount(props.get("total"))
    raw = props.get("categories")
    categories: list[str] = []
    if isinstance(raw, list):
        for item in raw[:MOST_CATEGORIES_PER_EVENT]:
            if isinstance(item, str) and item and item[:MOST_CATEGORY_LENGTH] not in categories:
                categories.append(item[:MOST_CATEGORY_LENGTH])
    return Purchase(event_id, customer_id, at, amount, tuple(categories))


def purchase_amount(value: Any) -> float:
    """A purchase's total as the history counts it: a finite number of 0 or more, at most
    ``MOST_PURCHASE`` (compared before any conversion, so a 400-digit integer is no overflow)."""
    number = finite_number(value)
    return 0.0 if number is None or number < 0 else float(min(number, MOST_PURCHASE))


def bounded_total(value: float) -> float:
    """A customer's purchase total as read: finite and within ``[0, MOST_TOTAL]`` (a row written
    before the bound, or by hand, reads so too: never an infinity that no snapshot can carry)."""
    if math.isnan(value) or value < 0:
        return 0.0
    return min(value, MOST_TOTAL)


_SELECT = sa.select(customer_history).where(
    customer_history.c.customer_id.in_(sa.bindparam("customer_ids", expanding=True))
)


Event = tuple[str, str, str, datetime | None, Mapping[str, Any] | None]  # id, customer, name, at, properties


def record_history(conn: sa.Connection, events: Sequence[Event], now: datetime) -> None:
    """Add the purchases among ``events`` to their customers' history, each event once ever (an
    event without a time counts at ``now``). Synchronous: inside the intake's transaction (see
    ``store.events``); a few statements whatever the number of events, none without a purchase."""
    found = (purchase_of(eid, cid, name, at or now, props) for eid, cid, name, at, props in events)
    record_purchases(conn, [purchase for purchase in found if purchase is not None])


def record_purchases(conn: sa.Connection, purchases: Sequence[Purchase]) -> None:
    """Add ``purchases`` to their customers' history, each event once ever."""
    if not purchases:
        return
    rows = [{"event_id": p.event_id, "customer_id": p.customer_id, "at": p.at} for p in purchases]
    counted = insert_many_ignore_sync(conn, history_events, rows, history_events.c.event_id)
    fresh = [p for p in purchases if p.event_id in counted]
    if not fresh:
        return
    ids = sorted({p.customer_id for p in fresh})
    insert_many_ignore_sync(
        conn,
        customer_history,
        [{"customer_id": cid, "purchase_count": 0, "purchase_total": 0.0, "categories": {}} for cid in ids],
        customer_history.c.customer_id,
    )
    current = {row.customer_id: row for row in conn.execute(_SELECT.with_for_update(), {"customer_ids": ids})}
    for cid in ids:
        row = current[cid]
        count, total, last = (
            int(row.purchase_count),
            bounded_total(float(row.purchase_total)),
            row.last_purchase_at,
        )
        categories: dict[str, int] = dict(row.categories or {})
        for purchase in (p for p in fresh if p.customer_id == cid):
            count += 1
            total = min(total + purchase.total, MOST_TOTAL)
            last = purchase.at if last is None or purchase.at > last else last
            for name in purchase.categories:
                categories[name] = categories.get(name, 0) + 1
        if len(categories) > MOST_CATEGORIES:
            kept = sorted(categories.items(), key=lambda item: (-item[1], item[0]))[:MOST_CATEGORIES]
            categories = dict(kept)
        conn.execute(
            customer_history.update()
            .where(customer_history.c.customer_id == cid)
            .values(purchase_count=count, purchase_total=total, last_purchase_at=last, categories=categories)
        )


def top_categories(categories: Mapping[str, int], most: int = 3) -> list[str]:
    """The categories bought most often, ties by name."""
    ranked = sorted(categories.items(), key=lambda item: (-int(item[1]), item[0]))
    return [name for name, _ in ranked[:most]]

"""Each purchase's amount, kept on ingest for revenue reports (``measurement``).

The purchase event is ``purchase_completed`` (``store.customer_history.PURCHASE_EVENT``: the only
event whose properties the intake is handed). Its amount is ``properties.revenue`` when that is a
finite number of 0 or more, else ``properties.total`` likewise, else 0; kept in cents (rounded half
to even), so sums are exact. Bounded: an amount over ``MOST_CENTS`` counts as ``MOST_CENTS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from store.customer_history import MOST_PURCHASE, PURCHASE_EVENT
from store.inserts import insert_many_ignore_sync
from store.measure_tables import purchases
from store.numbers import finite_number

MOST_CENTS = MOST_PURCHASE * 100  # far beyond any order, well inside BigInteger
AMOUNT_KEYS = ("revenue", "total")

Event = tuple[str, str, str, datetime | None, Mapping[str, Any] | None]  # id, customer, name, at, properties


def amount_cents(properties: Mapping[str, Any] | None) -> int:
    """The purchase's amount in cents, as the module docstring says."""
    props = properties or {}
    for key in AMOUNT_KEYS:
        value = finite_number(props.get(key))
        if value is None or value < 0:
            continue
        if value >= MOST_PURCHASE:  # compared first: 1.8e308 times 100 is no number
            return MOST_CENTS
        return round(value * 100)
    return 0


def record_purchases(conn: sa.Connection, events: Sequence[Event], now: datetime) -> None:
    """Keep the purchases among ``events`` (each event once ever; one without a time at ``now``).
    Synchronous: inside the intake's transaction (``store.events``); no statement without a purchase."""
    rows = [
        {"event_id": eid, "customer_id": cid, "at": at or now, "amount_cents": amount_cents(props)}
        for eid, cid, name, at, props in events
        if name == PURCHASE_EVENT
    ]
    if rows:
        insert_many_ignore_sync(conn, purchases, rows, purchases.c.event_id)

"""Suppressed addresses: after a hard bounce or a complaint, no email goes to the address again.

Kept by the SHA-256 of the trimmed, lower-cased address, so a customer's erasure leaves the
suppression in place without keeping the address. The first report of an address is kept; later
ones (a provider retrying its webhook, a complaint after the bounce) change nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from store.engagement_tables import suppressions
from store.inserts import insert_ignore
from store.reading import reading
from store.tables import customers

Kind = Literal["bounce", "complaint"]
MAX_CUSTOMERS = 100  # customers sharing one address that a report unsubscribes


@dataclass(frozen=True)
class Suppressed:
    new: bool  # False: the address was suppressed already (this report changed nothing)
    kind: str  # the kind the address is suppressed for (the first report's)
    customers: list[str]  # customers with this address (at most MAX_CUSTOMERS), by id


def address_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


async def suppress(
    engine: AsyncEngine,
    email: str,
    kind: Kind,
    *,
    reason: str | None,
    message_id: str | None,
    at: datetime,
) -> Suppressed:
    """Suppress ``email`` (idempotent) and answer the customers who have it."""
    key = address_key(email)
    async with engine.begin() as conn:
        new = await insert_ignore(
            conn,
            suppressions,
            {"address": key, "kind": kind, "reason": reason, "message_id": message_id, "at": at},
        )
        kept = await conn.scalar(sa.select(suppressions.c.kind).where(suppressions.c.address == key))
        ids = await conn.scalars(
            sa.select(customers.c.id)
            .where(sa.func.lower(customers.c.email) == email.strip().lower())
            .order_by(customers.c.id)
            .limit(MAX_CUSTOMERS)
        )
        return Suppressed(new=new, kind=str(kept or kind), customers=list(ids))


async def suppression_of(engine: AsyncEngine, email: str) -> str | None:
    """What ``email`` is suppressed for (``bounce``, ``complaint``), or None."""
    query = sa.select(suppressions.c.kind).where(suppressions.c.address == address_key(email))
    async with reading(engine).connect() as conn:
        kind = await conn.scalar(query)
    return None if kind is None else str(kind)

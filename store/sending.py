"""What a send checks first, read in one transaction: was it already delivered, who is the
customer, and is the journey paused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.activities import DeliveryResult
from contracts.customers import CustomerSnapshot
from store.customers import load_snapshots
from store.deliveries import delivery_result
from store.reading import reading
from store.tables import deliveries, journey_state

_DELIVERY = sa.select(deliveries).where(deliveries.c.key == sa.bindparam("key"))
_PAUSED = sa.select(journey_state.c.paused).where(journey_state.c.name == sa.bindparam("journey"))


@dataclass(frozen=True)
class BeforeSend:
    recorded: DeliveryResult | None  # the outcome logged under the key by an earlier attempt
    customer: CustomerSnapshot
    paused: bool


async def before_send(
    engine: AsyncEngine, key: str, customer_id: str, journey: str | None, at: datetime
) -> BeforeSend:
    """``journey`` is checked for a pause when given (None: the caller does not hold on pauses); the
    customer as seen at ``at`` (the send's workflow time)."""
    async with reading(engine).connect() as conn:
        row = (await conn.execute(_DELIVERY, {"key": key})).mappings().first()
        if row is not None:
            return BeforeSend(delivery_result(row), CustomerSnapshot(id=customer_id), paused=False)
        snapshot = (await conn.run_sync(lambda sync: load_snapshots(sync, [customer_id], at=at)))[customer_id]
        paused = journey is not None and bool(await conn.scalar(_PAUSED, {"journey": journey}))
    return BeforeSend(None, snapshot, paused)

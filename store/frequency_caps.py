"""Frequency caps: a marketing send takes a slot in each of its periods, in one transaction, or none.

Each period's counter row is created at zero if missing, then raised by a conditional update
(``count < limit``): of two sends racing for the last slot, the update of one matches and the other
finds the row full (PostgreSQL re-checks the condition on the row the first one committed; SQLite
runs the two one after the other). A send that holds its slots is remembered by its key
(``counted_sends``), so a retry of the same send never counts twice; a send that failed for good
gives its slots back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.inserts import insert_ignore
from store.policy_tables import counted_sends, send_counts


@dataclass(frozen=True)
class Slot:
    period: str  # day:2026-12-02, week:2026-W49
    limit: int


class _Full(Exception):
    def __init__(self, index: int) -> None:
        self.index = index


class _Counted(Exception):
    """Another attempt of the same key took the slots meanwhile."""


async def take_slots(
    engine: AsyncEngine, key: str, customer_id: str, channel: str, slots: Sequence[Slot], at: datetime
) -> int | None:
    """Take a slot of every period in ``slots`` for the send ``key``: None when it holds them (now,
    or since an earlier attempt), else the index of the first period that is full (nothing taken)."""
    if not slots:
        return None
    try:
        async with engine.begin() as conn:
            if await _holds(conn, key):
                return None
            for index, slot in enumerate(slots):
                if not await _raise(conn, customer_id, channel, slot):
                    raise _Full(index)  # rolls back the slots taken in earlier periods
            row = {
                "key": key,
                "customer_id": customer_id,
                "channel": channel,
                "periods": [slot.period for slot in slots],
                "at": at,
            }
            if not await insert_ignore(conn, counted_sends, row):
                raise _Counted
    except _Full as full:
        return full.index
    except _Counted:
        return None
    return None


async def give_back(engine: AsyncEngine, key: str) -> None:
    """The send ``key`` failed for good: its slots are free again (nothing when it holds none)."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                sa.select(
                    counted_sends.c.customer_id, counted_sends.c.channel, counted_sends.c.periods
                ).where(counted_sends.c.key == key)
            )
        ).first()
        if row is None:
            return
        await conn.execute(counted_sends.delete().where(counted_sends.c.key == key))
        await conn.execute(
            send_counts.update()
            .where(
                send_counts.c.customer_id == row.customer_id,
                send_counts.c.channel == row.channel,
                send_counts.c.period.in_(list(row.periods)),
                send_counts.c.count > 0,
            )
            .values(count=send_counts.c.count - 1)
        )


async def counts(engine: AsyncEngine, customer_id: str, channel: str) -> dict[str, int]:
    """The customer's counters on ``channel`` by period (what the timeline and tests read)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(send_counts.c.period, send_counts.c.count).where(
                send_counts.c.customer_id == customer_id, send_counts.c.channel == channel
            )
        )
        return {row.period: int(row[1]) for row in rows}


async def _holds(conn: AsyncConnection, key: str) -> bool:
    found = await conn.scalar(sa.select(counted_sends.c.key).where(counted_sends.c.key == key))
    return found is not None


async def _raise(conn: AsyncConnection, customer_id: str, channel: str, slot: Slot) -> bool:
    where = (
        send_counts.c.customer_id == customer_id,
        send_counts.c.channel == channel,
        send_counts.c.period == slot.period,
    )
    await insert_ignore(
        conn, send_counts, {"customer_id": customer_id, "channel": channel, "period": slot.period, "count": 0}
    )
    result = await conn.execute(
        send_counts.update()
        .where(*where, send_counts.c.count < slot.limit)
        .values(count=send_counts.c.count + 1)
    )
    return result.rowcount == 1

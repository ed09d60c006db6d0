"""Spending points from lots: first in, first out (the lot that expires soonest gives first).

Every spend (a raw redemption, a reward) calls ``consume_fifo`` inside its own transaction, after it
has locked the customer's ``points_balances`` row (the same lock order as earning and expiry, so
they never deadlock) and checked the balance. The caller books the ledger row and the balance; this
module only lowers the lots' ``remaining`` by the same amount, which keeps
``balance == sum(remaining of available lots)``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from store.loyalty_tables import points_lots

Taken = tuple[int, int]  # (lot id, points taken from it)


def _oldest_first(customer_id: str) -> sa.Select[int, int]:
    lots = points_lots.c
    return (
        sa.select(lots.id, lots.remaining)
        .where(lots.customer_id == customer_id, lots.status == "available", lots.remaining > 0)
        # Soonest expiry first; lots that never expire (no program when earned) last; then by age.
        .order_by(lots.expires_at.is_(None), lots.expires_at, lots.id)
        .with_for_update()  # FOR UPDATE on PostgreSQL; SQLite's write lock is the database's
    )


async def consume_fifo(conn: AsyncConnection, customer_id: str, points: int, at: datetime) -> list[Taken]:
    """Take ``points`` from the customer's available lots, soonest expiry first; what was taken.

    A lot whose expiry has passed but which ``settle`` has not expired yet still counts in the
    balance, so it gives first (its points would be gone next). A lot left with nothing is
    ``spent``. When the lots hold less than ``points`` (points from before lots existed), the
    lots give all they have and the caller's balance covers the rest. ``at`` is the spend's time,
    kept for the signature every spend shares.
    """
    del at  # the order does not depend on it (see above)
    if points <= 0:
        return []
    taken: list[Taken] = []
    owed = points
    for lot_id, remaining in (await conn.execute(_oldest_first(customer_id))).all():
        take = min(owed, int(remaining))
        left = int(remaining) - take
        await conn.execute(
            points_lots.update()
            .where(points_lots.c.id == lot_id)
            .values(remaining=left, status="spent" if left == 0 else "available")
        )
        taken.append((int(lot_id), take))
        owed -= take
        if owed == 0:
            break
    return taken

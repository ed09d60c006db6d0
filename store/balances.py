"""A customer's points balance read under its row lock: the one way every change to a wallet starts
(awards, redemptions, earning, settling, grants), so that one customer's points change one
transaction at a time and each reads the balance it will write over."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from store.inserts import insert_ignore
from store.tables import points_balances


async def locked_balance(conn: AsyncConnection, customer_id: str) -> tuple[int, int]:
    """The customer's (balance, lifetime), their row created at zero if missing and locked for the rest
    of this transaction (``FOR UPDATE`` on PostgreSQL; SQLite's writer lock serialises anyway)."""
    await insert_ignore(conn, points_balances, {"customer_id": customer_id, "balance": 0, "lifetime": 0})
    row = (
        await conn.execute(
            sa.select(points_balances.c.balance, points_balances.c.lifetime)
            .where(points_balances.c.customer_id == customer_id)
            .with_for_update()
        )
    ).one()
    return int(row.balance), int(row.lifetime)

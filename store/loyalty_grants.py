"""What referrals and challenges give: points as an available lot (with its ledger row and balance) and
a badge, once per key, inside the caller's transaction; and the pieces their events share.

A grant's points are available at once (they reward something already done, not a purchase that may
be returned): the lot joins the balance in the same transaction, so the wallet's invariant
(balance == remaining of available lots) holds, and the period's leaderboard points grow with it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.events import CustomerEvent
from contracts.ids import ID_MAX_LENGTH
from engine.loyalty.program import Program
from store.balances import locked_balance
from store.customers import ensure_customer, load_customer
from store.inserts import insert_ignore
from store.leaderboards import add_period_points
from store.loyalty_tables import points_lots
from store.tables import customers, points_balances, points_ledger


async def grant(
    conn: AsyncConnection,
    program: Program,
    customer_id: str,
    *,
    key: str,
    points: int,
    badge: str | None,
    reason: str,
    rule: str,
    at: datetime,
) -> CustomerEvent | None:
    """Give ``points`` (an available lot keyed ``key``) and ``badge``; the ``points_earned`` to emit
    (None for a grant of no points), also when ``key`` was given before (nothing changes then)."""
    await ensure_customer(conn, customer_id, at)
    lot = {
        "key": key,
        "customer_id": customer_id,
        "rule": rule,
        "reason": reason,
        "points": points,
        "remaining": points,
        "status": "available",
        "earned_at": at,
        "available_at": at,
        "expires_at": at + timedelta(seconds=program.expiry_seconds),
        "settled_at": at,
    }
    earned = (
        emitted(
            "points_earned",
            customer_id,
            {"points": points, "rule": rule, "available_at": at.isoformat(), "pending": False},
            at,
            key,
        )
        if points > 0
        else None
    )
    if not await insert_ignore(conn, points_lots, lot):
        return earned
    balance, lifetime = await locked_balance(conn, customer_id)
    balance, lifetime = balance + points, lifetime + points
    person = (
        await conn.execute(
            sa.select(customers.c.tier, customers.c.badges)
            .where(customers.c.id == customer_id)
            .with_for_update()
        )
    ).one()
    badges = list(person.badges or [])
    badge_new = badge is not None and badge not in badges
    if badge_new:
        badges.append(badge)
        await conn.execute(customers.update().where(customers.c.id == customer_id).values(badges=badges))
    await insert_ignore(
        conn,
        points_ledger,
        {
            "key": key,
            "customer_id": customer_id,
            "delta": points,
            "reason": reason,
            "rule": rule,
            "balance_after": balance,
            "lifetime_after": lifetime,
            "tier_before": person.tier,
            "tier_after": person.tier,
            "badge": badge,
            "badge_new": badge_new,
            "created_at": at,
        },
    )
    await conn.execute(
        points_balances.update()
        .where(points_balances.c.customer_id == customer_id)
        .values(balance=balance, lifetime=lifetime)
    )
    await add_period_points(conn, customer_id, points, at)
    return earned


def event_id(kind: str, *parts: str) -> str:
    """``loyalty/<kind>/<parts...>``: the same parts give the same id (emitting twice is once); parts too
    long for an id are replaced by their digest."""
    whole = "/".join(("loyalty", kind, *parts))
    if len(whole) <= ID_MAX_LENGTH:
        return whole
    digest = hashlib.sha256("/".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"loyalty/{kind}/{digest}"


def emitted(
    kind: str, customer_id: str, properties: dict[str, Any], at: datetime, *parts: str
) -> CustomerEvent:
    return CustomerEvent(
        event_id=event_id(kind, *parts),
        customer_id=customer_id,
        name=kind,
        properties=properties,
        timestamp=at,
    )


async def condition_context(conn: AsyncConnection, customer_id: str, event: CustomerEvent) -> dict[str, Any]:
    """What a program's ``where`` sees: ``customer`` (as journeys see it) and ``event``."""
    customer = await load_customer(conn, customer_id)
    seen = customer.snapshot().as_context() if customer is not None else {"id": customer_id, "exists": False}
    return {"customer": seen, "event": event.as_context()}

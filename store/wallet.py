"""The wallet as lots: earning from the program's rules (per-day cap), pending -> available, refunds,
expiry reminders and expiry, all inside the caller's transaction (``activities.loyalty``).

Every change is keyed: a lot by ``earn/{event_id}/{rule}``, its ledger rows by the lot's key (when it
becomes available) and ``expire/{key}`` (when it expires), events by ``loyalty/<kind>/...`` ids. The
balance invariant: ``points_balances.balance`` == sum of ``remaining`` of the customer's available
lots; a lot's points join the balance (and lifetime) only when it becomes available.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.events import CustomerEvent
from engine.loyalty.earning import Earned, earnings
from engine.loyalty.program import Program
from store.balances import locked_balance
from store.customers import ensure_customer
from store.inserts import insert_ignore
from store.leaderboards import add_period_points
from store.loyalty_grants import condition_context, emitted
from store.loyalty_outcome import Outcome, earliest
from store.loyalty_tables import points_lots
from store.tables import customers, points_balances, points_ledger

EXPIRED_REASON = "Points expired"
ORDER_REF_MAX = 200


def lot_key(event_id: str, rule: str) -> str:
    return f"earn/{event_id}/{rule}"


def order_ref_of(program: Program, event: CustomerEvent) -> str | None:
    value = event.properties.get(program.source.pending.match_on)
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)[:ORDER_REF_MAX] or None


async def book(
    conn: AsyncConnection,
    customer_id: str,
    *,
    key: str,
    delta: int,
    reason: str,
    rule: str | None,
    at: datetime,
) -> bool:
    """A ledger row ``key`` moving the balance by ``delta`` (lifetime by what it adds); False when
    ``key`` was booked before (nothing changes)."""
    balance, lifetime = await locked_balance(conn, customer_id)
    balance += delta
    lifetime += max(delta, 0)
    tier = await conn.scalar(sa.select(customers.c.tier).where(customers.c.id == customer_id))
    entry: dict[str, Any] = {
        "key": key,
        "customer_id": customer_id,
        "delta": delta,
        "reason": reason[:500],
        "rule": rule,
        "balance_after": balance,
        "lifetime_after": lifetime,
        "tier_before": tier,
        "tier_after": tier,
        "created_at": at,
    }
    if not await insert_ignore(conn, points_ledger, entry):
        return False
    await conn.execute(
        points_balances.update()
        .where(points_balances.c.customer_id == customer_id)
        .values(balance=balance, lifetime=lifetime)
    )
    return True


# Earning.


async def _earned_today(conn: AsyncConnection, customer_id: str, rule: str, at: datetime) -> int:
    start = datetime.combine(at.astimezone(UTC).date(), time(), tzinfo=UTC)
    total = await conn.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(points_lots.c.points), 0)).where(
            points_lots.c.customer_id == customer_id,
            points_lots.c.rule == rule,
            points_lots.c.status != "cancelled",
            points_lots.c.earned_at >= start,
            points_lots.c.earned_at < start + timedelta(days=1),
        )
    )
    return int(total or 0)


def _earned_event(customer_id: str, lot: dict[str, Any]) -> CustomerEvent:
    pending = lot["status"] == "pending"
    return emitted(
        "points_earned",
        customer_id,
        {
            "points": lot["points"],
            "rule": lot["rule"],
            "available_at": lot["available_at"].isoformat(),
            "pending": pending,
        },
        lot["earned_at"],
        lot["key"],
    )


async def _earn(
    conn: AsyncConnection,
    program: Program,
    customer_id: str,
    event: CustomerEvent,
    earned: Earned,
    at: datetime,
) -> CustomerEvent | None:
    key = lot_key(event.event_id, earned.rule)
    existing = (await conn.execute(sa.select(points_lots).where(points_lots.c.key == key))).mappings().first()
    if existing is not None:  # applied before: say the same again
        return _earned_event(customer_id, dict(existing))
    points = earned.points
    if earned.per_day is not None:
        points = min(points, max(earned.per_day - await _earned_today(conn, customer_id, earned.rule, at), 0))
    if points <= 0:
        return None
    available_at = at + timedelta(seconds=program.pending_seconds) if earned.pending else at
    lot: dict[str, Any] = {
        "key": key,
        "customer_id": customer_id,
        "rule": earned.rule,
        "reason": earned.reason[:500],
        "points": points,
        "remaining": points,
        "status": "pending" if earned.pending else "available",
        "order_ref": order_ref_of(program, event),
        "event_id": event.event_id,
        "earned_at": at,
        "available_at": available_at,
        "expires_at": None if earned.pending else available_at + timedelta(seconds=program.expiry_seconds),
        "settled_at": None if earned.pending else at,
    }
    if not await insert_ignore(conn, points_lots, lot):
        return None  # a concurrent apply of this event won
    if not earned.pending:
        await book(conn, customer_id, key=key, delta=points, reason=earned.reason, rule=earned.rule, at=at)
        await add_period_points(conn, customer_id, points, at)  # leaderboards: earned when available
    return _earned_event(customer_id, lot)


async def _cancel_order(
    conn: AsyncConnection, customer_id: str, order_ref: str, event: CustomerEvent, at: datetime
) -> list[CustomerEvent]:
    """Cancel the order's pending lots (never available ones); ``points_cancelled`` for what was."""
    rows = (
        await conn.execute(
            sa.select(points_lots.c.id, points_lots.c.key, points_lots.c.points)
            .where(
                points_lots.c.customer_id == customer_id,
                points_lots.c.order_ref == order_ref,
                points_lots.c.status == "pending",
            )
            .with_for_update()
        )
    ).all()
    if not rows:
        return []
    await conn.execute(
        points_lots.update()
        .where(points_lots.c.id.in_([row.id for row in rows]), points_lots.c.status == "pending")
        .values(status="cancelled", remaining=0, settled_at=at)
    )
    return [
        emitted(
            "points_cancelled",
            customer_id,
            {"points": sum(int(row.points) for row in rows), "order_ref": order_ref},
            at,
            event.event_id,
        )
    ]


async def on_event(
    conn: AsyncConnection, program: Program, customer_id: str, event: CustomerEvent, at: datetime
) -> Outcome:
    """What ``event`` earns under the program's rules (as lots), or cancels (a refund)."""
    outcome = Outcome()
    pending = program.source.pending
    if pending.refund_event is not None and event.name == pending.refund_event:
        order_ref = order_ref_of(program, event)
        if order_ref is not None:
            await locked_balance(conn, customer_id)  # one customer's wallet changes one at a time
            outcome.events.extend(await _cancel_order(conn, customer_id, order_ref, event, at))
    if not any(rule.event == event.name for rule in program.source.earning):
        return outcome
    await ensure_customer(conn, customer_id, at)
    await locked_balance(conn, customer_id)  # the per-day cap is read and used under this lock
    context = await condition_context(conn, customer_id, event)
    tier = await conn.scalar(sa.select(customers.c.tier).where(customers.c.id == customer_id))
    for earned in earnings(program, event.name, context, tier=tier, on=at.astimezone(UTC).date()):
        made = await _earn(conn, program, customer_id, event, earned, at)
        if made is not None:
            outcome.events.append(made)
    return outcome


# Settling: lots falling due at ``at``.


async def _make_available(
    conn: AsyncConnection, program: Program, customer_id: str, at: datetime
) -> list[CustomerEvent]:
    rows = (
        (
            await conn.execute(
                sa.select(points_lots)
                .where(
                    points_lots.c.customer_id == customer_id,
                    points_lots.c.status == "pending",
                    points_lots.c.available_at <= at,
                )
                .order_by(points_lots.c.available_at, points_lots.c.id)
                .with_for_update()
            )
        )
        .mappings()
        .all()
    )
    events = []
    for lot in rows:
        await conn.execute(
            points_lots.update()
            .where(points_lots.c.id == lot["id"])
            .values(
                status="available",
                remaining=lot["points"],
                expires_at=lot["available_at"] + timedelta(seconds=program.expiry_seconds),
                settled_at=at,
            )
        )
        await book(
            conn,
            customer_id,
            key=lot["key"],
            delta=lot["points"],
            reason=lot["reason"],
            rule=lot["rule"],
            at=at,
        )
        await add_period_points(conn, customer_id, lot["points"], at)  # leaderboards
        events.append(
            emitted(
                "points_available",
                customer_id,
                {"points": lot["points"], "rule": lot["rule"]},
                at,
                "available",
                lot["key"],
            )
        )
    return events


def _by_date(rows: list[Any]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.expires_at.astimezone(UTC).date().isoformat(), []).append(row)
    return groups


async def _remind(
    conn: AsyncConnection, program: Program, customer_id: str, at: datetime
) -> list[CustomerEvent]:
    rows = (
        await conn.execute(
            sa.select(points_lots.c.id, points_lots.c.remaining, points_lots.c.expires_at)
            .where(
                points_lots.c.customer_id == customer_id,
                points_lots.c.status == "available",
                points_lots.c.remaining > 0,
                points_lots.c.reminded_at.is_(None),
                points_lots.c.expires_at <= at + timedelta(seconds=program.remind_seconds),
                points_lots.c.expires_at > at,
            )
            .order_by(points_lots.c.expires_at, points_lots.c.id)
            .with_for_update()
        )
    ).all()
    if not rows:
        return []
    await conn.execute(
        points_lots.update().where(points_lots.c.id.in_([row.id for row in rows])).values(reminded_at=at)
    )
    return [
        emitted(
            "points_expiring",
            customer_id,
            {
                "points": sum(int(row.remaining) for row in group),
                "expires_at": group[0].expires_at.isoformat(),
            },
            at,
            customer_id,
            day,
            str(group[0].id),
        )
        for day, group in _by_date(list(rows)).items()
    ]


async def _expire(conn: AsyncConnection, customer_id: str, at: datetime) -> list[CustomerEvent]:
    rows = (
        await conn.execute(
            sa.select(points_lots.c.id, points_lots.c.key, points_lots.c.remaining, points_lots.c.expires_at)
            .where(
                points_lots.c.customer_id == customer_id,
                points_lots.c.status == "available",
                points_lots.c.expires_at <= at,
            )
            .order_by(points_lots.c.expires_at, points_lots.c.id)
            .with_for_update()
        )
    ).all()
    events = []
    for day, group in _by_date(list(rows)).items():
        for row in group:
            await conn.execute(
                points_lots.update()
                .where(points_lots.c.id == row.id)
                .values(status="expired", remaining=0, settled_at=at)
            )
            if row.remaining > 0:
                await book(
                    conn,
                    customer_id,
                    key=f"expire/{row.key}",
                    delta=-int(row.remaining),
                    reason=EXPIRED_REASON,
                    rule=None,
                    at=at,
                )
        points = sum(int(row.remaining) for row in group)
        if points > 0:
            events.append(
                emitted(
                    "points_expired", customer_id, {"points": points}, at, customer_id, day, str(group[0].id)
                )
            )
    return events


async def next_due(conn: AsyncConnection, program: Program, customer_id: str) -> datetime | None:
    """When this customer's wallet next needs settling: a lot becoming available, a reminder, an expiry."""
    lots = points_lots.c
    available = await conn.scalar(
        sa.select(sa.func.min(lots.available_at)).where(
            lots.customer_id == customer_id, lots.status == "pending"
        )
    )
    expires = await conn.scalar(
        sa.select(sa.func.min(lots.expires_at)).where(
            lots.customer_id == customer_id, lots.status == "available"
        )
    )
    unreminded = await conn.scalar(
        sa.select(sa.func.min(lots.expires_at)).where(
            lots.customer_id == customer_id,
            lots.status == "available",
            lots.remaining > 0,
            lots.reminded_at.is_(None),
        )
    )
    remind = unreminded - timedelta(seconds=program.remind_seconds) if unreminded is not None else None
    return earliest(available, expires, remind)


async def settle(conn: AsyncConnection, program: Program, customer_id: str, at: datetime) -> Outcome:
    """Lots due by ``at``: pending ones become available, reminders go out, expired ones leave."""
    await locked_balance(conn, customer_id)
    events = await _make_available(conn, program, customer_id, at)
    events += await _expire(conn, customer_id, at)
    events += await _remind(conn, program, customer_id, at)
    return Outcome(events=events, next_due=await next_due(conn, program, customer_id))

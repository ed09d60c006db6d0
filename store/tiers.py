"""Tiers: qualification on lifetime points or a rolling window, immediate upgrades, periodic reviews
with a grace period, a warning ahead of a downgrade, and the downgrade (inside the caller's transaction).

The member's tier state lives in ``loyalty_members``; ``customers.tier`` is kept equal to it (the rest
of Journeys reads that column). Window points: points of non-cancelled lots that became available in
the last ``window_months`` x 30 days. Reviews fall every ``review_every`` from the day the member got
the tier; only the reviews that can find them below are scheduled (a lifetime tier never falls).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.events import CustomerEvent
from engine.loyalty.program import Program
from store.customers import ensure_customer
from store.inserts import insert_ignore
from store.loyalty_grants import emitted
from store.loyalty_outcome import Outcome, earliest
from store.loyalty_tables import loyalty_members, points_lots
from store.tables import customers, points_balances

COUNTED = ("available", "spent", "expired")  # lots that became available (not pending, not cancelled)


async def qualifying_points(conn: AsyncConnection, program: Program, customer_id: str, at: datetime) -> int:
    if program.source.tiers.qualify_on == "lifetime":
        lifetime = await conn.scalar(
            sa.select(points_balances.c.lifetime).where(points_balances.c.customer_id == customer_id)
        )
        return int(lifetime or 0)
    total = await conn.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(points_lots.c.points), 0)).where(
            points_lots.c.customer_id == customer_id,
            points_lots.c.status.in_(COUNTED),
            points_lots.c.available_at > at - timedelta(seconds=program.tier_window_seconds),
            points_lots.c.available_at <= at,
        )
    )
    return int(total or 0)


async def _falls_at(
    conn: AsyncConnection, program: Program, customer_id: str, threshold: int, at: datetime
) -> datetime | None:
    """When window points drop below ``threshold`` as lots age out (None: never, for lifetime tiers)."""
    if threshold <= 0 or program.source.tiers.qualify_on == "lifetime":
        return None
    window = timedelta(seconds=program.tier_window_seconds)
    rows = (
        await conn.execute(
            sa.select(points_lots.c.points, points_lots.c.available_at)
            .where(
                points_lots.c.customer_id == customer_id,
                points_lots.c.status.in_(COUNTED),
                points_lots.c.available_at > at - window,
                points_lots.c.available_at <= at,
            )
            .order_by(points_lots.c.available_at)
        )
    ).all()
    total = sum(int(row.points) for row in rows)
    if total < threshold:
        return at
    for row in rows:
        total -= int(row.points)
        if total < threshold:
            became: datetime = row.available_at
            return became + window
    return at  # pragma: no cover - the loop always falls below a positive threshold


async def _member(conn: AsyncConnection, customer_id: str, at: datetime) -> dict[str, Any]:
    await ensure_customer(conn, customer_id, at)
    await insert_ignore(conn, loyalty_members, {"customer_id": customer_id, "updated_at": at})
    row = (
        (
            await conn.execute(
                sa.select(loyalty_members)
                .where(loyalty_members.c.customer_id == customer_id)
                .with_for_update()
            )
        )
        .mappings()
        .one()
    )
    return dict(row)


async def _set(conn: AsyncConnection, customer_id: str, at: datetime, **values: Any) -> None:
    await conn.execute(
        loyalty_members.update()
        .where(loyalty_members.c.customer_id == customer_id)
        .values(updated_at=at, **values)
    )
    if "tier" in values:
        await conn.execute(
            customers.update().where(customers.c.id == customer_id).values(tier=values["tier"], updated_at=at)
        )


def _changed(
    customer_id: str, before: str | None, after: str | None, direction: str, at: datetime
) -> CustomerEvent:
    return emitted(
        "tier_changed",
        customer_id,
        {"from": before, "to": after, "direction": direction, "tier": after, "previous_tier": before},
        at,
        customer_id,
        str(after),
        at.isoformat(),
    )


async def upgrade(
    conn: AsyncConnection, program: Program, customer_id: str, at: datetime
) -> tuple[str | None, str | None]:
    """Raise the member to the tier their points reach now (never lowers); (before, after)."""
    member = await _member(conn, customer_id, at)
    before = member["tier"]
    reached = program.qualifying_tier(await qualifying_points(conn, program, customer_id, at))
    if reached is None or program.tier_rank(reached.name) <= program.tier_rank(before):
        return before, before
    await _set(
        conn,
        customer_id,
        at,
        tier=reached.name,
        tier_since=at,
        below_since=None,
        downgrade_at=None,
        warned_at=None,
    )
    return before, reached.name


def _next_review(program: Program, since: datetime, not_before: datetime) -> datetime:
    period = timedelta(seconds=program.review_seconds)
    steps = max(1, -(-(not_before - since) // period))  # ceiling, at least one period after since
    return since + steps * period


async def settle(conn: AsyncConnection, program: Program, customer_id: str, at: datetime) -> Outcome:
    """Upgrade at once; at reviews, start the grace of a member found below; warn; downgrade at its end."""
    before, after = await upgrade(conn, program, customer_id, at)
    events = [_changed(customer_id, before, after, "up", at)] if after != before else []
    member = await _member(conn, customer_id, at)
    tier = program.tier(member["tier"])
    if tier is None:
        return Outcome(events=events)
    points = await qualifying_points(conn, program, customer_id, at)
    below = points < tier.threshold
    since = member["reviewed_at"] or member["tier_since"] or at
    if member["downgrade_at"] is not None and not below:  # requalified: the grace is over
        await _set(conn, customer_id, at, below_since=None, downgrade_at=None, warned_at=None)
        member.update(below_since=None, downgrade_at=None, warned_at=None)
    if member["downgrade_at"] is None and below and at >= _next_review(program, since, since):
        downgrade_at = at + timedelta(seconds=program.grace_seconds)
        await _set(
            conn, customer_id, at, reviewed_at=at, below_since=at, downgrade_at=downgrade_at, warned_at=None
        )
        member.update(reviewed_at=at, below_since=at, downgrade_at=downgrade_at, warned_at=None)
    downgrade_at = member["downgrade_at"]
    if downgrade_at is not None:
        target = program.qualifying_tier(points)
        to = target.name if target is not None else None
        warn_at = downgrade_at - timedelta(seconds=program.warn_seconds)
        if member["warned_at"] is None and at >= warn_at:
            events.append(
                emitted(
                    "tier_downgrade_warning",
                    customer_id,
                    {"tier": tier.name, "to": to, "downgrade_at": downgrade_at.isoformat()},
                    at,
                    customer_id,
                    downgrade_at.isoformat(),
                )
            )
            await _set(conn, customer_id, at, warned_at=at)
            member["warned_at"] = at
        if at >= downgrade_at:
            await _set(
                conn,
                customer_id,
                at,
                tier=to,
                tier_since=at,
                reviewed_at=at,
                below_since=None,
                downgrade_at=None,
                warned_at=None,
            )
            events.append(_changed(customer_id, tier.name, to, "down", at))
            return Outcome(events=events, next_due=await _due(conn, program, customer_id, at))
        return Outcome(events=events, next_due=warn_at if member["warned_at"] is None else downgrade_at)
    return Outcome(events=events, next_due=await _due(conn, program, customer_id, at))


async def _due(conn: AsyncConnection, program: Program, customer_id: str, at: datetime) -> datetime | None:
    """The first review that can find the member below their tier (None: no review can)."""
    member = await _member(conn, customer_id, at)
    tier = program.tier(member["tier"])
    if tier is None:
        return None
    falls = await _falls_at(conn, program, customer_id, tier.threshold, at)
    if falls is None:
        return None
    since = member["reviewed_at"] or member["tier_since"] or at
    return earliest(_next_review(program, since, max(falls, at)))


async def on_event(
    conn: AsyncConnection, program: Program, customer_id: str, event: CustomerEvent, at: datetime
) -> Outcome:
    """Tiers move on settling (after the wallet's lots of this event are in)."""
    return Outcome()


# Reading (the pages).


@dataclass(frozen=True)
class TierState:
    """A member's tier and what is scheduled for it (no row yet: all None)."""

    tier: str | None
    since: datetime | None
    below_since: datetime | None  # the review that found them below their tier
    downgrade_at: datetime | None  # when the grace ends and the tier falls, if they do not requalify
    warned_at: datetime | None


async def tier_state(conn: AsyncConnection, customer_id: str) -> TierState:
    m = loyalty_members.c
    row = (
        await conn.execute(
            sa.select(m.tier, m.tier_since, m.below_since, m.downgrade_at, m.warned_at).where(
                m.customer_id == customer_id
            )
        )
    ).first()
    if row is None:
        return TierState(None, None, None, None, None)
    return TierState(row.tier, row.tier_since, row.below_since, row.downgrade_at, row.warned_at)

"""The points ledger and balances: every change is a ledger row with a unique idempotency key.

A ledger row and its balance update commit together, so a retried award or redemption (same key)
changes nothing and returns what the first call returned. Balances never go negative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.activities import AwardResult
from contracts.records import StepRecord
from engine.loyalty.program import Program
from store import counters, tiers
from store.balances import locked_balance
from store.customers import ensure_customer
from store.inserts import insert_ignore
from store.leaderboards import add_period_points
from store.lots_spend import consume_fifo
from store.loyalty_programs import LoyaltyProgramRepository
from store.loyalty_tables import points_lots
from store.reading import reading
from store.steps import insert_records
from store.tables import customers, points_balances, points_ledger
from store.types import utcnow


class Overdraw(Exception):
    """A redemption asked for more points than the customer has; nothing was changed."""

    def __init__(self, *, customer_id: str, requested: int, balance: int) -> None:
        super().__init__(f"customer {customer_id} has {balance} points and cannot redeem {requested}")
        self.customer_id = customer_id
        self.requested = requested
        self.balance = balance


@dataclass(frozen=True)
class _Origin:
    """The journey step an award comes from (all None for one made through the API)."""

    journey: str | None
    version: str | None
    step: str | None


class _Raced(Exception):
    """A concurrent call with the same key committed first; roll back and report its outcome."""


class LedgerEntry(BaseModel):
    key: str
    customer_id: str
    delta: int
    reason: str
    journey: str | None
    step: str | None
    balance_after: int
    created_at: datetime


def _award_result(row: Mapping[str, Any], *, duplicate: bool) -> AwardResult:
    return AwardResult(
        points=row["delta"],
        balance=row["balance_after"],
        lifetime_points=row["lifetime_after"],
        tier=row["tier_after"],
        previous_tier=row["tier_before"],
        badge=row["badge"],
        badge_new=row["badge_new"],
        duplicate=duplicate,
    )


class PointsRepository:
    def __init__(self, engine: AsyncEngine, programs: LoyaltyProgramRepository | None = None) -> None:
        self._engine = engine
        self._programs = programs or LoyaltyProgramRepository(engine)

    async def award(
        self,
        key: str,
        customer_id: str,
        points: int,
        reason: str,
        journey: str | None = None,
        step: str | None = None,
        at: datetime | None = None,
        badge: str | None = None,
        records: Sequence[StepRecord] = (),
        version: str | None = None,
    ) -> AwardResult:
        """Add ``points`` (a negative award stops at zero), update tier and badges, all at once
        (with the step ``records`` that led here). Points awarded are an available lot (they expire
        as the active loyalty program says, and redemptions take them first in, first out); the
        tier rises to what the program's tiers give (never falls here: see ``store.tiers``). An
        award of a journey's step (``journey``, ``version`` and ``step`` given) adds to that step's
        points counter.

        A second call with the same ``key`` changes nothing and returns the first result with
        ``duplicate=True``.
        """
        try:
            return await self._award(
                key,
                customer_id,
                points,
                reason,
                _Origin(journey, version, step),
                at or utcnow(),
                badge,
                await self._programs.active(),
                records,
            )
        except _Raced:
            return await self._duplicate(key)

    async def _award(
        self,
        key: str,
        customer_id: str,
        points: int,
        reason: str,
        origin: _Origin,
        at: datetime,
        badge: str | None,
        program: Program | None,
        records: Sequence[StepRecord],
    ) -> AwardResult:
        journey, step = origin.journey, origin.step
        async with self._engine.begin() as conn:
            await insert_records(conn, records)
            existing = await self._entry(conn, key)
            if existing is not None:
                return _award_result(existing, duplicate=True)
            await ensure_customer(conn, customer_id, at)
            balance, lifetime = await locked_balance(conn, customer_id)
            delta = max(points, -balance)
            balance += delta
            lifetime += max(delta, 0)
            row = (
                await conn.execute(
                    sa.select(customers.c.tier, customers.c.badges)
                    .where(customers.c.id == customer_id)
                    .with_for_update()
                )
            ).one()
            tier_before = tier_after = row.tier
            badges = list(row.badges or [])
            badge_new = badge is not None and badge not in badges
            if badge_new:
                badges.append(badge)
            entry = {
                "key": key,
                "customer_id": customer_id,
                "delta": delta,
                "reason": reason,
                "journey": journey,
                "step": step,
                "balance_after": balance,
                "lifetime_after": lifetime,
                "tier_before": tier_before,
                "tier_after": tier_after,
                "badge": badge,
                "badge_new": badge_new,
                "created_at": at,
            }
            await _book(conn, entry)
            await _lot(conn, program, key, customer_id, delta, reason, at)
            if program is not None:
                _, tier_after = await tiers.upgrade(conn, program, customer_id, at)
                if tier_after != tier_before:
                    entry["tier_after"] = tier_after
                    await conn.execute(
                        points_ledger.update().where(points_ledger.c.key == key).values(tier_after=tier_after)
                    )
            await add_period_points(conn, customer_id, delta, at)  # leaderboards: points earned
            if journey is not None and step is not None and origin.version is not None and delta:
                awarded = counters.CounterKey(
                    journey=journey,
                    version=origin.version,
                    step=step,
                    kind=counters.POINTS,
                    detail="",
                    shard=counters.shard_of(customer_id),
                )
                await counters.add(conn, {awarded: delta})
            await conn.execute(
                customers.update()
                .where(customers.c.id == customer_id)
                .values(tier=tier_after, badges=badges, updated_at=at)
            )
        return _award_result(entry, duplicate=False)

    async def redeem(
        self, key: str, customer_id: str, points: int, reason: str, at: datetime | None = None
    ) -> int:
        """Spend ``points`` (from the lots, first in first out: ``store.lots_spend``); returns the
        balance after. Raises ``Overdraw`` rather than go negative.

        Idempotent by ``key``: a repeat returns the balance the first redemption left.
        """
        if points <= 0:
            raise ValueError(f"a redemption must spend a positive number of points, not {points}")
        try:
            return await self._redeem(key, customer_id, points, reason, at or utcnow())
        except _Raced:
            duplicate = await self._lookup(key)
            assert duplicate is not None
            return int(duplicate["balance_after"])

    async def _redeem(self, key: str, customer_id: str, points: int, reason: str, at: datetime) -> int:
        async with self._engine.begin() as conn:
            existing = await self._entry(conn, key)
            if existing is not None:
                return int(existing["balance_after"])
            await ensure_customer(conn, customer_id, at)
            balance, lifetime = await locked_balance(conn, customer_id)
            if points > balance:
                raise Overdraw(customer_id=customer_id, requested=points, balance=balance)
            await consume_fifo(conn, customer_id, points, at)
            tier = await conn.scalar(sa.select(customers.c.tier).where(customers.c.id == customer_id))
            entry = {
                "key": key,
                "customer_id": customer_id,
                "delta": -points,
                "reason": reason,
                "balance_after": balance - points,
                "lifetime_after": lifetime,
                "tier_before": tier,
                "tier_after": tier,
                "created_at": at,
            }
            await _book(conn, entry)
        return balance - points

    async def balance(self, customer_id: str) -> int:
        async with reading(self._engine).connect() as conn:
            value = await conn.scalar(
                sa.select(points_balances.c.balance).where(points_balances.c.customer_id == customer_id)
            )
        return int(value or 0)

    async def ledger(self, customer_id: str) -> list[LedgerEntry]:
        """Every change to the customer's points, oldest first."""
        async with reading(self._engine).connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(points_ledger)
                    .where(points_ledger.c.customer_id == customer_id)
                    .order_by(points_ledger.c.created_at, points_ledger.c.id)
                )
            ).mappings()
            return [LedgerEntry.model_validate(dict(row)) for row in rows]

    async def _entry(self, conn: AsyncConnection, key: str) -> Mapping[str, Any] | None:
        rows = (await conn.execute(sa.select(points_ledger).where(points_ledger.c.key == key))).mappings()
        row = rows.first()
        return None if row is None else dict(row)

    async def _lookup(self, key: str) -> Mapping[str, Any] | None:
        async with reading(self._engine).connect() as conn:
            return await self._entry(conn, key)

    async def _duplicate(self, key: str) -> AwardResult:
        row = await self._lookup(key)
        assert row is not None, f"ledger key {key} vanished"
        return _award_result(row, duplicate=True)


async def _book(conn: AsyncConnection, entry: dict[str, Any]) -> None:
    """Add ``entry`` to the ledger and set the customer's balance to what it says it left.

    Raises ``_Raced`` when another attempt booked the same key first.
    """
    if not await insert_ignore(conn, points_ledger, entry):
        raise _Raced(entry["key"])
    await conn.execute(
        points_balances.update()
        .where(points_balances.c.customer_id == entry["customer_id"])
        .values(balance=entry["balance_after"], lifetime=entry["lifetime_after"])
    )


async def _lot(
    conn: AsyncConnection,
    program: Program | None,
    key: str,
    customer_id: str,
    delta: int,
    reason: str,
    at: datetime,
) -> None:
    """An award's points as an available lot (a negative award takes from the lots first in, first out,
    as a redemption does), so the balance stays the sum of what available lots have left."""
    if delta > 0:
        expiry = None if program is None else at + timedelta(seconds=program.expiry_seconds)
        lot = {
            "key": key,
            "customer_id": customer_id,
            "reason": reason[:500],
            "points": delta,
            "remaining": delta,
            "status": "available",
            "earned_at": at,
            "available_at": at,
            "expires_at": expiry,
            "settled_at": at,
        }
        await insert_ignore(conn, points_lots, lot)
        return
    await consume_fifo(conn, customer_id, -delta, at)  # as a redemption takes them

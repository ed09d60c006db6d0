"""``customer.loyalty`` and ``customer.history``: what conditions and templates read of a customer's
wallet, tier and past, computed with the customer's snapshot (``store.customers.load_snapshots``).

- ``loyalty`` (``contracts.customers.LoyaltyView``): ``available`` (the balance), ``pending``
  (pending lots), ``lifetime``, ``expiring_soon`` (available lots expiring within the program's
  ``expiry.remind_before`` of ``at``, summed per day), ``tier`` (the member's tier), ``next_tier``
  and ``points_to_next`` (the qualifying points still missing: lifetime points, or points earned in
  the tier window, as the program qualifies), ``perks`` of the tier.
- ``history`` (``contracts.customers.HistoryView``): the purchases counted on ingest
  (``store.customer_history``) and the reward redeemed most often (``redemptions``).

Reads only, a fixed number of statements for any number of customers (one per table), synchronous
so that the intake's thread (``store.sqlite_thread``) runs it too; ``loyalty_context`` is the
async form for one customer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.customers import CustomerSnapshot, ExpiringPoints, HistoryView, LoyaltyView
from engine.loyalty.loader import validate_program_text
from engine.loyalty.program import Program
from store.customer_history import bounded_total, customer_history, top_categories
from store.loyalty_tables import loyalty_members, loyalty_programs, points_lots, redemptions
from store.tables import points_balances

DEFAULT_REMIND = timedelta(days=30)  # the window of expiring_soon without a program
MOST_EXPIRING_DAYS = 10

_IDS: sa.BindParameter[str] = sa.bindparam("customer_ids", expanding=True)
_ACTIVE = sa.select(loyalty_programs.c.version, loyalty_programs.c.source).where(
    loyalty_programs.c.active.is_(True)
)
_ACTIVE_VERSION = sa.select(loyalty_programs.c.version).where(loyalty_programs.c.active.is_(True))
_BALANCES = sa.select(
    points_balances.c.customer_id, points_balances.c.balance, points_balances.c.lifetime
).where(points_balances.c.customer_id.in_(_IDS))
_MEMBERS = sa.select(loyalty_members.c.customer_id, loyalty_members.c.tier).where(
    loyalty_members.c.customer_id.in_(_IDS)
)
_lots = points_lots.c
_EARNED_IN_WINDOW = sa.and_(
    _lots.status.in_(("available", "spent", "expired")), _lots.earned_at > sa.bindparam("window_start")
)
_LOTS = (
    sa.select(
        _lots.customer_id,
        sa.func.coalesce(sa.func.sum(sa.case((_lots.status == "pending", _lots.remaining), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((_EARNED_IN_WINDOW, _lots.points), else_=0)), 0),
    )
    .where(_lots.customer_id.in_(_IDS), _lots.status.in_(("pending", "available", "spent", "expired")))
    .group_by(_lots.customer_id)
)
_EXPIRING = (
    sa.select(_lots.customer_id, _lots.expires_at, _lots.remaining)
    .where(
        _lots.customer_id.in_(_IDS),
        _lots.status == "available",
        _lots.remaining > 0,
        _lots.expires_at.is_not(None),
        _lots.expires_at > sa.bindparam("at"),
        _lots.expires_at <= sa.bindparam("horizon"),
    )
    .order_by(_lots.customer_id, _lots.expires_at)
)
_HISTORY = sa.select(customer_history).where(customer_history.c.customer_id.in_(_IDS))
_REDEEMED = (
    sa.select(
        redemptions.c.customer_id,
        redemptions.c.reward_id,
        sa.func.count().label("n"),
        sa.func.max(redemptions.c.created_at).label("last"),
    )
    .where(redemptions.c.customer_id.in_(_IDS))
    .group_by(redemptions.c.customer_id, redemptions.c.reward_id)
)


@dataclass(frozen=True)
class CustomerContext:
    loyalty: LoyaltyView
    history: HistoryView


class HistoryRow(NamedTuple):
    purchase_count: int
    purchase_total: float
    last_purchase_at: datetime | None
    categories: Any  # category -> purchases that named it (JSON)


@dataclass(frozen=True)
class OneToOne:
    """What customers have at most one row of (balance, membership, purchase history), already read
    with their customer rows (``store.customers.load_snapshots`` joins them): three statements fewer.
    A customer missing from a mapping has no such row."""

    balances: dict[str, tuple[int, int]]  # (balance, lifetime)
    tiers: dict[str, str | None]
    histories: dict[str, HistoryRow]


def active_program(conn: sa.Connection) -> Program | None:
    """The active loyalty program (parsed once per version in this process), None without one."""
    version = conn.scalar(_ACTIVE_VERSION)
    if version is None:
        return None
    row = conn.execute(_ACTIVE).first()
    return None if row is None else _program(str(row.version), str(row.source))


@lru_cache(maxsize=8)
def _program(version: str, source: str) -> Program | None:
    program, _errors = validate_program_text(source, f"loyalty program {version}")
    return program  # a stored program that no longer validates reads as none (never a failed read)


def customer_contexts(
    conn: sa.Connection,
    customer_ids: Sequence[str],
    at: datetime,
    program: Program | None = None,
    *,
    active: bool = True,
    read: OneToOne | None = None,
) -> dict[str, CustomerContext]:
    """The loyalty and history of each customer, with ``program``'s tiers and windows (with
    ``active``, the active program's when ``program`` is None); ``read``, their one-to-one rows
    when the caller has them already."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return {}
    if program is None and active:
        program = active_program(conn)
    params = {"customer_ids": ids}
    if read is None:
        read = _read_one_to_one(conn, params)
    balances, tiers = read.balances, read.tiers
    window = program.tier_window_seconds if program is not None else 0
    window_start = at - timedelta(seconds=window)
    lots = {
        cid: (int(pending), int(earned))
        for cid, pending, earned in conn.execute(_LOTS, {**params, "window_start": window_start})
    }
    remind = timedelta(seconds=program.remind_seconds) if program is not None else DEFAULT_REMIND
    expiring: dict[str, dict[str, int]] = {}
    for cid, expires_at, remaining in conn.execute(_EXPIRING, {**params, "at": at, "horizon": at + remind}):
        days = expiring.setdefault(cid, {})
        day = expires_at.date().isoformat()
        days[day] = days.get(day, 0) + int(remaining)
    histories = read.histories
    redeemed: dict[str, tuple[int, datetime, str]] = {}
    for cid, reward, n, last in conn.execute(_REDEEMED, params):
        best = redeemed.get(cid)
        if best is None or (int(n), last, reward) > best:
            redeemed[cid] = (int(n), last, reward)
    contexts = {}
    for cid in ids:
        balance, lifetime = balances.get(cid, (0, 0))
        pending, earned_in_window = lots.get(cid, (0, 0))
        qualifying = (
            lifetime if program is None or program.source.tiers.qualify_on == "lifetime" else earned_in_window
        )
        loyalty = _loyalty(
            program, balance, lifetime, pending, qualifying, tiers.get(cid), expiring.get(cid, {})
        )
        row = histories.get(cid)
        history = HistoryView(
            last_purchase_at=row.last_purchase_at.isoformat()
            if row is not None and row.last_purchase_at
            else None,
            days_since_last_purchase=(
                max((at - row.last_purchase_at).days, 0) if row is not None and row.last_purchase_at else None
            ),
            purchase_count=int(row.purchase_count) if row is not None else 0,
            purchase_total=float(row.purchase_total) if row is not None else 0.0,
            top_categories=top_categories(row.categories or {}) if row is not None else [],
            most_redeemed_reward=redeemed[cid][2] if cid in redeemed else None,
        )
        contexts[cid] = CustomerContext(loyalty, history)
    return contexts


def _read_one_to_one(conn: sa.Connection, params: Mapping[str, Any]) -> OneToOne:
    return OneToOne(
        balances={
            row.customer_id: (int(row.balance), int(row.lifetime)) for row in conn.execute(_BALANCES, params)
        },
        tiers={row.customer_id: row.tier for row in conn.execute(_MEMBERS, params)},
        histories={
            row.customer_id: HistoryRow(
                int(row.purchase_count),
                bounded_total(float(row.purchase_total)),
                row.last_purchase_at,
                row.categories,
            )
            for row in conn.execute(_HISTORY, params)
        },
    )


def _loyalty(
    program: Program | None,
    balance: int,
    lifetime: int,
    pending: int,
    qualifying: int,
    member_tier: str | None,
    expiring: Mapping[str, int],
) -> LoyaltyView:
    soon = [ExpiringPoints(points=points, date=day) for day, points in sorted(expiring.items())]
    if program is None:
        return LoyaltyView(
            available=balance,
            pending=pending,
            lifetime=lifetime,
            expiring_soon=soon[:MOST_EXPIRING_DAYS],
            tier=member_tier,
        )
    reached = program.qualifying_tier(qualifying)
    tier = member_tier if program.tier(member_tier) is not None else (reached.name if reached else None)
    progress = program.progress(qualifying, tier)
    current = program.tier(tier)
    return LoyaltyView(
        available=balance,
        pending=pending,
        lifetime=lifetime,
        expiring_soon=soon[:MOST_EXPIRING_DAYS],
        tier=tier,
        next_tier=progress.next,
        points_to_next=progress.points_to_next,
        perks=list(current.perks) if current is not None else [],
    )


def with_context(
    conn: sa.Connection, snapshots: dict[str, CustomerSnapshot], at: datetime, read: OneToOne | None = None
) -> dict[str, CustomerSnapshot]:
    """``snapshots`` (of customers that exist) with their loyalty and history read (``read``: their
    one-to-one rows, already read)."""
    known = [cid for cid, snapshot in snapshots.items() if snapshot.exists]
    if not known:
        return snapshots
    contexts = customer_contexts(conn, known, at, read=read)
    return {
        cid: (
            snapshot.model_copy(update={"loyalty": contexts[cid].loyalty, "history": contexts[cid].history})
            if cid in contexts
            else snapshot
        )
        for cid, snapshot in snapshots.items()
    }


async def loyalty_context(
    conn: AsyncConnection, customer_id: str, program: Program | None, at: datetime
) -> CustomerContext:
    """One customer's loyalty and history (``program`` None: read without a program's tiers)."""

    def read(sync: sa.Connection) -> CustomerContext:
        return customer_contexts(sync, [customer_id], at, program, active=False)[customer_id]

    return await conn.run_sync(read)

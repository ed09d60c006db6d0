"""Leaderboards: points earned per customer per period (ISO week, calendar month, UTC), ranked.

``add_period_points`` runs in the transaction that earns the points (``store.points`` award, the
wallet when a lot becomes available), so a board is one indexed read of ``period_points``. Ties share
a rank (standard competition ranking: 1, 1, 3); customers who opted out are left out and take no rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.loyalty.program import Program
from store.inserts import insert_ignore
from store.loyalty_tables import loyalty_members, period_points

PeriodKind = Literal["week", "month"]
Which = Literal["current", "previous"]


class UnknownBoard(LookupError):
    """The program has no leaderboard by that id."""


@dataclass(frozen=True)
class Standing:
    rank: int
    customer_id: str
    points: int


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    period: str  # week:2026-W49 | month:2026-12
    top: int
    standings: list[Standing]


def period_key(kind: PeriodKind, at: datetime) -> str:
    """``week:YYYY-Www`` (ISO week of ``at`` in UTC) or ``month:YYYY-MM``."""
    moment = at.astimezone(UTC)
    if kind == "week":
        year, week, _ = moment.isocalendar()
        return f"week:{year}-W{week:02d}"
    return f"month:{moment.year}-{moment.month:02d}"


def previous_key(kind: PeriodKind, at: datetime) -> str:
    """The period before the one ``at`` falls in."""
    moment = at.astimezone(UTC)
    if kind == "week":
        return period_key("week", moment - timedelta(days=7))
    first = moment.replace(day=1)
    return period_key("month", first - timedelta(days=1))


async def add_period_points(conn: AsyncConnection, customer_id: str, points: int, at: datetime) -> None:
    """Add earned ``points`` to the customer's week and month (nothing for zero or less: spending and
    expiry do not lower a board)."""
    if points <= 0:
        return
    for kind in ("week", "month"):
        key = period_key(kind, at)
        await insert_ignore(conn, period_points, {"period": key, "customer_id": customer_id, "points": 0})
        await conn.execute(
            period_points.update()
            .where(period_points.c.period == key, period_points.c.customer_id == customer_id)
            .values(points=period_points.c.points + points)
        )


async def set_opt_out(conn: AsyncConnection, customer_id: str, opt_out: bool, at: datetime) -> None:
    """Leave every board (``opt_out``) or join them again; the points keep counting either way."""
    await insert_ignore(conn, loyalty_members, {"customer_id": customer_id, "updated_at": at})
    await conn.execute(
        loyalty_members.update()
        .where(loyalty_members.c.customer_id == customer_id)
        .values(leaderboard_opt_out=opt_out, updated_at=at)
    )


async def opted_out(conn: AsyncConnection, customer_id: str) -> bool:
    value = await conn.scalar(
        sa.select(loyalty_members.c.leaderboard_opt_out).where(loyalty_members.c.customer_id == customer_id)
    )
    return bool(value)


async def board(
    conn: AsyncConnection,
    program: Program,
    board_id: str,
    at: datetime,
    top: int | None = None,
    which: Which = "current",
) -> Board:
    """The board ``board_id`` for the period ``at`` falls in (or the one before): its first ``top``
    standings (the board's own ``top`` when None), most points first, ties by customer id.

    A tie at the cut-off is cut like any other row: ranks stay right (1, 1, 3), the list stays ``top``
    long. Raises ``UnknownBoard`` for an id the program does not have.
    """
    found = program.board(board_id)
    if found is None:
        raise UnknownBoard(board_id)
    limit = top if top is not None else found.top
    key = period_key(found.period, at) if which == "current" else previous_key(found.period, at)
    out = sa.select(loyalty_members.c.customer_id).where(loyalty_members.c.leaderboard_opt_out.is_(True))
    rows = (
        await conn.execute(
            sa.select(period_points.c.customer_id, period_points.c.points)
            .where(
                period_points.c.period == key,
                period_points.c.points > 0,
                period_points.c.customer_id.not_in(out),
            )
            .order_by(period_points.c.points.desc(), period_points.c.customer_id)
            .limit(limit)
        )
    ).all()
    standings: list[Standing] = []
    for place, row in enumerate(rows, start=1):
        points = int(row.points)
        rank = standings[-1].rank if standings and standings[-1].points == points else place
        standings.append(Standing(rank=rank, customer_id=str(row.customer_id), points=points))
    return Board(id=found.id, name=found.name or found.id, period=key, top=limit, standings=standings)

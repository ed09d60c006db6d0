"""Points earned by the wallet's rules join the leaderboards when they become available."""

from __future__ import annotations

from datetime import datetime, timedelta

from store import Store, leaderboards, wallet
from tests.store.referrals.programs import T0, event, in_tx, program

PROGRAM = program(
    """
program: test
tiers:
  levels:
    - {name: member, threshold: 0}
earning:
  - {id: purchase, event: purchase_completed, points: 30}
  - {id: profile, event: profile_completed, points: 5, pending: false}
pending: {days: 14}
leaderboards:
  - {id: monthly, period: month, top: 10}
"""
)


async def month_points(store: Store, at: datetime) -> list[tuple[str, int]]:
    board = await in_tx(store, lambda conn: leaderboards.board(conn, PROGRAM, "monthly", at))
    return [(s.customer_id, s.points) for s in board.standings]


async def test_pending_points_count_when_available_and_immediate_ones_at_once(store: Store) -> None:
    for happened in (event("p1", "ada", "purchase_completed"), event("f1", "ada", "profile_completed")):
        async with store.engine.begin() as conn:
            await wallet.on_event(conn, PROGRAM, "ada", happened, T0)
    assert await month_points(store, T0) == [("ada", 5)]  # the purchase's 30 are pending
    later = T0 + timedelta(days=14)
    await in_tx(store, lambda conn: wallet.settle(conn, PROGRAM, "ada", later))
    await in_tx(store, lambda conn: wallet.settle(conn, PROGRAM, "ada", later))  # again: once
    assert await month_points(store, later) == [("ada", 35)]

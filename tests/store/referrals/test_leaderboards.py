"""Leaderboards: points per ISO week and month, ties share a rank, opted-out customers left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store import Store, leaderboards
from tests.store.referrals.programs import T0, in_tx, program

PROGRAM = program()


async def add(store: Store, customer_id: str, points: int, at: datetime = T0) -> None:
    await in_tx(store, lambda conn: leaderboards.add_period_points(conn, customer_id, points, at))


async def standings(store: Store, board_id: str = "weekly", **kwargs: object) -> list[tuple[int, str, int]]:
    found = await in_tx(store, lambda conn: leaderboards.board(conn, PROGRAM, board_id, T0, **kwargs))  # type: ignore[arg-type]
    return [(s.rank, s.customer_id, s.points) for s in found.standings]


def test_period_keys_are_iso_weeks_and_months() -> None:
    assert leaderboards.period_key("week", T0) == "week:2026-W49"
    assert leaderboards.period_key("month", T0) == "month:2026-12"
    new_year = datetime(2027, 1, 1, tzinfo=UTC)  # a Friday: ISO week 53 of 2026
    assert leaderboards.period_key("week", new_year) == "week:2026-W53"
    assert leaderboards.previous_key("week", T0) == "week:2026-W48"
    assert leaderboards.previous_key("month", new_year) == "month:2026-12"
    assert leaderboards.previous_key("month", datetime(2026, 3, 31, tzinfo=UTC)) == "month:2026-02"


async def test_ties_share_a_rank_and_the_next_rank_skips(store: Store) -> None:
    for customer_id, points in (("ada", 50), ("bob", 80), ("cy", 80), ("dee", 20), ("eve", 50)):
        await add(store, customer_id, points)
    await add(store, "ada", 30)  # ada: 80 as well
    await add(store, "eve", -10)  # spending does not lower a board
    assert await standings(store, top=10) == [
        (1, "ada", 80),
        (1, "bob", 80),
        (1, "cy", 80),
        (4, "eve", 50),
        (5, "dee", 20),
    ]
    assert await standings(store) == [(1, "ada", 80), (1, "bob", 80), (1, "cy", 80)]  # the board's top: 3
    assert await standings(store, "monthly") == await standings(store, top=10)


async def test_opted_out_customers_are_left_out_and_take_no_rank(store: Store) -> None:
    for customer_id, points in (("ada", 90), ("bob", 70), ("cy", 70), ("dee", 10)):
        await add(store, customer_id, points)
    await in_tx(store, lambda conn: leaderboards.set_opt_out(conn, "ada", True, T0))
    assert await standings(store, top=10) == [(1, "bob", 70), (1, "cy", 70), (3, "dee", 10)]
    assert await in_tx(store, lambda conn: leaderboards.opted_out(conn, "ada"))
    await in_tx(store, lambda conn: leaderboards.set_opt_out(conn, "ada", False, T0))
    assert (await standings(store, top=10))[0] == (1, "ada", 90)


async def test_current_and_previous_periods(store: Store) -> None:
    await add(store, "ada", 10, T0 - timedelta(days=7))
    await add(store, "bob", 20, T0)
    assert await standings(store, top=10) == [(1, "bob", 20)]
    assert await standings(store, top=10, which="previous") == [(1, "ada", 10)]
    assert await standings(store, "monthly", which="previous") == [(1, "ada", 10)]  # 24 November


async def test_concurrent_additions_all_count(store: Store) -> None:
    import asyncio

    await asyncio.gather(*(add(store, "ada", 5) for _ in range(6)))
    assert await standings(store) == [(1, "ada", 30)]


async def test_an_unknown_board(store: Store) -> None:
    with pytest.raises(leaderboards.UnknownBoard):
        await in_tx(store, lambda conn: leaderboards.board(conn, PROGRAM, "nope", T0))

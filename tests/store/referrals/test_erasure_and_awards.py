"""A journey's award adds to the leaderboards; erasing a customer deletes their referral, board and
challenge rows."""

from __future__ import annotations

import sqlalchemy as sa

from store import Store, challenges, leaderboards, referrals
from store.loyalty_tables import challenge_progress, loyalty_members, period_points, referral_attempts
from store.loyalty_tables import referrals as referrals_table
from tests.store.referrals.programs import T0, event, in_tx, program

PROGRAM = program()


async def test_an_award_adds_to_the_week_and_the_month(store: Store) -> None:
    await store.points.award("k1", "ada", 40, "Welcome", at=T0)
    await store.points.award("k1", "ada", 40, "Welcome", at=T0)  # the same key: once
    await store.points.award("k2", "ada", -10, "Taken back", at=T0)  # not subtracted from a board
    board = await in_tx(store, lambda conn: leaderboards.board(conn, PROGRAM, "monthly", T0))
    assert [(s.customer_id, s.points) for s in board.standings] == [("ada", 40)]
    async with store.engine.connect() as conn:
        periods = set((await conn.execute(sa.select(period_points.c.period))).scalars())
    assert periods == {"week:2026-W49", "month:2026-12"}


async def count(store: Store, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    async with store.engine.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0)


async def test_erasure_deletes_the_customers_loyalty_rows(store: Store) -> None:
    for who in ("ada", "bob", "cy"):
        await store.customers.upsert(who, {"email": f"{who}@example.com"})
    code = await in_tx(store, lambda conn: referrals.code_for(conn, "ada", T0))
    for who, event_id in (("bob", "s1"), ("ada", "s2")):
        async with store.engine.begin() as conn:
            await referrals.on_event(
                conn, PROGRAM, who, event(event_id, who, "signed_up", referral_code=code), T0
            )
    purchase = event("p1", "bob", "purchase_completed", total=5000)
    await in_tx(store, lambda conn: referrals.on_event(conn, PROGRAM, "bob", purchase, T0))
    await in_tx(store, lambda conn: challenges.on_event(conn, PROGRAM, "bob", purchase, T0))
    await in_tx(store, lambda conn: leaderboards.add_period_points(conn, "cy", 5, T0))
    assert await store.customers.forget("bob")
    assert await count(store, referrals_table) == 0
    assert await count(store, referral_attempts, referral_attempts.c.referee_id == "bob") == 0
    assert await count(store, referral_attempts) == 1  # ada's own refused attempt stays
    assert await count(store, challenge_progress) == 0
    assert await count(store, period_points, period_points.c.customer_id == "bob") == 0
    assert await count(store, period_points, period_points.c.customer_id == "ada") == 2  # her reward
    assert await store.customers.forget("ada")
    assert await count(store, referral_attempts) == 0
    assert await count(store, loyalty_members, loyalty_members.c.customer_id == "ada") == 0
    assert await count(store, period_points, period_points.c.customer_id == "cy") == 2

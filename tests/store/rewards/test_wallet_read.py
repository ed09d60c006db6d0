"""The wallet and the ledger as the API reads them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.loyalty.loader import validate_program_text
from store import Store
from store.customers import ensure_customer
from store.loyalty_tables import loyalty_members, points_lots
from store.rewards import redeem
from store.wallet_read import DatedPoints, ledger, wallet
from tests.store.rewards.programs import T0, deployed, give

DAY = timedelta(days=1)


async def pending_lot(store: Store, customer_id: str, key: str, points: int, days: int) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(
            points_lots.insert().values(
                key=key,
                customer_id=customer_id,
                reason="Purchase",
                points=points,
                remaining=points,
                status="pending",
                earned_at=T0,
                available_at=T0 + days * DAY,
            )
        )


async def test_a_members_wallet(store: Store) -> None:
    program = await deployed(store)
    await give(store, "ada", 300)
    await give(store, "ada", 200, key="later")
    await redeem(store.engine, program, "ada", "coffee", "reward/ada/1", T0)
    await pending_lot(store, "ada", "p1", 40, 14)
    await pending_lot(store, "ada", "p2", 60, 14)
    await pending_lot(store, "ada", "p3", 25, 20)
    found = await wallet(store.engine, program, "ada", T0)
    expiry = (T0 + 360 * DAY).date()  # 12 months of 30 days after they became available
    assert found.model_dump() == {
        "customer_id": "ada",
        "available": 400,
        "pending": 125,
        "pending_by_date": [
            {"date": (T0 + 14 * DAY).date(), "points": 100},
            {"date": (T0 + 20 * DAY).date(), "points": 25},
        ],
        "expiring_by_date": [{"date": expiry, "points": 400}],
        "lifetime": 500,
        "tier": "member",
        "qualifying_points": 500,
        "next_tier": "gold",
        "points_to_next": 4500,
        "perks": [],
    }


async def test_a_gold_members_perks_and_the_top_of_the_ladder(store: Store) -> None:
    program = await deployed(store)
    await give(store, "bo", 6000)
    found = await wallet(store.engine, program, "bo", T0)
    assert (found.tier, found.next_tier, found.points_to_next) == ("gold", None, 0)
    assert found.perks == ["lounge", "early_access"]
    assert found.expiring_by_date == [DatedPoints(date=(T0 + 360 * DAY).date(), points=6000)]


async def test_a_customer_without_points_has_an_empty_wallet(store: Store) -> None:
    program = await deployed(store)
    found = await wallet(store.engine, program, "nobody", T0)
    assert (found.available, found.pending, found.lifetime, found.tier) == (0, 0, 0, None)
    assert (found.next_tier, found.points_to_next) == ("gold", 5000)
    without = await wallet(store.engine, None, "nobody", T0)
    assert (without.next_tier, without.perks) == (None, [])


async def test_the_ledger_pages_newest_first_by_id(store: Store) -> None:
    await deployed(store)
    for n in range(7):
        await give(store, "cy", 10 + n, key=f"g{n}")
    first = await ledger(store.engine, "cy", None, 3)
    second = await ledger(store.engine, "cy", first.next, 3)
    third = await ledger(store.engine, "cy", second.next, 3)
    deltas = [entry.delta for page in (first, second, third) for entry in page.entries]
    assert deltas == [16, 15, 14, 13, 12, 11, 10]
    assert third.next is None and len(third.entries) == 1
    ids = [entry.id for page in (first, second, third) for entry in page.entries]
    assert ids == sorted(ids, reverse=True)
    exact = await ledger(store.engine, "cy", None, 7)
    assert exact.next is None and len(exact.entries) == 7
    assert (await ledger(store.engine, "nobody", None)).entries == []
    with pytest.raises(ValueError, match="1 to 200"):
        await ledger(store.engine, "cy", None, 201)


WINDOW_PROGRAM = """
program: window_test
tiers:
  qualify_on: window
  window_months: 12
  levels:
    - {name: bronze, threshold: 100}
    - {name: silver, threshold: 500, perks: [free_shipping]}
    - {name: gold, threshold: 1200}
"""


async def test_a_member_below_their_tier_has_the_tier_above_theirs_next(store: Store) -> None:
    # Silver on 0 window points (a downgrade pending): next is gold, not bronze, which their points
    # alone would reach next.
    loaded, errors = validate_program_text(WINDOW_PROGRAM, "loyalty.yaml")
    assert loaded is not None, errors
    await store.loyalty_programs.deploy(loaded, WINDOW_PROGRAM)
    program = await store.loyalty_programs.active()
    assert program is not None
    async with store.engine.begin() as conn:
        await ensure_customer(conn, "dora", T0)
        await conn.execute(loyalty_members.insert().values(customer_id="dora", tier="silver", updated_at=T0))
    found = await wallet(store.engine, program, "dora", T0)
    assert (found.tier, found.qualifying_points) == ("silver", 0)
    assert (found.next_tier, found.points_to_next, found.perks) == ("gold", 1200, ["free_shipping"])

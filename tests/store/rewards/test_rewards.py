"""Redeeming rewards, on SQLite and PostgreSQL: each refusal with its reason changing nothing, the
idempotent repeat, the limit, the tier, the pool, and concurrent redemptions never overspending."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from store import Store
from store.loyalty_tables import points_lots, redemptions, reward_stock, vouchers
from store.rewards import Redemption, RewardRefused, catalog, code_problems, redeem, upload
from store.tables import points_balances, points_ledger
from tests.store.rewards.programs import T0, deployed, give


async def refused(store: Store, customer_id: str, reward_id: str, key: str) -> RewardRefused:
    program = await store.loyalty_programs.active()
    with pytest.raises(RewardRefused) as info:
        await redeem(store.engine, program, customer_id, reward_id, key, T0)
    return info.value


async def counts(store: Store) -> tuple[int, int, int, int]:
    """Rows of redemptions, issued vouchers, ledger and the sum of balances: what a refusal must not move."""
    async with store.engine.connect() as conn:
        return (
            int(await conn.scalar(sa.select(sa.func.count()).select_from(redemptions)) or 0),
            int(
                await conn.scalar(
                    sa.select(sa.func.count()).select_from(vouchers).where(vouchers.c.status == "issued")
                )
                or 0
            ),
            int(await conn.scalar(sa.select(sa.func.count()).select_from(points_ledger)) or 0),
            int(
                await conn.scalar(sa.select(sa.func.coalesce(sa.func.sum(points_balances.c.balance), 0))) or 0
            ),
        )


async def remaining(store: Store, customer_id: str) -> int:
    async with store.engine.connect() as conn:
        value = await conn.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(points_lots.c.remaining), 0)).where(
                points_lots.c.customer_id == customer_id, points_lots.c.status == "available"
            )
        )
    return int(value or 0)


async def test_a_redemption_spends_the_cost_from_the_lots_and_issues_a_voucher(store: Store) -> None:
    program = await deployed(store)
    await give(store, "ada", 250)
    done = await redeem(store.engine, program, "ada", "coffee", "reward/ada/k1", T0)
    assert (done.cost, done.balance_after, done.duplicate) == (100, 150, False)
    assert done.voucher.startswith("COFFEE-") and len(done.voucher) == len("COFFEE-") + 13
    assert done.expires_at == T0 + timedelta(days=30)
    assert await store.points.balance("ada") == 150 == await remaining(store, "ada")
    ledger = await store.points.ledger("ada")
    assert [(entry.delta, entry.reason) for entry in ledger][-1] == (-100, "Reward: Free coffee")
    event = done.event()
    assert (event.event_id, event.name) == ("loyalty/reward_redeemed/reward/ada/k1", "reward_redeemed")
    assert event.properties == {
        "reward": "coffee",
        "voucher": done.voucher,
        "expires_at": done.expires_at.isoformat(),
        "cost": 100,
    }


async def test_a_repeat_of_the_key_returns_the_first_result(store: Store) -> None:
    program = await deployed(store)
    await give(store, "bo", 250)
    first = await redeem(store.engine, program, "bo", "coffee", "reward/bo/k", T0)
    again = await redeem(store.engine, program, "bo", "coffee", "reward/bo/k", T0 + timedelta(hours=1))
    assert again.duplicate and again.model_dump(exclude={"duplicate"}) == first.model_dump(
        exclude={"duplicate"}
    )
    assert await store.points.balance("bo") == 150
    reused = await refused(store, "bo", "tote", "reward/bo/k")
    assert (reused.reason, reused.numbers) == ("key_reused", {"reward": "coffee"})


async def test_concurrent_repeats_of_one_key_redeem_once(store: Store) -> None:
    program = await deployed(store)
    await give(store, "cy", 1000)
    results = await asyncio.gather(
        *(redeem(store.engine, program, "cy", "many", "reward/cy/same", T0) for _ in range(6))
    )
    assert sum(not result.duplicate for result in results) == 1
    assert len({result.voucher for result in results}) == 1
    assert await store.points.balance("cy") == 999


async def test_each_refusal_names_its_reason_and_changes_nothing(store: Store) -> None:
    await deployed(store)
    await give(store, "dee", 150)
    before = await counts(store)
    unknown = await refused(store, "dee", "yacht", "k1")
    points = await refused(store, "dee", "dinner", "k2")
    assert (unknown.reason, points.reason) == ("unknown_reward", "points")
    assert points.numbers == {"balance": 150, "cost": 1000}
    await give(store, "dee", 1000, key="more")  # 1150: enough, but not gold
    before = await counts(store)
    tier = await refused(store, "dee", "dinner", "k3")
    assert (tier.reason, tier.numbers) == ("tier", {"tier": "member", "required_tier": "gold"})
    pool = await refused(store, "dee", "ticket", "k4")  # nothing uploaded
    assert pool.reason == "pool_empty"
    assert await counts(store) == before
    assert await store.points.balance("dee") == 1150 == await remaining(store, "dee")


async def test_the_per_customer_limit(store: Store) -> None:
    program = await deployed(store)
    await give(store, "eve", 1000)
    await give(store, "fay", 1000)
    for n in range(2):
        await redeem(store.engine, program, "eve", "coffee", f"eve/{n}", T0)
    limit = await refused(store, "eve", "coffee", "eve/2")
    assert (limit.reason, limit.numbers) == ("limit", {"limit": 2, "redeemed": 2})
    await redeem(store.engine, program, "fay", "coffee", "fay/0", T0)  # another customer's own limit
    assert await store.points.balance("eve") == 800


async def test_the_tier_required_lets_gold_members_in(store: Store) -> None:
    program = await deployed(store)
    await give(store, "gil", 6000)  # gold by lifetime points
    await upload(store.engine, "dinner", ["DINNER-0001", "DINNER-0002"], T0)
    done = await redeem(store.engine, program, "gil", "dinner", "gil/1", T0)
    assert (done.voucher, done.expires_at) == ("DINNER-0001", T0 + timedelta(days=60))


async def test_a_pool_is_used_oldest_first_until_it_runs_out(store: Store) -> None:
    program = await deployed(store)
    await give(store, "hal", 100)
    result = await upload(store.engine, "ticket", ["T-0001", "T-0002", "T-0001"], T0)
    assert (result.added, result.duplicates) == (2, ["T-0001"])
    again = await upload(store.engine, "ticket", ["T-0002", "T-0003"], T0)
    assert (again.added, again.duplicates) == (1, ["T-0002"])
    codes = [(await redeem(store.engine, program, "hal", "ticket", f"hal/{n}", T0)).voucher for n in range(3)]
    assert codes == ["T-0001", "T-0002", "T-0003"]
    assert (await refused(store, "hal", "ticket", "hal/3")).reason == "pool_empty"
    assert await store.points.balance("hal") == 70
    items = {item.reward.id: item for item in await catalog(store.engine, program)}
    assert (items["ticket"].pool_available, items["ticket"].redeemed) == (0, 3)
    async with store.engine.connect() as conn:
        issued = (await conn.execute(sa.select(vouchers.c.customer_id, vouchers.c.status))).all()
    assert {tuple(row) for row in issued} == {("hal", "issued")}


def test_code_syntax() -> None:
    assert code_problems(["GOOD-CODE-1", "abcd"]) == []
    assert [index for index, _ in code_problems(["-bad", "ok12", "no", "sp ace", "x" * 65])] == [0, 2, 3, 4]


async def test_two_concurrent_redemptions_exceeding_the_balance_one_succeeds(store: Store) -> None:
    program = await deployed(store)
    await give(store, "ivy", 150)  # one coffee's worth, asked twice at once

    async def attempt(n: int) -> Redemption | RewardRefused:
        try:
            return await redeem(store.engine, program, "ivy", "coffee" if n else "tote", f"ivy/{n}", T0)
        except RewardRefused as exc:
            return exc

    results = await asyncio.gather(attempt(0), attempt(1))
    assert sorted(type(result).__name__ for result in results) == ["Redemption", "RewardRefused"]
    refusal = next(result for result in results if isinstance(result, RewardRefused))
    assert refusal.reason == "points" and refusal.numbers == {"balance": 50, "cost": 100}
    assert await store.points.balance("ivy") == 50 == await remaining(store, "ivy")


async def test_two_concurrent_redemptions_of_the_last_one_in_stock_one_succeeds(store: Store) -> None:
    program = await deployed(store)
    await give(store, "jo", 500)
    await give(store, "kim", 500)

    async def attempt(customer_id: str) -> Redemption | RewardRefused:
        try:
            return await redeem(store.engine, program, customer_id, "tote", f"{customer_id}/tote", T0)
        except RewardRefused as exc:
            return exc

    results = await asyncio.gather(attempt("jo"), attempt("kim"))
    winners = [result for result in results if isinstance(result, Redemption)]
    losers = [result for result in results if isinstance(result, RewardRefused)]
    assert len(winners) == 1 and len(losers) == 1
    assert (losers[0].reason, losers[0].numbers) == ("stock", {"stock": 1, "redeemed": 1})
    assert sorted([await store.points.balance("jo"), await store.points.balance("kim")]) == [400, 500]
    async with store.engine.connect() as conn:
        assert (
            await conn.scalar(sa.select(reward_stock.c.redeemed).where(reward_stock.c.reward_id == "tote"))
            == 1
        )
    items = {item.reward.id: item for item in await catalog(store.engine, program)}
    assert items["tote"].stock_left == 0 and items["coffee"].stock_left is None


async def test_many_concurrent_redemptions_never_overspend(store: Store) -> None:
    program = await deployed(store)
    await give(store, "lee", 25)

    async def attempt(n: int) -> bool:
        try:
            await redeem(store.engine, program, "lee", "coffee" if n % 7 == 0 else "many", f"lee/{n}", T0)
        except RewardRefused:
            return False
        return True

    done = await asyncio.gather(*(attempt(n) for n in range(1, 40)))
    assert sum(done) == 25
    assert await store.points.balance("lee") == 0 == await remaining(store, "lee")


async def test_forgetting_a_customer_deletes_their_redemptions_and_unnames_their_vouchers(
    store: Store,
) -> None:
    program = await deployed(store)
    await give(store, "mo", 500)
    done = await redeem(store.engine, program, "mo", "coffee", "reward/mo/1", T0)
    assert await store.customers.forget("mo")
    async with store.engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(redemptions)) == 0
        row = (
            (await conn.execute(sa.select(vouchers).where(vouchers.c.code == done.voucher))).mappings().one()
        )
    assert (row["status"], row["customer_id"], row["redemption_key"]) == ("issued", None, None)

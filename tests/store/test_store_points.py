"""Points: one ledger row per key, balances never negative, tiers by lifetime points (from the active
loyalty program), badges kept; every award an available lot."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio

from store import Overdraw, Store
from tests.support.loyalty_program import deploy_tiers


@pytest_asyncio.fixture(loop_scope="session", autouse=True)
async def _tiers(store: Store) -> None:
    """Tiers come from the active loyalty program (bronze 100, silver 500, gold 1000 lifetime)."""
    await deploy_tiers(store)


async def test_award_is_idempotent_by_key(store: Store) -> None:
    first = await store.points.award("wf/1/bonus/1", "cust-1", 100, "Sign-up", "onboarding", "bonus")
    again = await store.points.award("wf/1/bonus/1", "cust-1", 100, "Sign-up", "onboarding", "bonus")
    assert not first.duplicate and again.duplicate
    assert again.model_dump(exclude={"duplicate"}) == first.model_dump(exclude={"duplicate"})
    assert await store.points.balance("cust-1") == 100
    assert len(await store.points.ledger("cust-1")) == 1


async def test_concurrent_awards_with_one_key_award_once(store: Store) -> None:
    results = await asyncio.gather(*(store.points.award("same-key", "cust-2", 30, "Race") for _ in range(5)))
    assert sum(not result.duplicate for result in results) == 1
    assert await store.points.balance("cust-2") == 30


async def test_concurrent_awards_with_different_keys_all_count(store: Store) -> None:
    await asyncio.gather(*(store.points.award(f"key-{n}", "cust-3", 10, "Many") for n in range(8)))
    assert await store.points.balance("cust-3") == 80


async def test_tiers_follow_lifetime_points(store: Store) -> None:
    result = await store.points.award("t1", "cust-4", 60, "a")
    assert (result.tier, result.previous_tier) == (None, None)
    result = await store.points.award("t2", "cust-4", 60, "b")
    assert (result.tier, result.previous_tier, result.lifetime_points) == ("bronze", None, 120)
    result = await store.points.award("t3", "cust-4", 900, "c")
    assert (result.tier, result.previous_tier) == ("gold", "bronze")  # skips silver: highest reached
    await store.points.redeem("r1", "cust-4", 1000, "Spend")
    result = await store.points.award("t4", "cust-4", 1, "d")
    assert (result.tier, result.previous_tier) == ("gold", "gold")  # spending keeps the tier
    assert (result.balance, result.lifetime_points) == (21, 1021)


async def test_badges_are_kept_once(store: Store) -> None:
    first = await store.points.award("b1", "cust-5", 10, "a", badge="newcomer")
    second = await store.points.award("b2", "cust-5", 10, "b", badge="newcomer")
    third = await store.points.award("b3", "cust-5", 10, "c", badge="comeback")
    assert (first.badge_new, second.badge_new, third.badge_new) == (True, False, True)
    customer = await store.customers.get("cust-5")
    assert customer is not None and customer.badges == ["newcomer", "comeback"]


async def test_negative_award_stops_at_zero(store: Store) -> None:
    await store.points.award("n1", "cust-6", 30, "a")
    result = await store.points.award("n2", "cust-6", -50, "Correction")
    assert (result.points, result.balance, result.lifetime_points) == (-30, 0, 30)
    assert await store.points.balance("cust-6") == 0


async def test_redeem_refuses_overdraw_and_is_idempotent(store: Store) -> None:
    await store.points.award("a1", "cust-7", 100, "Earn")
    with pytest.raises(Overdraw) as info:
        await store.points.redeem("r-big", "cust-7", 150, "Too much")
    assert (info.value.balance, info.value.requested) == (100, 150)
    assert "cannot redeem 150" in str(info.value)
    assert await store.points.balance("cust-7") == 100
    assert await store.points.redeem("r1", "cust-7", 60, "Voucher") == 40
    assert await store.points.redeem("r1", "cust-7", 60, "Voucher") == 40  # the retry spends nothing
    assert await store.points.balance("cust-7") == 40
    assert [entry.delta for entry in await store.points.ledger("cust-7")] == [100, -60]


async def test_redeem_must_spend_points(store: Store) -> None:
    with pytest.raises(ValueError):
        await store.points.redeem("r0", "cust-8", 0, "Nothing")


async def test_unknown_customer_has_no_points(store: Store) -> None:
    assert await store.points.balance("nobody") == 0
    assert await store.points.ledger("nobody") == []

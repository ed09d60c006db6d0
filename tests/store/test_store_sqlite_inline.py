"""An inline store (a simulation's): the same store on a SQLite file, its statements run on the
event loop's thread; idempotent awards, concurrent transactions and the event intake's own thread
work on it as on the default one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from store import Store
from store.sqlite_inline import InlineConnection
from store.tables import points_balances


async def inline_store(tmp_path: Path) -> Store:
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'journeys.db'}", inline=True)
    await store.create_schema()
    return store


async def test_statements_run_on_an_inline_connection(tmp_path: Path) -> None:
    store = await inline_store(tmp_path)
    try:
        async with store.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, InlineConnection)
        customer = await store.customers.upsert("cust-1", {"email": "ada@example.com", "plan": "pro"})
        assert customer.email == "ada@example.com" and customer.traits == {"plan": "pro"}
    finally:
        await store.close()


async def test_concurrent_awards_each_count_once(tmp_path: Path) -> None:
    store = await inline_store(tmp_path)
    try:
        keys = [f"run-1/step-{n % 10}" for n in range(40)]  # every key four times, all at once
        results = await asyncio.gather(*(store.points.award(key, "cust-1", 10, "bonus") for key in keys))
        assert sum(not result.duplicate for result in results) == 10
        assert await store.points.balance("cust-1") == 100
        assert len(await store.points.ledger("cust-1")) == 10
    finally:
        await store.close()


async def test_a_failed_transaction_rolls_back_and_the_store_goes_on(tmp_path: Path) -> None:
    store = await inline_store(tmp_path)
    try:
        with pytest.raises(RuntimeError):
            async with store.engine.begin() as conn:
                await conn.execute(points_balances.insert().values(customer_id="x", balance=1, lifetime=1))
                raise RuntimeError("the caller fails mid-transaction")
        assert await store.points.balance("x") == 0
        await store.points.award("run-2/bonus", "x", 5, "bonus")
        assert await store.points.balance("x") == 5
    finally:
        await store.close()


def test_an_inline_store_is_a_sqlite_file() -> None:
    with pytest.raises(ValueError, match="an inline store is a SQLite file"):
        Store("sqlite+aiosqlite:///:memory:", inline=True)

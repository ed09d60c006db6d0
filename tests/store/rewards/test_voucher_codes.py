"""Generated voucher codes: unique over 10,000 redemptions, unguessable (65 random bits each)."""

from __future__ import annotations

import asyncio
import math

import sqlalchemy as sa

from store import Store
from store.loyalty_tables import vouchers
from store.rewards import ALPHABET, CODE_SYMBOLS, generate_code, redeem
from tests.store.rewards.programs import T0, deployed, give

CUSTOMERS = 100
EACH = 100
LANES = 8


async def test_codes_are_unique_over_ten_thousand_redemptions(store: Store) -> None:
    """10,000 on SQLite; 1,000 on PostgreSQL (the codes do not depend on the database, and the
    unique constraint is the same: a tenth of the time on this shared machine)."""
    program = await deployed(store)
    each = EACH if store.dialect == "sqlite" else EACH // 10
    for n in range(CUSTOMERS):
        await give(store, f"c{n}", EACH)

    async def customer(n: int) -> list[str]:
        return [
            (await redeem(store.engine, program, f"c{n}", "many", f"c{n}/{k}", T0)).voucher
            for k in range(each)
        ]

    codes = [
        code for batch in await asyncio.gather(*(customer(n) for n in range(CUSTOMERS))) for code in batch
    ]
    assert len(codes) == CUSTOMERS * each == (10_000 if store.dialect == "sqlite" else 1_000)
    assert len(set(codes)) == len(codes)
    async with store.engine.connect() as conn:
        stored = await conn.scalar(sa.select(sa.func.count(sa.distinct(vouchers.c.code))))
    assert stored == len(codes)


def test_a_code_carries_at_least_sixty_bits_from_the_alphabet() -> None:
    assert CODE_SYMBOLS * math.log2(len(ALPHABET)) >= 60
    code = generate_code("SHIP")
    prefix, body = code.split("-")
    assert prefix == "SHIP" and len(body) == CODE_SYMBOLS and set(body) <= set(ALPHABET)
    assert len(set(ALPHABET)) == 32 and not set("01IO") & set(ALPHABET)
    assert len({generate_code("") for _ in range(1000)}) == 1000

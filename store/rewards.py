"""The rewards catalog: stock, per-customer limits, the tier required, vouchers, and redemption.

A redemption is one transaction, keyed by ``redemptions.key`` (the caller namespaces client keys
per customer, as ``api.routes.points.ledger_key`` does). In order, under the customer's balance
row lock (read with their tier in one statement):

1. a repeat of the key returns the first redemption (``duplicate=True``), changing nothing;
2. the reward must be in the active program (``unknown_reward``);
3. the balance must cover the cost (``points``);
4. the customer's tier must be at least the reward's (``tier``);
5. stock: the reward's ``reward_stock`` row locked, ``redeemed < stock`` (``stock``);
6. the customer's limit: fewer than ``per_customer`` redemptions of it before (``limit``);
7. a voucher: the oldest available code of the uploaded pool (``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL; ``pool_empty`` when none is left), or a generated one (``secrets``: 13 symbols of 32,
   65 bits, after the reward's prefix; unique by ``uq_vouchers_code``, drawn again on a collision),
   valid ``valid_for`` from now;
8. the points leave the lots first in, first out (``store.lots_spend``), with a ledger row.

Every refusal raises ``RewardRefused`` naming its reason, before anything is written (the
transaction rolls back). Lock order is always the customer's balance, then the reward's stock,
then vouchers and lots: concurrent redemptions queue, never deadlock. The caller emits the
returned ``reward_redeemed`` event after the commit (its id is the key's, so emitting twice is a
no-op).
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.events import CustomerEvent
from engine.durations import parse_duration
from engine.loyalty.program import Program
from engine.loyalty.schema import Reward
from store.inserts import dialect_insert, insert_ignore, insert_many_ignore
from store.lots_spend import consume_fifo
from store.loyalty_tables import redemptions, reward_stock, vouchers
from store.reading import reading
from store.tables import customers, points_balances, points_ledger

Reason = Literal["unknown_reward", "points", "tier", "stock", "limit", "pool_empty", "key_reused"]

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: no 0/O, no 1/I
CODE_SYMBOLS = 13  # 65 bits
CODE_ATTEMPTS = 8  # a collision of 65-bit codes is all but impossible; a few draws are plenty
MAX_UPLOAD = 1_000  # codes per upload (a request stays far below the body limit)
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{3,63}$"
_CODE = re.compile(CODE_PATTERN)


class RewardRefused(Exception):
    """A redemption refused, with its reason and the numbers behind it; nothing was changed."""

    def __init__(self, reason: Reason, message: str, **numbers: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.numbers = numbers


class Redemption(BaseModel):
    key: str
    customer_id: str
    reward_id: str
    cost: int
    voucher: str
    balance_after: int
    created_at: datetime
    expires_at: datetime
    duplicate: bool = False

    def event(self) -> CustomerEvent:
        """``reward_redeemed``, with an id of the key's: emitting it again is a no-op."""
        return CustomerEvent(
            event_id=f"loyalty/reward_redeemed/{self.key}",
            customer_id=self.customer_id,
            name="reward_redeemed",
            properties={
                "reward": self.reward_id,
                "voucher": self.voucher,
                "expires_at": self.expires_at.isoformat(),
                "cost": self.cost,
            },
            timestamp=self.created_at,
        )


@dataclass(frozen=True)
class CatalogItem:
    reward: Reward
    redeemed: int
    stock_left: int | None  # None: unlimited
    pool_available: int | None  # codes left in the pool (pool rewards only)


@dataclass(frozen=True)
class Upload:
    added: int
    duplicates: list[str]  # codes already known (any reward) or repeated in the upload


def generate_code(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_SYMBOLS))
    return f"{prefix}-{body}" if prefix else body


class _Raced(Exception):
    """A concurrent redemption with the same key committed first."""


# Reading the catalog.


async def catalog(engine: AsyncEngine, program: Program) -> list[CatalogItem]:
    """Every reward of the program with what is left of it (two reads whatever the catalog's size)."""
    async with reading(engine).connect() as conn:
        counts: dict[str, int] = dict(
            (await conn.execute(sa.select(reward_stock.c.reward_id, reward_stock.c.redeemed))).all()
        )
        pools: dict[str, int] = dict(
            (
                await conn.execute(
                    sa.select(vouchers.c.reward_id, sa.func.count())
                    .where(vouchers.c.status == "available")
                    .group_by(vouchers.c.reward_id)
                )
            ).all()
        )
    items = []
    for reward in program.source.rewards:
        redeemed = int(counts.get(reward.id, 0))
        left = None if reward.stock is None else max(reward.stock - redeemed, 0)
        pool = int(pools.get(reward.id, 0)) if reward.vouchers == "pool" else None
        items.append(CatalogItem(reward, redeemed, left, pool))
    return items


# Redeeming.


async def redeem(
    engine: AsyncEngine, program: Program | None, customer_id: str, reward_id: str, key: str, at: datetime
) -> Redemption:
    """Redeem ``reward_id`` for the customer under ``key`` (see the module docstring);
    ``RewardRefused`` when it cannot be."""
    try:
        async with engine.begin() as conn:
            return await _redeem(conn, program, customer_id, reward_id, key, at)
    except _Raced:
        async with reading(engine).connect() as conn:
            found = await _existing(conn, key)
        assert found is not None, f"redemption {key} vanished"
        return _check_same(found, reward_id)


async def _redeem(
    conn: AsyncConnection, program: Program | None, customer_id: str, reward_id: str, key: str, at: datetime
) -> Redemption:
    balance, lifetime, tier = await _locked_wallet(conn, customer_id)  # a same-key repeat waits here
    found = await _existing(conn, key)
    if found is not None:
        return _check_same(found, reward_id)
    reward = program.reward(reward_id) if program is not None else None
    if program is None or reward is None:
        raise RewardRefused("unknown_reward", f"there is no reward {reward_id!r} in the loyalty program")
    if balance < reward.cost:
        raise RewardRefused(
            "points",
            f"{reward.id} costs {reward.cost} points and the customer has {balance}",
            balance=balance,
            cost=reward.cost,
        )
    if reward.tier is not None and program.tier_rank(tier) < program.tier_rank(reward.tier):
        raise RewardRefused(
            "tier",
            f"{reward.id} needs tier {reward.tier}; the customer is {tier or 'in no tier'}",
            tier=tier,
            required_tier=reward.tier,
        )
    await _take_stock(conn, reward)
    await _check_limit(conn, reward, customer_id)
    expires_at = at + timedelta(seconds=parse_duration(reward.valid_for))
    code = await _voucher(conn, reward, customer_id, key, at, expires_at)
    await consume_fifo(conn, customer_id, reward.cost, at)
    after = balance - reward.cost
    ledger = {
        "key": key,
        "customer_id": customer_id,
        "delta": -reward.cost,
        "reason": f"Reward: {reward.name}"[:500],
        "balance_after": after,
        "lifetime_after": lifetime,
        "tier_before": tier,
        "tier_after": tier,
        "created_at": at,
    }
    row = {
        "key": key,
        "customer_id": customer_id,
        "reward_id": reward.id,
        "cost": reward.cost,
        "voucher_code": code,
        "balance_after": after,
        "created_at": at,
        "expires_at": expires_at,
    }
    if not await insert_ignore(conn, redemptions, row) or not await insert_ignore(
        conn, points_ledger, ledger
    ):
        raise _Raced(key)
    await conn.execute(
        points_balances.update().where(points_balances.c.customer_id == customer_id).values(balance=after)
    )
    return _redemption(row, duplicate=False)


_WALLET = (
    sa.select(points_balances.c.balance, points_balances.c.lifetime, customers.c.tier)
    .select_from(points_balances.outerjoin(customers, customers.c.id == points_balances.c.customer_id))
    .where(points_balances.c.customer_id == sa.bindparam("customer_id"))
    .with_for_update(of=points_balances)
)


async def _locked_wallet(conn: AsyncConnection, customer_id: str) -> tuple[int, int, str | None]:
    """(balance, lifetime, tier), the balance row locked; a customer without one has nothing to spend
    (and there is no row to lock: refused as ``points`` before anything else is read)."""
    row = (await conn.execute(_WALLET, {"customer_id": customer_id})).first()
    return (0, 0, None) if row is None else (int(row.balance), int(row.lifetime), row.tier)


async def _take_stock(conn: AsyncConnection, reward: Reward) -> None:
    """Count one more redeemed; when the reward has a stock, its row is locked first and ``stock``
    refused when none is left."""
    if reward.stock is None:
        await conn.execute(_count_one(conn.dialect.name), {"reward_id": reward.id})
        return
    await insert_ignore(conn, reward_stock, {"reward_id": reward.id, "redeemed": 0})
    redeemed = int(
        await conn.scalar(
            sa.select(reward_stock.c.redeemed).where(reward_stock.c.reward_id == reward.id).with_for_update()
        )
        or 0
    )
    if redeemed >= reward.stock:
        raise RewardRefused(
            "stock",
            f"{reward.id} is out of stock ({reward.stock} redeemed)",
            stock=reward.stock,
            redeemed=redeemed,
        )
    await conn.execute(
        reward_stock.update().where(reward_stock.c.reward_id == reward.id).values(redeemed=redeemed + 1)
    )


@functools.cache
def _count_one(dialect: str) -> sa.Insert:
    statement = dialect_insert(dialect)(reward_stock).values(reward_id=sa.bindparam("reward_id"), redeemed=1)
    return statement.on_conflict_do_update(
        index_elements=[reward_stock.c.reward_id], set_={"redeemed": reward_stock.c.redeemed + 1}
    )


async def _check_limit(conn: AsyncConnection, reward: Reward, customer_id: str) -> None:
    if reward.per_customer is None:
        return
    count = int(
        await conn.scalar(
            sa.select(sa.func.count()).where(
                redemptions.c.customer_id == customer_id, redemptions.c.reward_id == reward.id
            )
        )
        or 0
    )
    if count >= reward.per_customer:
        raise RewardRefused(
            "limit",
            f"{reward.id} may be redeemed {reward.per_customer} time(s) per customer; this one has {count}",
            limit=reward.per_customer,
            redeemed=count,
        )


async def _voucher(
    conn: AsyncConnection, reward: Reward, customer_id: str, key: str, at: datetime, expires_at: datetime
) -> str:
    issued = {"status": "issued", "customer_id": customer_id, "redemption_key": key, "issued_at": at}
    if reward.vouchers == "pool":
        row = (
            await conn.execute(
                sa.select(vouchers.c.id, vouchers.c.code)
                .where(vouchers.c.reward_id == reward.id, vouchers.c.status == "available")
                .order_by(vouchers.c.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).first()
        if row is None:
            raise RewardRefused("pool_empty", f"{reward.id} has no voucher codes left; upload more")
        await conn.execute(
            vouchers.update().where(vouchers.c.id == row.id).values(**issued, expires_at=expires_at)
        )
        return str(row.code)
    for _ in range(CODE_ATTEMPTS):
        code = generate_code(reward.prefix)
        values = {"reward_id": reward.id, "code": code, "expires_at": expires_at, **issued}
        if await insert_ignore(conn, vouchers, values):
            return code
    raise RuntimeError(f"{CODE_ATTEMPTS} generated codes for {reward.id} all collided")  # pragma: no cover


async def _existing(conn: AsyncConnection, key: str) -> dict[str, Any] | None:
    row = (await conn.execute(sa.select(redemptions).where(redemptions.c.key == key))).mappings().first()
    return None if row is None else dict(row)


def _check_same(row: dict[str, Any], reward_id: str) -> Redemption:
    if row["reward_id"] != reward_id:
        raise RewardRefused(
            "key_reused",
            f"this key already redeemed {row['reward_id']}, not {reward_id}",
            reward=row["reward_id"],
        )
    return _redemption(row, duplicate=True)


def _redemption(row: dict[str, Any], *, duplicate: bool) -> Redemption:
    return Redemption(
        key=row["key"],
        customer_id=row["customer_id"],
        reward_id=row["reward_id"],
        cost=row["cost"],
        voucher=row["voucher_code"],
        balance_after=row["balance_after"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        duplicate=duplicate,
    )


async def redemptions_of(engine: AsyncEngine, customer_id: str, limit: int = 100) -> list[Redemption]:
    """The customer's redemptions, newest first (at most ``limit``)."""
    async with reading(engine).connect() as conn:
        rows = (
            await conn.execute(
                sa.select(redemptions)
                .where(redemptions.c.customer_id == customer_id)
                .order_by(redemptions.c.id.desc())
                .limit(limit)
            )
        ).mappings()
        return [_redemption(dict(row), duplicate=False) for row in rows]


# Voucher pools.


def code_problems(codes: Sequence[str]) -> list[tuple[int, str]]:
    """(index, message) of each code that is not a voucher code; ``[]`` when all are."""
    return [
        (index, "4 to 64 letters, digits and hyphens, starting with a letter or digit")
        for index, code in enumerate(codes)
        if not _CODE.fullmatch(code)
    ]


async def upload(engine: AsyncEngine, reward_id: str, codes: Sequence[str], at: datetime) -> Upload:
    """Add ``codes`` (checked by the caller: ``code_problems``, at most ``MAX_UPLOAD``) to the reward's
    pool; codes already known (to any reward) or repeated are reported, not added."""
    unique = list(dict.fromkeys(codes))
    seen: set[str] = set()
    repeated = []
    for code in codes:
        if code in seen:
            repeated.append(code)
        seen.add(code)
    rows = [
        {"reward_id": reward_id, "code": code, "status": "available", "uploaded_at": at} for code in unique
    ]
    async with engine.begin() as conn:
        added = await insert_many_ignore(conn, vouchers, rows, vouchers.c.code)
    known = [code for code in unique if code not in added]
    return Upload(added=len(added), duplicates=list(dict.fromkeys(known + repeated)))

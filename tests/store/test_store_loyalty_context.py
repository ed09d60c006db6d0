"""customer.loyalty and customer.history: what the snapshot journeys see reads of the wallet, the
tier, purchases counted on ingest (once per event) and redemptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engine.loyalty.loader import validate_program_text
from engine.loyalty.program import Program
from store import Store
from store.customer_history import (
    MOST_CATEGORIES,
    MOST_PURCHASE,
    MOST_TOTAL,
    customer_history,
    history_events,
)
from store.events import Claim
from store.loyalty_context import loyalty_context
from store.loyalty_tables import loyalty_members, points_lots, redemptions
from store.measure_tables import purchases
from store.purchases import MOST_CENTS
from store.tables import points_balances

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
STALE = timedelta(minutes=5)

PROGRAM_TEXT = """
program: test
tiers:
  qualify_on: {qualify_on}
  window_months: 12
  levels:
    - {{name: member, threshold: 0}}
    - {{name: silver, threshold: 1000, perks: [free_shipping]}}
    - {{name: gold, threshold: 5000, perks: [free_shipping, early_access]}}
expiry: {{after_months: 12, remind_before: 30d}}
"""


def program(qualify_on: str = "window") -> Program:
    loaded, errors = validate_program_text(PROGRAM_TEXT.format(qualify_on=qualify_on), "test.yaml")
    assert loaded is not None, errors
    return loaded


def lot(customer_id: str, key: str, points: int, status: str, **values: Any) -> dict[str, Any]:
    row = {
        "key": key,
        "customer_id": customer_id,
        "reason": "Purchase",
        "points": points,
        "remaining": points,
        "status": status,
        "earned_at": T0 - 20 * DAY,
        "available_at": T0 - 6 * DAY,
        "expires_at": None,
    }
    return {**row, **values}


async def seed_wallet(store: Store) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(
            sa.insert(points_balances), [{"customer_id": "ada", "balance": 1300, "lifetime": 6000}]
        )
        await conn.execute(
            sa.insert(points_lots),
            [
                lot("ada", "p1", 200, "pending", available_at=T0 + 8 * DAY),
                lot("ada", "p2", 50, "pending", available_at=T0 + 9 * DAY),
                lot("ada", "x1", 999, "cancelled"),
                # available, expiring in 10 and 10 days (same day, summed) and in 20 days
                lot("ada", "a1", 300, "available", remaining=100, expires_at=T0 + 10 * DAY),
                lot("ada", "a2", 400, "available", expires_at=T0 + 10 * DAY + timedelta(hours=3)),
                lot("ada", "a3", 500, "available", expires_at=T0 + 20 * DAY),
                # beyond the reminder window, and already past
                lot("ada", "a4", 300, "available", expires_at=T0 + 60 * DAY),
                lot("ada", "old", 700, "expired", remaining=0, earned_at=T0 - 400 * DAY, expires_at=T0 - DAY),
            ],
        )


async def context(store: Store, customer_id: str, prog: Program | None, at: datetime = T0) -> Any:
    async with store.engine.connect() as conn:
        return await loyalty_context(conn, customer_id, prog, at)


async def test_loyalty_reads_the_wallet_the_tier_and_what_expires_soon(store: Store) -> None:
    await seed_wallet(store)
    seen = (await context(store, "ada", program())).loyalty
    assert seen.available == 1300 and seen.pending == 250 and seen.lifetime == 6000
    day10, day20 = (T0 + 10 * DAY).date().isoformat(), (T0 + 20 * DAY).date().isoformat()
    assert [(e.points, e.date) for e in seen.expiring_soon] == [(500, day10), (500, day20)]
    # Earned in the last 12 months: the available lots (1500), not pending, cancelled or older ones.
    assert (seen.tier, seen.next_tier, seen.points_to_next) == ("silver", "gold", 3500)
    assert seen.perks == ["free_shipping"]


async def test_the_members_tier_wins_and_lifetime_qualification_counts_lifetime_points(store: Store) -> None:
    await seed_wallet(store)
    async with store.engine.begin() as conn:
        await conn.execute(
            sa.insert(loyalty_members), [{"customer_id": "ada", "tier": "member", "updated_at": T0}]
        )
    member = (await context(store, "ada", program())).loyalty
    assert (member.tier, member.next_tier, member.points_to_next, member.perks) == ("member", "silver", 0, [])
    async with store.engine.begin() as conn:
        await conn.execute(loyalty_members.update().values(tier="gold"))
    top = (await context(store, "ada", program("lifetime"))).loyalty
    assert (top.tier, top.next_tier, top.points_to_next) == ("gold", None, 0)
    assert top.perks == ["free_shipping", "early_access"]


async def test_without_a_program_the_wallet_reads_and_there_is_no_ladder(store: Store) -> None:
    await seed_wallet(store)
    seen = (await context(store, "ada", None)).loyalty
    assert (seen.available, seen.pending, seen.tier, seen.next_tier, seen.perks) == (
        1300,
        250,
        None,
        None,
        [],
    )
    assert len(seen.expiring_soon) == 2  # 30 days by default


async def test_a_customer_with_nothing_reads_zeros(store: Store) -> None:
    seen = await context(store, "nobody", program())
    assert (
        seen.loyalty.available == 0 and seen.loyalty.tier == "member" and seen.loyalty.next_tier == "silver"
    )
    assert seen.history.purchase_count == 0 and seen.history.last_purchase_at is None
    assert seen.history.top_categories == [] and seen.history.most_redeemed_reward is None


def purchase(event_id: str, customer_id: str, at: datetime, **properties: Any) -> Claim:
    return Claim(event_id, customer_id, "purchase_completed", at, properties=properties)


async def intake(store: Store, *claims: Claim) -> list[str]:
    return [c.state for c in await store.events.intake(list(claims), stale_after=STALE)]


async def test_purchases_are_counted_on_ingest_once_per_event(store: Store) -> None:
    assert await intake(
        store,
        purchase("e1", "ada", T0 - 40 * DAY, total=120000, categories=["shoes", "socks"]),
        purchase("e2", "ada", T0 - 10 * DAY, total=80000.5, categories=["shoes", "bags", "shoes"]),
        purchase("e1", "ada", T0 - 40 * DAY, total=120000, categories=["shoes"]),  # a repeat in the batch
        Claim("e3", "ada", "signed_up", T0 - 50 * DAY, properties={"total": 5}),  # not a purchase
    ) == ["new", "new", "pending", "new"]
    await store.events.release("e2")  # its delivery failed: the sender sends it again
    assert await intake(store, purchase("e2", "ada", T0 - 10 * DAY, total=80000.5, categories=["shoes"])) == [
        "new"
    ]
    assert await intake(store, purchase("e1", "ada", T0 - 40 * DAY, total=120000)) == ["pending"]
    history = (await context(store, "ada", None)).history
    assert history.purchase_count == 2 and history.purchase_total == 200000.5
    assert history.last_purchase_at == (T0 - 10 * DAY).isoformat()
    assert history.days_since_last_purchase == 10
    assert history.top_categories == ["shoes", "bags", "socks"]


async def test_what_a_purchase_holds_is_bounded(store: Store) -> None:
    many = [f"c{i:03}" for i in range(MOST_CATEGORIES + 30)]
    await intake(
        store,
        purchase("b1", "bo", T0, total="a lot", categories="shoes"),
        purchase("b2", "bo", T0, total=float("inf"), categories=[1, None, "", "x" * 500]),
        purchase("b3", "bo", T0, total=True, categories=["x" * 500, *many[:20]]),
        purchase("b4", "bo", T0, total=-5, categories=many[20:40]),
        purchase("b5", "bo", T0, categories=many[40:]),
    )
    async with store.engine.connect() as conn:
        row = (await conn.execute(sa.select(customer_history))).one()
    assert row.purchase_count == 5 and row.purchase_total == 0
    assert len(row.categories) == MOST_CATEGORIES and row.categories["x" * 100] == 2  # bought most: kept


async def test_huge_totals_are_capped_so_the_history_stays_a_finite_number(store: Store) -> None:
    # Events pass the API with any finite total: two of 1e308 summed to infinity, and a 400-digit
    # integer overflowed the conversion to float; the history and the revenue both stay numbers.
    await store.customers.upsert("rich", {"first_name": "Rich"})
    states = await intake(
        store,
        purchase("h1", "rich", T0, total=1e308),
        purchase("h2", "rich", T0, total=1e308),
        purchase("h3", "rich", T0, total=int("9" * 400)),
        purchase("h4", "rich", T0, total=1.7e308, revenue=1.8e308),
    )
    assert states == ["new"] * 4
    async with store.engine.connect() as conn:
        row = (await conn.execute(sa.select(customer_history))).one()
        cents = list(await conn.scalars(sa.select(purchases.c.amount_cents).order_by(purchases.c.event_id)))
    assert row.purchase_count == 4 and row.purchase_total == 4 * MOST_PURCHASE
    assert cents == [MOST_CENTS] * 4
    snapshot = await store.customers.snapshot("rich", at=T0)
    assert snapshot.history is not None and snapshot.history.purchase_total == 4 * MOST_PURCHASE


async def test_a_total_stored_as_infinity_reads_as_the_bound_and_the_customer_can_be_erased(
    store: Store,
) -> None:
    # A row written before the bound: the snapshot every journey reads must still be a snapshot.
    await store.customers.upsert("old", {"first_name": "Old"})
    await intake(store, purchase("o1", "old", T0, total=10))
    async with store.engine.begin() as conn:
        await conn.execute(customer_history.update().values(purchase_total=float("inf")))
    snapshot = await store.customers.snapshot("old", at=T0)
    assert snapshot.history is not None and snapshot.history.purchase_total == MOST_TOTAL
    assert (await context(store, "old", None)).history.purchase_total == MOST_TOTAL
    await intake(store, purchase("o2", "old", T0, total=5))  # counting on from it stays bounded
    async with store.engine.connect() as conn:
        assert await conn.scalar(sa.select(customer_history.c.purchase_total)) == MOST_TOTAL
    assert await store.customers.forget("old")


async def test_the_reward_redeemed_most_often(store: Store) -> None:
    def redemption(key: str, reward: str, day: int) -> dict[str, Any]:
        at = T0 - day * DAY
        return {
            "key": key,
            "customer_id": "ada",
            "reward_id": reward,
            "cost": 500,
            "voucher_code": key.upper(),
            "balance_after": 0,
            "created_at": at,
            "expires_at": at + 30 * DAY,
        }

    async with store.engine.begin() as conn:
        await conn.execute(
            sa.insert(redemptions),
            [
                redemption("r1", "free_coffee", 9),
                redemption("r2", "free_shipping_voucher", 8),
                redemption("r3", "free_coffee", 7),
                redemption("r4", "free_shipping_voucher", 1),
            ],
        )
    # A tie (two each): the one redeemed last.
    assert (await context(store, "ada", None)).history.most_redeemed_reward == "free_shipping_voucher"


async def test_the_snapshot_journeys_see_carries_loyalty_and_history(store: Store) -> None:
    await store.customers.upsert("ada", {"first_name": "Ada"})
    await seed_wallet(store)
    await intake(store, purchase("e1", "ada", T0, total=100, categories=["shoes"]))
    snapshot = await store.customers.snapshot("ada", at=T0)  # as a run at T0 sees it, like before_send
    assert snapshot.loyalty is not None and snapshot.loyalty.pending == 250
    assert snapshot.history is not None and snapshot.history.top_categories == ["shoes"]
    seen = snapshot.as_context()
    assert seen["loyalty"]["available"] == 1300 and seen["history"]["purchase_count"] == 1
    before = await store.before_send("no-such-key", "ada", None, T0)
    assert before.customer.history == snapshot.history
    claimed = await store.events.intake(
        [Claim("e9", "ada", "tier_changed", T0, customer=True)], stale_after=STALE
    )
    assert claimed[0].customer is not None and claimed[0].customer.loyalty == snapshot.loyalty
    unknown = await store.customers.snapshot("nobody")
    assert not unknown.exists and unknown.as_context()["history"]["purchase_count"] == 0


async def test_forgetting_a_customer_deletes_their_history(store: Store) -> None:
    await store.customers.upsert("ada", {"first_name": "Ada"})
    await intake(store, purchase("e1", "ada", T0, total=100))
    assert await store.customers.forget("ada")
    async with store.engine.connect() as conn:
        for table in (customer_history, history_events):
            assert (await conn.scalar(sa.select(sa.func.count()).select_from(table))) == 0


async def test_the_snapshot_reads_tier_wallet_and_history_as_the_context_does(store: Store) -> None:
    # The snapshot joins the rows a customer has one of (balance, membership, history) to the
    # customer's row; the loyalty context reads them one table at a time: both must agree.
    text = PROGRAM_TEXT.format(qualify_on="window")
    await store.loyalty_programs.deploy(program(), text)
    for customer in ("ada", "bob", "cy"):
        await store.customers.upsert(customer, {"first_name": customer.title()})
    await seed_wallet(store)
    async with store.engine.begin() as conn:
        await conn.execute(
            sa.insert(loyalty_members), [{"customer_id": "ada", "tier": "gold", "updated_at": T0}]
        )
    await intake(store, purchase("e1", "ada", T0 - DAY, total=80, categories=["hats"]))
    await intake(store, purchase("e2", "bob", T0 - 3 * DAY, total=20))
    for customer in ("ada", "bob", "cy"):
        snapshot = await store.customers.snapshot(customer, at=T0)
        read_alone = await context(store, customer, program())
        assert (snapshot.loyalty, snapshot.history) == (read_alone.loyalty, read_alone.history), customer
    ada, bob = await store.customers.snapshot("ada", at=T0), await store.customers.snapshot("bob", at=T0)
    assert ada.loyalty is not None and (ada.loyalty.tier, ada.loyalty.available) == ("gold", 1300)
    assert ada.history is not None and (ada.history.purchase_count, ada.history.top_categories) == (
        1,
        ["hats"],
    )
    assert bob.history is not None and (bob.history.days_since_last_purchase, bob.history.purchase_total) == (
        3,
        20,
    )
    assert bob.loyalty is not None and (bob.loyalty.available, bob.loyalty.tier) == (0, "member")

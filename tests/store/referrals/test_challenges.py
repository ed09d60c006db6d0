"""Challenges: a round counts each qualifying event once, completes once, lapses with its window."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from store import Store, challenges
from store.loyalty_outcome import Outcome
from tests.store.referrals.programs import T0, balance_and_lots, event, in_tx, ledger_keys, program

PROGRAM = program()
DAY = timedelta(days=1)


async def buy(
    store: Store, event_id: str, at: datetime, customer_id: str = "ada", **properties: Any
) -> Outcome:
    happened = event(event_id, customer_id, "purchase_completed", at, **properties)
    return await in_tx(store, lambda conn: challenges.on_event(conn, PROGRAM, customer_id, happened, at))


async def progress(store: Store, at: datetime, customer_id: str = "ada") -> dict[str, challenges.Progress]:
    found = await in_tx(store, lambda conn: challenges.progress(conn, PROGRAM, customer_id, at))
    return {item.challenge: item for item in found}


async def test_completed_once_even_when_the_completing_event_repeats(store: Store) -> None:
    first = await buy(store, "p1", T0, total=10)
    assert first.events == [] and first.next_due == T0 + 30 * DAY
    await buy(store, "p1", T0, total=10)  # a repeat counts nothing
    assert (await progress(store, T0))["three_in_thirty"].count == 1
    await buy(store, "p2", T0 + DAY, total=10)
    done = await buy(store, "p3", T0 + 2 * DAY, total=10)
    repeated = await buy(store, "p3", T0 + 2 * DAY, total=10)
    more = await buy(store, "p4", T0 + 3 * DAY, total=10)  # not repeatable: over for good
    assert [(e.name, e.properties, e.event_id) for e in done.events] == [
        (
            "challenge_completed",
            {"challenge": "three_in_thirty", "round": 1},
            "loyalty/challenge_completed/ada/three_in_thirty/1",
        ),
        (
            "points_earned",
            {
                "points": 300,
                "rule": "challenge_three_in_thirty",
                "available_at": "2026-12-03T12:00:00+00:00",
                "pending": False,
            },
            "loyalty/points_earned/challenge/ada/three_in_thirty/1",
        ),
    ]
    assert repeated.events == [] and more.events == []
    assert await ledger_keys(store, "ada") == ["challenge/ada/three_in_thirty/1"]
    assert await balance_and_lots(store, "ada") == (300, 300)
    customer = await store.customers.get("ada")
    assert customer is not None and customer.badges == ["regular"]
    seen = (await progress(store, T0 + 3 * DAY))["three_in_thirty"]
    assert (seen.status, seen.count, seen.needed, seen.round, seen.completions) == ("completed", 3, 3, 1, 1)


async def test_a_window_that_lapses_closes_and_the_next_event_starts_a_round(store: Store) -> None:
    await buy(store, "p1", T0)
    await buy(store, "p2", T0 + 10 * DAY)
    settled = await in_tx(store, lambda conn: challenges.settle(conn, PROGRAM, "ada", T0 + 10 * DAY))
    assert settled.next_due == T0 + 30 * DAY  # the window's end
    after = await in_tx(store, lambda conn: challenges.settle(conn, PROGRAM, "ada", T0 + 30 * DAY))
    assert after.next_due is None  # closed: nothing due
    lapsed = (await progress(store, T0 + 30 * DAY))["three_in_thirty"]
    assert (lapsed.status, lapsed.count, lapsed.round) == ("lapsed", 2, 1)
    late = await buy(store, "p3", T0 + 30 * DAY)  # at ends_at: outside the window
    assert late.events == [] and late.next_due == T0 + 60 * DAY
    fresh = (await progress(store, T0 + 30 * DAY))["three_in_thirty"]
    assert (fresh.status, fresh.count, fresh.round, fresh.completions) == ("open", 1, 2, 0)
    assert await ledger_keys(store, "ada") == []


async def test_a_repeatable_challenge_and_its_condition(store: Store) -> None:
    assert (await progress(store, T0))["big_spender"].status is None  # not started
    await buy(store, "small", T0, total=10)  # does not meet where
    assert (await progress(store, T0))["big_spender"].round is None
    names = []
    for n in range(4):
        outcome = await buy(store, f"big{n}", T0 + n * timedelta(hours=1), total=9000)
        names.append(
            [e.properties["round"] for e in outcome.events if e.properties.get("challenge") == "big_spender"]
        )
    assert names == [[], [1], [], [2]]
    assert "challenge/ada/big_spender/2" in await ledger_keys(store, "ada")
    assert (await progress(store, T0 + 4 * timedelta(hours=1)))["big_spender"].completions == 2


async def test_events_at_once_count_each_and_complete_once(store: Store) -> None:
    results = await asyncio.gather(*(buy(store, f"p{n}", T0, total=10) for n in range(5)))
    completions = [
        e for outcome in results for e in outcome.events if e.properties.get("challenge") == "three_in_thirty"
    ]
    assert len(completions) == 1
    seen = (await progress(store, T0))["three_in_thirty"]
    assert (seen.count, seen.status, seen.round) == (3, "completed", 1)
    assert await ledger_keys(store, "ada") == ["challenge/ada/three_in_thirty/1"]

"""Group commit of event ids: concurrent claims (with their customers' traits) share one write and still
answer each event; an event the store refuses fails alone."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import StatementError

from contracts.events import CustomerEvent
from ingest.claims import EventClaims
from store import Store
from store.events import Claimed


def event(event_id: str) -> CustomerEvent:
    return CustomerEvent(event_id=event_id, customer_id="c1", name="signed_up")


async def test_concurrent_claims_own_first_arrivals_and_see_repeats_as_pending_or_done(store: Store) -> None:
    claims = EventClaims(store)
    assert await claims.claim(event("old")) == "new"
    await claims.complete_soon("old")  # delivered long ago
    answers = await asyncio.gather(*(claims.claim(event(i)) for i in ["a", "b", "a", "old", "c", "b"]))
    assert answers == ["new", "new", "pending", "done", "new", "pending"]
    assert await claims.claim(event("c")) == "pending"  # still being delivered
    await claims.complete_soon("c")
    assert [await claims.claim(event(i)) for i in ["a", "b", "c"]] == ["pending", "pending", "done"]


async def test_a_released_claim_is_delivered_by_the_retry(store: Store) -> None:
    claims = EventClaims(store)
    assert await claims.claim(event("r")) == "new"
    assert await claims.claim(event("r")) == "pending"  # a retry while the first attempt runs
    await claims.release("r")  # the first attempt failed: nothing was acknowledged
    assert await claims.claim(event("r")) == "new"  # so the next retry delivers it


async def test_a_claim_abandoned_by_a_crashed_process_is_taken_over(store: Store) -> None:
    rows = [("z", "c1", "signed_up", None)]
    assert await store.events.claim(rows, stale_after=timedelta(minutes=2)) == {"z": "new"}
    assert await store.events.claim(rows, stale_after=timedelta(minutes=2)) == {"z": "pending"}
    assert await store.events.claim(rows, stale_after=timedelta(0)) == {"z": "new"}


async def test_a_failed_write_fails_every_waiter_of_that_write(tmp_path: Path) -> None:
    unmigrated = Store(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")  # no tables: every write fails
    claims = EventClaims(unmigrated)
    try:
        results = await asyncio.gather(
            claims.claim(event("x")), claims.claim(event("y")), return_exceptions=True
        )
    finally:
        await unmigrated.close()
    assert [type(r).__name__ for r in results] == ["OperationalError", "OperationalError"]


async def test_a_completion_queued_before_a_repeat_is_written_first(store: Store) -> None:
    claims = EventClaims(store)
    assert await claims.claim(event("q")) == "new"
    done = claims.complete_soon("q")  # the router answers the sender without waiting for this write
    assert await claims.claim(event("q")) == "done"  # the sender's immediate repeat is a duplicate
    assert done.done() and done.exception() is None


def signup(event_id: str, customer_id: str, traits: dict[str, Any]) -> CustomerEvent:
    return CustomerEvent(event_id=event_id, customer_id=customer_id, name="signed_up", traits=traits)


async def test_a_burst_of_events_is_one_transaction_with_their_traits(store: Store) -> None:
    claims = EventClaims(store)
    commits: list[object] = []

    def listener(conn: object) -> None:
        commits.append(conn)

    sa.event.listen(sa.Engine, "commit", listener)  # any engine: on a SQLite file the intake has its own
    try:
        taken = await asyncio.gather(
            *(claims.take(signup(f"e{n}", f"c{n}", {"first_name": f"N{n}"}), customer=True) for n in range(8))
        )
    finally:
        sa.event.remove(sa.Engine, "commit", listener)
    assert len(commits) == 1  # eight claims, eight customers' traits and their snapshots: one commit
    assert [(t.state, t.customer.first_name if t.customer else None) for t in taken] == [
        ("new", f"N{n}") for n in range(8)
    ]
    customer = await store.customers.get("c3")
    assert customer is not None and customer.first_name == "N3"


async def test_an_event_whose_data_the_store_refuses_fails_alone(store: Store) -> None:
    claims = EventClaims(store)
    unstorable = signup("bad", "c-bad", {"first_name": "Bad"})
    # Built past validation, as no request could send it: a trait that is not JSON at all.
    object.__setattr__(unstorable, "traits", {"colour": {1, 2}})
    answers = await asyncio.gather(
        claims.take(signup("good-1", "c1", {"first_name": "One"})),
        claims.take(unstorable),
        claims.take(signup("good-2", "c2", {"first_name": "Two"})),
        return_exceptions=True,
    )
    assert isinstance(answers[1], StatementError)
    assert [a.state for a in (answers[0], answers[2]) if isinstance(a, Claimed)] == ["new", "new"]
    assert await claims.claim(event("bad")) == "new"  # nothing of the refused event was kept
    assert await store.customers.get("c-bad") is None
    two = await store.customers.get("c2")
    assert two is not None and two.first_name == "Two"

"""Group commit of event ids: concurrent claims share one write and still answer each event."""

from __future__ import annotations

import asyncio
from pathlib import Path

from runtime.claims import EventClaims
from store import Store
from workflows.models import CustomerEvent


def event(event_id: str) -> CustomerEvent:
    return CustomerEvent(event_id=event_id, customer_id="c1", name="signed_up")


async def test_concurrent_claims_answer_first_arrivals_true_and_repeats_false(store: Store) -> None:
    claims = EventClaims(store)
    await store.events.mark_processed("old", "c1", "signed_up")
    answers = await asyncio.gather(*(claims.claim(event(i)) for i in ["a", "b", "a", "old", "c", "b"]))
    assert answers == [True, True, False, False, True, False]
    assert await claims.claim(event("c")) is False
    assert [await store.events.seen(i) for i in ["a", "b", "c"]] == [True, True, True]


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

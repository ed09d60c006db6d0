"""Sends being retried: noted per key, counted per step, gone once the send is logged or failed."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.activities import DeliveryResult
from store import Store

T0 = datetime(2030, 1, 1, tzinfo=UTC)


async def _note(store: Store, key: str, step: str, attempt: int, version: str = "v1") -> None:
    await store.retries.note(
        key,
        channel="email",
        journey="onboarding",
        version=version,
        step=step,
        customer_id=key,
        reason="SMTP server unavailable",
        attempt=attempt,
        at=T0,
    )


async def test_retries_are_counted_per_step_once_per_key(store: Store) -> None:
    await _note(store, "a", "welcome", 1)
    await _note(store, "a", "welcome", 2)  # the same send again: still one
    await _note(store, "b", "welcome", 1)
    await _note(store, "c", "reminder", 1, version="v2")

    assert await store.retries.by_step("onboarding") == {"welcome": 2, "reminder": 1}
    assert await store.retries.by_step("onboarding", "v2") == {"reminder": 1}
    assert await store.retries.by_step("winback") == {}


async def test_a_logged_or_abandoned_send_is_no_longer_retrying(store: Store) -> None:
    await _note(store, "a", "welcome", 3)
    await _note(store, "b", "welcome", 1)
    sent = DeliveryResult(status="sent", channel="email", recipient="a@example.com")
    await store.deliveries.record(
        "a", sent, customer_id="a", journey="onboarding", version="v1", step="welcome", at=T0
    )
    await store.retries.clear("b")

    assert await store.retries.by_step("onboarding") == {}

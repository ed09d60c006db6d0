"""Per-step counts for the diagram, last entries for cooldowns, processed event ids."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from contracts.activities import DeliveryResult
from contracts.records import StepRecord
from store import Store

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def step(
    customer: str, kind: str, name: str | None, hours: int = 0, journey: str = "onboarding"
) -> StepRecord:
    return StepRecord(
        journey=journey,
        version="v1",
        workflow_id=f"journey/{journey}/{customer}",
        customer_id=customer,
        step=name,
        kind=kind,
        at=T0 + timedelta(hours=hours),
    )


async def test_stats_count_entries_completions_sends_skips_conversions_and_points(store: Store) -> None:
    records = []
    for n, customer in enumerate(["a", "b", "c"]):
        records += [step(customer, "journey_entered", None, n), step(customer, "entered", "welcome", n)]
    records += [step("a", "completed", "welcome", 1), step("b", "completed", "welcome", 2)]
    records += [step("a", "converted", "wait_purchase", 5), step("a", "journey_exited", None, 5)]
    records += [step("z", "entered", "welcome", journey="winback")]
    await store.steps.record(records)
    for customer, status in (("a", "sent"), ("b", "sent"), ("c", "skipped")):
        await store.deliveries.record(
            f"journey/onboarding/{customer}/e1/welcome/1",
            DeliveryResult(status=status, channel="email"),
            customer_id=customer,
            journey="onboarding",
            version="v1",
            step="welcome",
            at=T0,
        )
    await store.points.award(
        "pa", "a", 100, "Sign-up", journey="onboarding", version="v1", step="signup_bonus"
    )
    await store.points.award(
        "pb", "b", 100, "Sign-up", journey="onboarding", version="v1", step="signup_bonus"
    )

    stats = await store.steps.stats("onboarding")

    assert (stats.entered, stats.exited, stats.active, stats.conversions) == (3, 1, 2, 1)
    welcome = stats.steps["welcome"]
    assert (welcome.entered, welcome.completed, welcome.waiting) == (3, 2, 1)
    assert (welcome.sends, welcome.skips) == (2, 1)
    assert stats.steps["signup_bonus"].points_awarded == 200
    assert stats.steps["wait_purchase"].conversions == 1
    assert (await store.steps.stats("winback")).steps["welcome"].entered == 1
    assert (await store.steps.stats("nothing")).steps == {}


async def test_recording_the_same_step_twice_counts_once(store: Store) -> None:
    batch = [step("a", "entered", "welcome"), step("a", "completed", "welcome")]
    await store.steps.record(batch)
    await store.steps.record(batch)
    await store.steps.record([])
    assert len(await store.steps.for_customer("a")) == 2


async def test_recordings_at_once_from_many_runs_count_each_record_once(store: Store) -> None:
    """On a SQLite file records are written in a thread of their own, beside the store's other
    writes; whatever the path, overlapping batches recorded at the same time count once."""
    batches = [
        [step(f"c{i % 5}", "entered", "welcome"), step(f"c{i % 5}", "completed", "welcome", hours=1)]
        for i in range(20)
    ]
    other_writes = [store.customers.set_stage(f"c{i}", "acquisition", T0) for i in range(5)]

    await asyncio.gather(*(store.steps.record(batch) for batch in batches), *other_writes)

    stats = await store.steps.stats("onboarding")
    assert (stats.steps["welcome"].entered, stats.steps["welcome"].completed) == (5, 5)
    for i in range(5):
        assert len(await store.steps.for_customer(f"c{i}")) == 2


async def test_last_entry_is_the_latest_journey_entry(store: Store) -> None:
    assert await store.steps.last_entry("winback", "a") is None
    await store.steps.record(
        [step("a", "journey_entered", None, 0, "winback"), step("a", "journey_entered", None, 48, "winback")]
    )
    await store.steps.record([step("a", "entered", "watch", 72, "winback")])
    assert await store.steps.last_entry("winback", "a") == T0 + timedelta(hours=48)
    assert await store.steps.last_entry("onboarding", "a") is None


async def test_deliveries_keep_the_first_record_per_key(store: Store) -> None:
    sent = DeliveryResult(status="sent", channel="email", recipient="a@example.com", message_id="<m@x>")
    again = DeliveryResult(status="skipped", channel="email", reason="late duplicate")
    for result in (sent, again):
        recorded = await store.deliveries.record(
            "k", result, customer_id="a", journey="onboarding", version="v1", step="welcome", at=T0
        )
        assert recorded == sent
    assert await store.deliveries.get("k") == sent
    assert await store.deliveries.get("unknown") is None
    assert await store.deliveries.for_customer("a") == [sent]


async def test_claiming_many_events_in_one_write_tells_new_pending_and_done(store: Store) -> None:
    stale = timedelta(minutes=2)
    assert await store.events.claim([("e1", "c1", "signed_up", None)], stale_after=stale) == {"e1": "new"}
    states = await store.events.claim(
        [("e1", "c1", "signed_up", None), ("e2", "c1", "profile_completed", None), ("e2", "c1", "x", None)],
        stale_after=stale,
        complete_first=["e1"],  # e1 was delivered: its completion is written before the claims
    )
    assert states == {"e1": "done", "e2": "new"}
    assert await store.events.claim([("e2", "c1", "profile_completed", None)], stale_after=stale) == {
        "e2": "pending"
    }
    await store.events.release("e2")
    assert await store.events.claim([("e2", "c1", "profile_completed", None)], stale_after=stale) == {
        "e2": "new"
    }
    assert await store.events.claim([], stale_after=stale, complete_first=["e2"]) == {}
    assert await store.events.claim([("e2", "c1", "profile_completed", None)], stale_after=stale) == {
        "e2": "done"
    }


async def test_an_event_id_claimed_for_another_event_is_reused_and_its_claim_stays_as_it_was(
    store: Store,
) -> None:
    stale = timedelta(minutes=2)
    await store.events.claim(
        [("done", "c1", "signed_up", None), ("held", "c1", "signed_up", None)], stale_after=stale
    )
    await store.events.claim([], stale_after=stale, complete_first=["done"])

    states = await store.events.claim(
        [
            ("done", "c2", "signed_up", None),  # another customer
            ("held", "c1", "purchase_completed", None),  # another event of the same customer
        ],
        stale_after=timedelta(0),  # even an abandoned claim is not taken over by another event
    )

    assert states == {"done": "reused", "held": "reused"}
    again = await store.events.claim(
        [("done", "c1", "signed_up", None), ("held", "c1", "signed_up", None)], stale_after=stale
    )
    assert again == {"done": "done", "held": "pending"}

"""The counters kept on write: whatever arrives, in whatever batches, repeated or not, the live
counts equal a full count of the rows stored; and migration 0006 fills them from rows already there."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from contracts.activities import DeliveryResult
from contracts.records import StepRecord
from store import Store
from store.migrate import upgrade
from store.steps import JourneyCounts, StepTally
from store.tables import deliveries, points_ledger, step_events

T0 = datetime(2030, 1, 1, tzinfo=UTC)
KINDS = ["entered", "completed", "journey_entered", "journey_exited", "converted"]
STEPS = ["welcome", "wait_profile", "bonus"]
DETAILS = ["", "wait_profile", "bonus", "end", "left: unsubscribed"]
VERSIONS = ["v1", "v2"]


def random_record(rng: random.Random) -> StepRecord:
    customer = f"c{rng.randrange(6)}"
    return StepRecord(
        journey="onboarding",
        version=rng.choice(VERSIONS),
        workflow_id=f"journey/onboarding/{customer}",
        customer_id=customer,
        step=rng.choice([*STEPS, None]),
        kind=rng.choice(KINDS),
        detail=rng.choice(DETAILS),
        at=T0 + timedelta(hours=rng.randrange(400), minutes=rng.randrange(60)),
    )


def summary(counts: JourneyCounts) -> dict[str, object]:
    """What the page draws, without steps that have nothing to show."""
    steps = {name: tally.model_dump() for name, tally in counts.steps.items() if tally != StepTally()}
    return {**counts.model_dump(exclude={"steps"}), "steps": steps}


async def recount(store: Store, version: str | None, since: datetime) -> JourneyCounts:
    """The counts as a full scan of the stored rows gives them: what the counters must equal."""
    counts = JourneyCounts(journey="onboarding", version=version)
    e, d, p = step_events.c, deliveries.c, points_ledger.c
    async with store.engine.connect() as conn:
        rows = (await conn.execute(sa.select(e.version, e.step, e.kind, e.detail, e.at))).all()
        sends = (await conn.execute(sa.select(d.version, d.step, d.status))).all()
        awards = (await conn.execute(sa.select(p.key, p.step, p.delta))).all()
    hour = since.replace(minute=0, second=0, microsecond=0)
    for row_version, step, kind, detail, at in rows:
        if version not in (None, row_version):
            continue
        tally = counts.steps.setdefault(step, StepTally()) if step else None
        if kind == "journey_entered":
            counts.entered += 1
            counts.entered_since += at >= hour
        elif kind == "journey_exited":
            counts.exited += 1
        elif kind == "converted":
            counts.conversions += 1
            if tally is not None:
                tally.conversions += 1
        elif tally is not None and kind == "entered":
            tally.entered += 1
        elif tally is not None and kind == "completed":
            tally.completed += 1
            tally.outcomes[detail] = tally.outcomes.get(detail, 0) + 1
    for row_version, step, status in sends:
        if version in (None, row_version):
            tally = counts.steps.setdefault(step, StepTally())
            tally.deliveries[status] = tally.deliveries.get(status, 0) + 1
    for key, step, delta in awards:
        award_version = key.split("/")[-1]  # the tests below end each award key with its version
        if version in (None, award_version):
            counts.steps.setdefault(step, StepTally()).points += delta
    for tally in counts.steps.values():
        tally.waiting = max(tally.entered - tally.completed, 0)
    counts.active = max(counts.entered - counts.exited, 0)
    return counts


async def test_counts_equal_a_full_recount_whatever_the_batches_and_repeats(store: Store) -> None:
    rng = random.Random(20261201)
    written: list[StepRecord] = []
    for round_ in range(40):
        batch = [random_record(rng) for _ in range(rng.randrange(1, 12))]
        # Retried writes: a batch again, a mix of old and new, the same record twice in one batch.
        if written and rng.random() < 0.4:
            batch += rng.sample(written, min(len(written), rng.randrange(1, 6)))
        if rng.random() < 0.2:
            batch.append(batch[0])
        written += batch
        await store.steps.record(batch)
        if rng.random() < 0.5:
            customer = f"c{rng.randrange(6)}"
            version = rng.choice(VERSIONS)
            status = rng.choice(["sent", "skipped", "failed"])
            key = f"journey/onboarding/{customer}/e{round_ % 7}/welcome/1"
            result = DeliveryResult(status=status, channel="email")
            await store.deliveries.record(
                key,
                result,
                customer_id=customer,
                journey="onboarding",
                version=version,
                step="welcome",
                at=T0,
            )
        if rng.random() < 0.5:
            version = rng.choice(VERSIONS)
            key = f"journey/onboarding/c1/e{round_ % 9}/bonus/{version}"
            await store.points.award(
                key, "c1", rng.randrange(1, 50), "Bonus", journey="onboarding", version=version, step="bonus"
            )
    since = T0 + timedelta(hours=200, minutes=30)
    for shown in (None, *VERSIONS):
        kept = await store.steps.counts("onboarding", shown, since=since)
        assert summary(kept) == summary(await recount(store, shown, since)), shown
    assert (await store.steps.counts("onboarding", "v1")).entered > 0  # the scenario did count something


async def test_a_send_being_retried_counts_on_its_step_until_it_is_logged(store: Store) -> None:
    await store.retries.note(
        "journey/onboarding/c1/e1/welcome/1",
        channel="email",
        journey="onboarding",
        version="v1",
        step="welcome",
        customer_id="c1",
        reason="SMTP down",
        attempt=2,
    )
    assert (await store.steps.counts("onboarding", "v1")).steps["welcome"].retrying == 1
    assert "welcome" not in (await store.steps.counts("onboarding", "v2")).steps
    sent = DeliveryResult(status="sent", channel="email")
    await store.deliveries.record(
        "journey/onboarding/c1/e1/welcome/1",
        sent,
        customer_id="c1",
        journey="onboarding",
        version="v1",
        step="welcome",
        at=T0,
    )
    welcome = (await store.steps.counts("onboarding", "v1")).steps["welcome"]
    assert (welcome.retrying, welcome.deliveries) == (0, {"sent": 1})


async def test_migration_0006_fills_the_counters_from_the_rows_already_stored(tmp_path: Path) -> None:
    rng = random.Random(6)
    store = Store(f"sqlite+aiosqlite:///{tmp_path}/old.db")
    try:
        async with store.engine.begin() as conn:
            await conn.run_sync(upgrade, "0005")
        # A day after the welcome entries below, so each delivery's latest entry is one of those.
        records = [random_record(rng) for _ in range(300)]
        records = [r.model_copy(update={"at": r.at + timedelta(days=1)}) for r in records]
        entries = [r.model_copy(update={"kind": "entered", "step": "welcome", "at": T0}) for r in records[:6]]
        rows = [{"key": f"k{n}", **r.model_dump()} for n, r in enumerate([*records, *entries])]
        async with store.engine.begin() as conn:
            await conn.execute(step_events.insert(), rows)
            for n, entry in enumerate(entries):  # an email and points at each run's welcome entry
                base = {"customer_id": entry.customer_id, "journey": "onboarding", "step": "welcome"}
                await conn.execute(
                    deliveries.insert(),
                    {
                        "key": f"d{n}",
                        "channel": "email",
                        "status": "sent",
                        "at": T0 + timedelta(minutes=1),
                        **base,
                    },
                )
                await conn.execute(
                    points_ledger.insert(),
                    {
                        "key": f"p{n}/{entry.version}",
                        "delta": 10 + n,
                        "reason": "Bonus",
                        "balance_after": 0,
                        "lifetime_after": 0,
                        "created_at": T0 + timedelta(minutes=1),
                        **base,
                    },
                )
        await store.migrate()
        since = T0 + timedelta(hours=100)
        for version in (None, *VERSIONS):
            kept = await store.steps.counts("onboarding", version, since=since)
            assert summary(kept) == summary(await recount(store, version, since)), version
        sent = 0
        for version in VERSIONS:
            welcome = (await store.steps.counts("onboarding", version)).steps.get("welcome", StepTally())
            sent += welcome.deliveries.get("sent", 0)
        assert sent == 6  # every old delivery found the version it was sent under
    finally:
        await store.close()

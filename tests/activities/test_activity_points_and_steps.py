"""award, set_stage, record_steps and load_customer: idempotent, on the workflow clock, with events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from activities.journey_activities import JourneyActivities
from config.settings import Settings
from contracts.activities import AwardRequest, SetStageRequest
from contracts.records import StepRecord
from engine.limits import MAX_POINTS
from store import Store
from tests.support import FailOnce, RecordingEventSink
from tests.support.failures import SimulatedCrash
from tests.support.loyalty_program import deploy_tiers

AT = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest_asyncio.fixture(loop_scope="session", autouse=True)
async def _tiers(store: Store) -> None:
    """Tiers come from the active loyalty program (bronze 100, silver 500, gold 1000 lifetime)."""
    await deploy_tiers(store)


def award_request(
    step: str, points: int, badge: str | None = None, customer_id: str = "cust-1"
) -> AwardRequest:
    return AwardRequest(
        key=f"journey/onboarding/{customer_id}/e1/{step}/1",
        workflow_id=f"journey/onboarding/{customer_id}",
        journey="onboarding",
        version="v1",
        step=step,
        customer_id=customer_id,
        at=AT,
        points=points,
        reason=step.replace("_", " "),
        badge=badge,
    )


@pytest.fixture
def activities(store: Store, settings: Settings, event_sink: RecordingEventSink) -> JourneyActivities:
    return JourneyActivities(store, settings, event_sink)


async def test_award_emits_tier_and_badge_events(
    activities: JourneyActivities, event_sink: RecordingEventSink
) -> None:
    first = await activities.award(award_request("signup_bonus", 100, badge="newcomer"))
    assert (first.balance, first.tier, first.previous_tier, first.badge_new) == (100, "bronze", None, True)
    assert event_sink.names() == ["tier_changed", "badge_awarded", "points_awarded"]
    tier_event, badge_event, awarded = event_sink.events
    assert (awarded.event_id, awarded.properties) == (
        f"{first_key()}/points_awarded",
        {"points": 100, "balance": 100},
    )
    assert tier_event.event_id == f"{first_key()}/tier_changed"
    assert tier_event.properties == {"tier": "bronze", "previous_tier": None, "lifetime_points": 100}
    assert tier_event.timestamp == AT
    assert badge_event.properties == {"badge": "newcomer"}

    await activities.award(award_request("profile_bonus", 50))  # no new tier, no badge
    assert event_sink.names()[3:] == ["points_awarded"]
    await activities.award(award_request("first_purchase_bonus", 400, badge="newcomer"))
    assert event_sink.names()[4:] == ["tier_changed", "points_awarded"]
    assert event_sink.events[-2].properties["tier"] == "silver"


def first_key() -> str:
    return award_request("signup_bonus", 100).key


async def test_award_retried_after_the_ledger_commit_awards_nothing_more(
    store: Store, settings: Settings, event_sink: RecordingEventSink
) -> None:
    crash = FailOnce("award")
    activities = JourneyActivities(store, settings, event_sink, fail_after=crash)
    req = award_request("signup_bonus", 100, badge="newcomer")

    with pytest.raises(SimulatedCrash):
        await activities.award(req)
    assert event_sink.events == []  # the crash came before the events went out
    retried = await activities.award(req)

    assert retried.duplicate and retried.balance == 100
    assert len(await store.points.ledger("cust-1")) == 1
    assert await store.points.balance("cust-1") == 100
    assert event_sink.names() == ["tier_changed", "badge_awarded", "points_awarded"]  # the retry emits them


async def test_a_duplicate_award_re_emits_with_the_same_event_ids(
    activities: JourneyActivities, event_sink: RecordingEventSink
) -> None:
    req = award_request("signup_bonus", 100, badge="newcomer")
    await activities.award(req)
    await activities.award(req)
    assert event_sink.emitted == 6
    assert event_sink.names() == ["tier_changed", "badge_awarded", "points_awarded"]


async def test_award_records_on_the_workflow_clock(activities: JourneyActivities, store: Store) -> None:
    await activities.award(award_request("signup_bonus", 10))
    [entry] = await store.points.ledger("cust-1")
    assert entry.created_at == AT


async def test_set_stage_moves_the_customer(activities: JourneyActivities, store: Store) -> None:
    await store.customers.upsert("cust-2", {"email": "s@example.com"})
    req = SetStageRequest(
        key="journey/onboarding/cust-2/e1/joined/1",
        workflow_id="journey/onboarding/cust-2",
        journey="onboarding",
        version="v1",
        step="joined",
        customer_id="cust-2",
        at=AT,
        stage="acquisition",
    )
    result = await activities.set_stage(req)
    assert (result.previous, result.stage) == ("reach", "acquisition")
    assert (await activities.load_customer("cust-2")).stage == "acquisition"


async def test_record_steps_is_idempotent_and_feeds_the_counts(
    store: Store, settings: Settings, event_sink: RecordingEventSink
) -> None:
    crash = FailOnce("record_steps")
    activities = JourneyActivities(store, settings, event_sink, fail_after=crash)

    def record(kind: str, step: str | None, minutes: int) -> StepRecord:
        return StepRecord(
            journey="onboarding",
            version="v1",
            workflow_id="journey/onboarding/cust-3",
            customer_id="cust-3",
            step=step,
            kind=kind,
            at=AT + timedelta(minutes=minutes),
        )

    batch = [
        record("journey_entered", None, 0),
        record("entered", "joined", 0),
        record("completed", "joined", 0),
    ]
    with pytest.raises(SimulatedCrash):
        await activities.record_steps(batch)
    await activities.record_steps(batch)
    await activities.record_steps([record("entered", "welcome", 1)])

    stats = await store.steps.stats("onboarding")
    assert stats.entered == 1
    assert (stats.steps["joined"].entered, stats.steps["joined"].completed) == (1, 1)
    assert (stats.steps["welcome"].entered, stats.steps["welcome"].waiting) == (1, 1)
    assert await store.steps.last_entry("onboarding", "cust-3") == AT


async def test_an_award_scheduled_before_the_cap_gives_at_most_what_one_award_gives(
    activities: JourneyActivities,
) -> None:
    # A run whose expression gave 2**63 before awards were capped retries with that input for ever:
    # the activity caps it, so the wallet's 64-bit column takes the award.
    result = await activities.award(award_request("huge_bonus", 2**63, customer_id="cust-huge"))
    assert (result.points, result.balance) == (MAX_POINTS, MAX_POINTS)

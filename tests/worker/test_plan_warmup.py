"""A worker holds the deployed journeys' current plans before its first workflow task."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from activities.plans import StoredPlans
from contracts.plans import PlanRef
from store import Store
from tests.support.plans import waiting_journey as journey
from worker.service import warm_plans
from workflows.plans import PLANS

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"


async def test_the_current_plan_of_every_journey_is_held_before_any_run_asks(store: Store) -> None:
    older, current, other = journey("warm_a", "1d"), journey("warm_a", "2d"), journey("warm_b")
    for plan in (older, current, other):
        await store.deployments.deploy(plan, source="")
    stored = StoredPlans(store)

    await warm_plans(stored)
    stored.close()  # nothing more is read: what the runs get now is what warming held

    assert await stored.get(current.journey, current.version) == current
    assert await stored.get(other.journey, other.version) == other
    assert await stored.get(older.journey, older.version) is None  # an older version: read when asked
    for plan in (current, other):
        assert PLANS.cached(PlanRef(journey=plan.journey, version=plan.version)) == plan


async def test_a_store_that_cannot_be_read_leaves_the_runs_to_read_their_plans(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = Store(f"sqlite+aiosqlite:///{tmp_path / 'no_schema.db'}")  # no tables: every read fails
    try:
        with caplog.at_level(logging.WARNING, logger="journeys.worker"):
            await warm_plans(StoredPlans(broken))
    finally:
        await broken.close()

    assert "could not read the deployed plans" in caplog.text

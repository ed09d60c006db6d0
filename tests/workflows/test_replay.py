"""Recorded histories of the example journeys replay on today's interpreter (guarantee 3).

A breaking change to ``JourneyWorkflow`` makes this fail with a non-determinism error: guard it
with a patch registered in ``workflows/patches.py`` instead of re-recording (docs/patches.md).
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from engine.compiler import content_version
from engine.loader import journey_files
from engine.plan import Plan
from tests.support.backend_referral import BACKEND_REFERRAL_FILE
from worker.service import sandboxed_runner
from workflows.journey import JourneyWorkflow
from workflows.plans import PLANS

HERE = Path(__file__).resolve().parent
HISTORIES = sorted((HERE / "histories").glob("*.json"))
# The plans histories name by version, as the store keeps them (recorded_histories.py writes them).
PLAN_FILES = sorted((HERE / "histories" / "plans").glob("*.json"))
JOURNEYS = HERE.parents[1] / "journeys"
# The baseline generation tests/workflows/recorded_histories.py records: a run of every example
# journey, and an entry that queued the next one and continued as new into it.
BASELINE = [
    "onboarding-converts",
    "onboarding-quiet",
    "onboarding-leaves",
    "winback-converts",
    "referral-converts",
    "engagement-quiet",
    "referral-reentry",
]


# The example journeys added since the baseline was recorded (#15): they run the same interpreter,
# and their plans use no command the recorded histories do not (an award by expression or to the
# referrer is the same award activity).
SINCE_BASELINE = {
    "challenge",
    "earn_on_purchase",
    "points_expiring",
    "referral_native",
    "tier_downgrade",
    "winback_personal",
    # #16: a scheduled trigger is a trigger event like any other to the interpreter; the scheduler
    # that enters it has its own recorded history (tests/workflows/schedules).
    "vip_weekly",
}


def test_histories_of_every_example_journey_are_recorded() -> None:
    # The baseline's referral journey (a backend sends referral_completed) left the examples for
    # tests/fixtures/backend_referral when referral_native replaced it; its histories replay as before.
    journeys = {path.stem for path in journey_files(JOURNEYS)} | {BACKEND_REFERRAL_FILE.stem}
    assert journeys - SINCE_BASELINE == {"onboarding", "winback", "referral", "engagement"}
    assert {name.split("-")[0] for name in BASELINE} == journeys - SINCE_BASELINE
    recorded = {path.stem for path in HISTORIES}
    assert [name for name in BASELINE if name not in recorded] == []


def test_the_reentry_history_continues_as_new_into_the_next_entry() -> None:
    events = json.loads((HERE / "histories" / "referral-reentry.json").read_text())["events"]
    assert events[-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"


def recorded_plans() -> dict[str, Plan]:
    return {path.stem: Plan.model_validate_json(path.read_text()) for path in PLAN_FILES}


def test_each_recorded_plan_is_the_version_it_is_filed_under() -> None:
    plans = recorded_plans()
    assert plans, "no plan recorded beside the histories"
    for name, plan in plans.items():
        assert name == f"{plan.journey}-{plan.version}" and content_version(plan) == plan.version


def test_every_plan_a_history_names_is_recorded() -> None:
    named = set()
    for path in HISTORIES:
        for event in json.loads(path.read_text())["events"]:
            started = event.get("workflowExecutionStartedEventAttributes")
            if started is None:
                continue
            data = json.loads(base64.b64decode(started["input"]["payloads"][0]["data"]))
            if data.get("plan_ref") is not None:
                named.add(f"{data['plan_ref']['journey']}-{data['plan_ref']['version']}")
    assert named, "no recorded history names its plan"
    assert sorted(named - set(recorded_plans())) == []


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    for plan in recorded_plans().values():  # what a worker's store holds: every deployed version
        PLANS.add(plan)
    replayer = Replayer(
        workflows=[JourneyWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=sandboxed_runner(),
    )
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"

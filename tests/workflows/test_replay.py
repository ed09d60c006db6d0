"""Recorded histories of the example journeys replay on today's interpreter (guarantee 3).

A breaking change to ``JourneyWorkflow`` makes this fail with a non-determinism error: guard it
with a patch registered in ``workflows/patches.py`` instead of re-recording (docs/patches.md).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker.service import sandboxed_runner
from workflows.journey import JourneyWorkflow

HERE = Path(__file__).resolve().parent
HISTORIES = sorted((HERE / "histories").glob("*.json"))
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


def test_histories_of_every_example_journey_are_recorded() -> None:
    journeys = {path.stem for path in JOURNEYS.glob("*.yaml")}
    assert journeys == {"onboarding", "winback", "referral", "engagement"}
    assert {name.split("-")[0] for name in BASELINE} == journeys
    recorded = {path.stem for path in HISTORIES}
    assert [name for name in BASELINE if name not in recorded] == []


def test_the_reentry_history_continues_as_new_into_the_next_entry() -> None:
    events = json.loads((HERE / "histories" / "referral-reentry.json").read_text())["events"]
    assert events[-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=[JourneyWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=sandboxed_runner(),
    )
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"

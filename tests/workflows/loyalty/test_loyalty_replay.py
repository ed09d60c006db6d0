"""Recorded histories of the loyalty workflow replay on today's code (as the journeys' do).

A breaking change to ``LoyaltyWorkflow`` makes this fail with a non-determinism error: guard it with
``workflow.patched`` instead of re-recording.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker.service import sandboxed_runner
from workflows.loyalty import LoyaltyWorkflow

HISTORIES = sorted((Path(__file__).resolve().parent / "histories").glob("*.json"))
RECORDED = {path.stem: path.read_text() for path in HISTORIES}


def test_a_loyalty_history_is_recorded_with_timers_signals_and_activities() -> None:
    assert [path.stem for path in HISTORIES][:1] == ["loyalty-eve"]
    types = {event["eventType"] for event in json.loads(RECORDED["loyalty-eve"])["events"]}
    assert {
        "EVENT_TYPE_TIMER_FIRED",
        "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED",
        "EVENT_TYPE_ACTIVITY_TASK_COMPLETED",
    } <= types


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_recorded_loyalty_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=[LoyaltyWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=sandboxed_runner(),
    )
    history = WorkflowHistory.from_json(path.stem, RECORDED[path.stem])
    await replayer.replay_workflow(history)

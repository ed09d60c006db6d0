"""The recorded history of a scheduler (two Mondays, a replan between) replays on today's code."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker.service import sandboxed_runner
from workflows.scheduled_entries import ScheduledEntriesWorkflow

HISTORY = Path(__file__).resolve().parent / "histories" / "scheduler-two-mondays.json"


def test_the_history_holds_two_occurrences_of_entries() -> None:
    events = json.loads(HISTORY.read_text())["events"]
    names = [
        event["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for event in events
        if event["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
    ]
    assert names.count("schedule_enter_page") == 4  # Jakarta and Berlin, on two Mondays
    assert any(event["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED" for event in events)


async def test_the_recorded_scheduler_replays() -> None:
    replayer = Replayer(
        workflows=[ScheduledEntriesWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=sandboxed_runner(),
    )
    history = WorkflowHistory.from_json("schedule/vip_monday", await asyncio.to_thread(HISTORY.read_text))
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure

"""Recorded histories of the example journeys replay on today's interpreter (guarantee 3).

A breaking change to ``JourneyWorkflow`` makes this fail with a non-determinism error: guard it
with ``workflow.patched(...)`` instead of re-recording.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker.service import sandboxed_runner
from workflows.journey import JourneyWorkflow

HISTORIES = sorted((Path(__file__).resolve().parent / "histories").glob("*.json"))


def test_histories_of_every_example_journey_are_recorded() -> None:
    journeys = {path.stem.split("-")[0] for path in HISTORIES}
    assert journeys == {"onboarding", "winback", "referral", "engagement"}


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=[JourneyWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=sandboxed_runner(),
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


OLDER_WORKER = [p for p in HISTORIES if p.stem.endswith("-3")]  # loaded the customer itself


@pytest.mark.parametrize("path", OLDER_WORKER, ids=[p.stem for p in OLDER_WORKER])
async def test_a_run_an_older_worker_began_with_the_customer_in_its_input_replays(path: Path) -> None:
    """During an upgrade the new router may start a run (customer in its input) that an older
    worker picks up: that worker ignored the field and ran load_customer; replay must agree."""
    history = json.loads(path.read_text())
    events = history["events"]
    loaded = next(
        _decoded(event["markerRecordedEventAttributes"]["details"]["result"])
        for event in events
        if event.get("markerRecordedEventAttributes", {}).get("markerName") == "core_local_activity"
    )
    started = events[0]["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]
    entry = _decoded({"payloads": [started]})
    started["data"] = base64.b64encode(json.dumps({**entry, "customer": loaded}).encode()).decode()

    replayer = Replayer(
        workflows=[JourneyWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=sandboxed_runner(),
    )
    result = await replayer.replay_workflow(
        WorkflowHistory.from_json(path.stem, json.dumps(history)), raise_on_replay_failure=False
    )
    assert loaded["id"] == entry["customer_id"]  # the marker found is the customer's load
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


def _decoded(payloads: dict[str, Any]) -> Any:
    return json.loads(base64.b64decode(payloads["payloads"][0]["data"]))

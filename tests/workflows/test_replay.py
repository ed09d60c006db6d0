"""Recorded histories of the example journeys replay on today's interpreter (guarantee 3).

A breaking change to ``JourneyWorkflow`` makes this fail with a non-determinism error: guard it
with ``workflow.patched(...)`` instead of re-recording.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from runtime.worker import sandboxed_runner
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

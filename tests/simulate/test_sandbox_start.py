"""A Sandbox starts its test server beside its other set-up: a set-up that fails leaves no test
server running, and a Sandbox that starts names its worker's build id (no hash of every module)."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.loader import compile_file
from simulate.sandbox import BUILD_ID, Sandbox

ONBOARDING = Path(__file__).resolve().parents[2] / "journeys" / "onboarding.yaml"


def running_test_servers() -> set[int]:
    """Processes of this test run's own that are Temporal's time-skipping test server."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"temporal-test-server" in command:
            found.add(int(entry))
    return found


async def test_a_failed_set_up_stops_the_test_server() -> None:
    before = running_test_servers()
    # The settings are refused while the test server is still starting.
    with pytest.raises(ValidationError, match="session_hours"):
        async with Sandbox.open([compile_file(ONBOARDING)], settings={"session_hours": -1}):
            pass
    # Nothing is left starting in the background either (it would start a server later).
    assert [task for task in asyncio.all_tasks() if task is not asyncio.current_task()] == []
    assert running_test_servers() - before == set()


async def test_the_worker_is_named_by_the_sandbox_s_build_id() -> None:
    plan = compile_file(ONBOARDING)
    async with Sandbox.open([plan], sandboxed=False, migrate=False) as sandbox:
        await sandbox.event("signed_up", "build-id-1", traits={"email": "ada@example.com"})
        await sandbox.sleep(timedelta(minutes=1))  # the run's first workflow tasks complete
        history = await sandbox.handle("onboarding", "build-id-1").fetch_history()
    completed = [e for e in history.events if e.HasField("workflow_task_completed_event_attributes")]
    assert completed
    assert completed[0].workflow_task_completed_event_attributes.binary_checksum == BUILD_ID

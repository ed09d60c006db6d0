"""The worker's knobs come from the JOURNEYS_WORKER_* settings and reach the SDK's worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.journey_activities import JourneyActivities
from config.settings import Settings
from ingest.router import EventRouter
from simulate.test_server import start_test_server
from store.database import Store
from worker.service import build_worker, worker_tuning


def test_each_worker_setting_names_its_knob(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYS_WORKER_CACHE", "250")
    monkeypatch.setenv("JOURNEYS_WORKER_WORKFLOW_TASKS", "40")
    monkeypatch.setenv("JOURNEYS_WORKER_WORKFLOW_POLLERS", "8")
    monkeypatch.setenv("JOURNEYS_WORKER_STICKY_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("JOURNEYS_WORKER_SANDBOX", "true")
    assert worker_tuning(Settings()) == {
        "max_cached_workflows": 250,
        "max_concurrent_workflow_tasks": 40,
        "workflow_task_polls": 8,
        "sticky_timeout_seconds": 3.0,
        "sandboxed": True,
    }


def test_the_defaults_are_those_the_sizing_section_measured() -> None:
    assert worker_tuning(Settings()) == {
        "max_cached_workflows": 1000,
        "max_concurrent_workflow_tasks": 100,
        "workflow_task_polls": 5,
        "sticky_timeout_seconds": 10.0,
        "sandboxed": False,
    }


@pytest.mark.parametrize("pollers", ["1", "101"])
def test_pollers_out_of_bounds_are_refused_by_name(monkeypatch: pytest.MonkeyPatch, pollers: str) -> None:
    monkeypatch.setenv("JOURNEYS_WORKER_WORKFLOW_POLLERS", pollers)
    with pytest.raises(ValidationError, match="worker_workflow_pollers"):
        Settings()


async def test_the_sdk_worker_is_built_with_them(tmp_path: Path) -> None:
    env = await start_test_server()
    client = env.client
    settings = Settings(data_dir=tmp_path, worker_workflow_pollers=7, worker_workflow_tasks=30)
    store = Store(settings.store_url())
    await store.migrate()
    router = EventRouter(client, store, "tuning")
    activities = JourneyActivities(store, settings, router)
    try:
        config = build_worker(client, "tuning", store, activities, **worker_tuning(settings)).config()
        assert config["max_concurrent_workflow_task_polls"] == 7
        assert config["max_concurrent_workflow_tasks"] == 30
        assert config["max_cached_workflows"] == 1000
        assert isinstance(config["workflow_runner"], UnsandboxedWorkflowRunner)
        sandboxed = settings.model_copy(update={"worker_sandbox": True})
        config = build_worker(client, "tuning-2", store, activities, **worker_tuning(sandboxed)).config()
        assert isinstance(config["workflow_runner"], SandboxedWorkflowRunner)
    finally:
        await activities.close()
        await router.close()
        await store.close()
        await env.shutdown()

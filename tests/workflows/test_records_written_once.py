"""A run's step records count once even when the workflow makes them again: referral ``r0``'s run
writes its last records (its exit) in its last workflow task; a second referral ``r1`` is signalled
while that write is held, so the server refuses the task's completion and the task runs again,
making the same records at a later time. The store keeps them once (the record's entry and number
are its key, not its time): two entries, two exits, two awards, two emails.

The backend-computed referral journey (``entry: always``, tests/fixtures/backend_referral) on the dev
server, one worker in this test.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from temporalio import activity

from activities.journey_activities import JourneyActivities
from config.settings import Settings
from contracts.events import CustomerEvent
from contracts.records import StepRecord
from ingest.router import EventRouter
from outbox.server import OutboxServer
from store.database import Store
from tests.support import free_port
from tests.support.backend_referral import backend_referral_plan
from tests.support.dev_server import dev_server
from worker.service import build_worker


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


async def test_records_made_again_by_a_rerun_task_count_once() -> None:
    work = Path(tempfile.mkdtemp(prefix="journeys-repro-"))
    referral = backend_referral_plan()
    async with dev_server() as env:
        outbox = OutboxServer("127.0.0.1", free_port(), work / "outbox")
        outbox.start()
        store = Store(f"sqlite+aiosqlite:///{work / 'journeys.db'}")
        try:
            await store.migrate()
            await store.deployments.deploy(referral, source="")
            settings = Settings(
                _env_file=None,
                data_dir=work,
                smtp_port=outbox.port,
                task_queue="repro",
                worker_metrics_port=0,
            )
            router = EventRouter(env.client, store, settings.task_queue)
            activities = HeldAtTheEnd(store, settings, router)
            activities.held, activities.release = asyncio.Event(), asyncio.Event()
            traits = {"email": "ada@example.com", "first_name": "Ada"}
            async with build_worker(env.client, settings.task_queue, store, activities):
                first = CustomerEvent(
                    event_id="r0", customer_id="ada", name="referral_completed", traits=traits
                )
                await router.route(first)
                await activities.held.wait()  # the first entry's last task is writing its step records
                second = CustomerEvent(event_id="r1", customer_id="ada", name="referral_completed")
                signalled = await router.route(second)
                activities.release.set()
                await env.client.get_workflow_handle("journey/referral/ada").result()
                ledger = [entry.key for entry in await store.points.ledger("ada")]
                stats = await store.steps.stats("referral")
                emails = len(outbox.messages())
            await activities.close()
            await router.close()
            assert signalled.signalled == ["referral"]  # r1 reached the run as it was ending
            assert activities.exits_written >= 2  # the last task ran again and made its records again
            assert (stats.entered, stats.exited) == (2, 2)
            assert ledger == [
                "journey/referral/ada/r0/referral_bonus/1",
                "journey/referral/ada/r1/referral_bonus/1",
            ]
            assert emails == 2
        finally:
            await store.close()
            outbox.stop()
            shutil.rmtree(work, ignore_errors=True)

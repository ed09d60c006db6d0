"""Segments on the time-skipping server: a customer who stops buying enters inactive_30d on day 30
without any event (the durable sweep), and a segment-entered journey starts once when a customer
qualifies and once more only after they left and re-qualified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest_asyncio
import sqlalchemy as sa

from activities.segments import start_sweep
from engine.loader import compile_text
from engine.segments.loader import load_segments
from engine.segments.sweep import SWEEP_WORKFLOW_ID, SweepInput
from simulate.sandbox import Sandbox
from store.tables import processed_events, step_events

REPO = Path(__file__).resolve().parents[3]
DAY = timedelta(days=1)
JOURNEY = """
journey: vip_welcome
stage: loyalty
trigger: {event: segment_entered, where: "event.properties.segment == 'vip'"}
entry: always
steps:
  - {id: done, exit: null}
"""


@pytest_asyncio.fixture(loop_scope="session")
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    plan = compile_text(JOURNEY, "vip_welcome.yaml", REPO / "journeys" / "templates")
    async with Sandbox.open([plan], workdir=tmp_path) as opened:
        opened.router.segments.use(load_segments(REPO / "journeys"))
        assert await start_sweep(opened.client, opened.settings.task_queue, SweepInput(pause_seconds=0))
        yield opened


async def segment_events(sandbox: Sandbox, customer_id: str) -> list[str]:
    """The segment changes the router took for the customer, in order of entry number."""
    async with sandbox.store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(processed_events.c.event_id)
            .where(
                processed_events.c.event_id.like("segment/%"), processed_events.c.customer_id == customer_id
            )
            .order_by(processed_events.c.claimed_at)
        )
        return [row.event_id for row in rows]


async def entries(sandbox: Sandbox, journey: str, customer_id: str) -> int:
    async with sandbox.store.engine.connect() as conn:
        count = await conn.scalar(
            sa.select(sa.func.count()).where(
                step_events.c.journey == journey,
                step_events.c.customer_id == customer_id,
                step_events.c.kind == "journey_entered",
            )
        )
    return int(count or 0)


async def test_a_customer_who_stops_buying_enters_inactive_30d_on_day_30(sandbox: Sandbox) -> None:
    await sandbox.event("purchase_completed", "ada", {"total": 20}, traits={"email": "ada@example.com"})
    assert await segment_events(sandbox, "ada") == []
    await sandbox.sleep(29 * DAY + timedelta(hours=20))
    assert "segment/inactive_30d/ada/entered/1" not in await segment_events(sandbox, "ada")
    await sandbox.sleep(timedelta(hours=5))  # past day 30: the next hourly sweep finds her
    assert await segment_events(sandbox, "ada") == ["segment/inactive_30d/ada/entered/1"]
    snapshot = await sandbox.store.customers.snapshot("ada")
    assert snapshot.segments == ["inactive_30d"]
    await sandbox.sleep(3 * DAY)  # more sweeps: nothing twice
    assert await segment_events(sandbox, "ada") == ["segment/inactive_30d/ada/entered/1"]
    await sandbox.event("purchase_completed", "ada", {"total": 5})  # she is back: the event says so
    assert (await segment_events(sandbox, "ada"))[-1] == "segment/inactive_30d/ada/exited/1"


async def test_a_segment_journey_starts_once_per_qualification(sandbox: Sandbox) -> None:
    for _ in range(3):
        await sandbox.event("purchase_completed", "bob", {"total": 30}, traits={"email": "bob@example.com"})
    assert await segment_events(sandbox, "bob") == ["segment/vip/bob/entered/1"]
    await sandbox.result("vip_welcome", "bob")
    await sandbox.event("purchase_completed", "bob", {"total": 30})  # still vip: no new entry
    await sandbox.sleep(2 * DAY)
    assert await entries(sandbox, "vip_welcome", "bob") == 1
    await sandbox.sleep(90 * DAY)  # the purchases left the 90-day window: the sweep takes him out
    assert "segment/vip/bob/exited/1" in await segment_events(sandbox, "bob")
    assert await entries(sandbox, "vip_welcome", "bob") == 1
    for _ in range(3):
        await sandbox.event("purchase_completed", "bob", {"total": 30})
    assert "segment/vip/bob/entered/2" in await segment_events(sandbox, "bob")
    await sandbox.result("vip_welcome", "bob")
    assert await entries(sandbox, "vip_welcome", "bob") == 2


async def test_the_sweep_has_one_run(sandbox: Sandbox) -> None:
    assert not await start_sweep(sandbox.client, sandbox.settings.task_queue)
    description = await sandbox.client.get_workflow_handle(SWEEP_WORKFLOW_ID).describe()
    assert description.workflow_type == "SegmentSweepWorkflow"

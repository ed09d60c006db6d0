"""A journey's award is a lot like any other: its points_awarded event starts the customer's loyalty
run (time-skipping server), which reminds 30 days ahead and expires the points after 12 months."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from temporalio.client import WorkflowExecutionStatus

from engine.loader import compile_text
from simulate.sandbox import Sandbox
from store.loyalty_tables import points_lots
from store.tables import processed_events
from tests.workflows.loyalty.program import PROGRAM_TEXT, program
from workflows.loyalty import loyalty_workflow_id

DAY = timedelta(days=1)
JOURNEY = """
journey: club_bonus
stage: loyalty
trigger: {event: joined_club}
steps:
  - {id: bonus, award: {points: 60, reason: Club bonus}}
"""


async def emitted(sandbox: Sandbox, name: str, customer_id: str) -> list[str]:
    async with sandbox.store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(processed_events.c.event_id).where(
                processed_events.c.event_id.like(f"loyalty/{name}/{customer_id}/%")
            )
        )
        return [row.event_id for row in rows]


async def test_a_journey_award_is_reminded_and_expires_after_twelve_months(tmp_path: Path) -> None:
    plan = compile_text(JOURNEY, "club_bonus.yaml", tmp_path)
    async with Sandbox.open([plan], workdir=tmp_path) as sandbox:
        await sandbox.store.loyalty_programs.deploy(program(), PROGRAM_TEXT)
        await sandbox.event("joined_club", "jo")
        await sandbox.sleep(DAY)
        assert await sandbox.store.points.balance("jo") == 60
        run = await sandbox.client.get_workflow_handle(loyalty_workflow_id("jo")).describe()
        assert run.status == WorkflowExecutionStatus.RUNNING  # started by the award's points_awarded

        await sandbox.sleep(12 * 30 * DAY - 30 * DAY - 2 * DAY)  # a day before the reminder
        assert await emitted(sandbox, "points_expiring", "jo") == []
        await sandbox.sleep(2 * DAY)
        assert len(await emitted(sandbox, "points_expiring", "jo")) == 1
        assert await sandbox.store.points.balance("jo") == 60
        await sandbox.sleep(30 * DAY)
        assert len(await emitted(sandbox, "points_expired", "jo")) == 1
        assert await sandbox.store.points.balance("jo") == 0
        async with sandbox.store.engine.connect() as conn:
            lots = (await conn.execute(sa.select(points_lots.c.status, points_lots.c.remaining))).all()
        assert [tuple(lot) for lot in lots] == [("expired", 0)]
        ledger = await sandbox.store.points.ledger("jo")
        assert [(entry.reason, entry.delta) for entry in ledger] == [
            ("Club bonus", 60),
            ("Points expired", -60),
        ]

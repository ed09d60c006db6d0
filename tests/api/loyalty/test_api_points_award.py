"""``POST /v1/customers/{id}/points/award`` steers the loyalty program as a journey's award does
(time-skipping server, real store, over HTTP): the points are an available lot that the customer's
loyalty run reminds 30 days ahead and expires after 12 months; a repeated key changes nothing and
starts nothing twice; an unknown customer gets 404 and no points."""

from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa
from temporalio.client import WorkflowExecutionStatus

from simulate.sandbox import Sandbox
from store.loyalty_tables import points_lots
from tests.workflows.loyalty.program import PROGRAM_TEXT, program
from tests.workflows.loyalty.test_loyalty_awards import emitted
from workflows.loyalty import loyalty_workflow_id

DAY = timedelta(days=1)
GOODWILL = {"key": "goodwill-1", "points": 60, "reason": "Goodwill"}


async def lots(sandbox: Sandbox, customer_id: str) -> list[tuple[str, int]]:
    async with sandbox.store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(points_lots.c.status, points_lots.c.remaining).where(
                points_lots.c.customer_id == customer_id
            )
        )
        return [(row.status, row.remaining) for row in rows]


async def test_api_points_are_reminded_and_expire_through_the_loyalty_run(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await sandbox.store.loyalty_programs.deploy(program(), PROGRAM_TEXT)
    assert (await api.put("/v1/customers/ann", json={"email": "ann@example.com"})).status_code == 200
    first = await api.post("/v1/customers/ann/points/award", json=GOODWILL)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "customer_id": "ann",
        "key": "goodwill-1",
        "points": 60,
        "balance": 60,
        "tier": "member",
        "duplicate": False,
    }
    again = await api.post("/v1/customers/ann/points/award", json=GOODWILL)
    assert again.json() | {"duplicate": False} == first.json() and again.json()["duplicate"] is True
    run = await sandbox.client.get_workflow_handle(loyalty_workflow_id("ann")).describe()
    assert run.status == WorkflowExecutionStatus.RUNNING  # started by the award's points_awarded
    assert await lots(sandbox, "ann") == [("available", 60)]

    # The lot's times are the API's clock, the sleeps the test server's: a day of margin each side.
    await sandbox.sleep(12 * 30 * DAY - 30 * DAY - DAY)  # a day before the reminder is due
    assert await emitted(sandbox, "points_expiring", "ann") == []
    await sandbox.sleep(2 * DAY)
    assert len(await emitted(sandbox, "points_expiring", "ann")) == 1  # once, for the one lot
    await sandbox.sleep(27 * DAY)  # two days before the expiry
    assert await emitted(sandbox, "points_expired", "ann") == []
    await sandbox.sleep(3 * DAY)
    assert len(await emitted(sandbox, "points_expired", "ann")) == 1
    assert await lots(sandbox, "ann") == [("expired", 0)]
    ledger = await sandbox.store.points.ledger("ann")
    assert [(entry.reason, entry.delta) for entry in ledger] == [("Goodwill", 60), ("Points expired", -60)]


async def test_an_award_to_an_unknown_customer_is_refused_and_gives_nothing(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    refused = await api.post("/v1/customers/nobody/points/award", json=GOODWILL)
    assert refused.status_code == 404
    assert await sandbox.store.points.ledger("nobody") == []
    too_many = await api.post("/v1/customers/nobody/points/award", json=GOODWILL | {"points": 10**9})
    assert too_many.status_code == 422

"""A scheduled journey on the time-skipping server, shared by its tests and its history recorder:
every Monday at 09:00 in each VIP's time zone; Ada in Jakarta and Bob in Berlin are VIPs (three
purchases), Cyd in Jakarta is not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

from engine.loader import compile_text
from engine.plan import Plan
from engine.schedule_runs import scheduler_id
from engine.segments.loader import load_segments
from simulate.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[3]
TEMPLATES = REPO / "journeys" / "templates"
DAY = timedelta(days=1)
JOURNEY = """
journey: vip_monday
stage: loyalty
trigger:
  schedule: {every: monday, at: "09:00", segment: vip}
entry: always
steps:
  - {id: done, exit: null}
"""
ZONES = {"ada": "Asia/Jakarta", "bob": "Europe/Berlin", "cyd": "Asia/Jakarta"}


def plan(text: str = JOURNEY) -> Plan:
    return compile_text(text, "vip_monday.yaml", TEMPLATES)


@asynccontextmanager
async def scheduled(workdir: Path) -> AsyncIterator[Sandbox]:
    """The journey deployed (its scheduler started by the router), the example segments in use, and
    the three customers: Ada and Bob bought three times (vip), Cyd once."""
    async with Sandbox.open([plan()], workdir=workdir) as sandbox:
        sandbox.router.segments.use(load_segments(REPO / "journeys"))
        for customer, zone in ZONES.items():
            for _ in range(1 if customer == "cyd" else 3):
                traits = {"timezone": zone, "email": f"{customer}@example.com"}
                await sandbox.event("purchase_completed", customer, {"total": 20}, traits=traits)
        yield sandbox


def mondays_after(moment: datetime, count: int) -> list[datetime]:
    """The UTC midnights of the ``count`` Mondays after the day after ``moment``."""
    day = (moment + 2 * DAY).astimezone(UTC).date()
    while day.weekday() != 0:
        day += DAY
    return [datetime(day.year, day.month, day.day, tzinfo=UTC) + 7 * DAY * n for n in range(count)]


async def entries(sandbox: Sandbox, customer: str, journey: str = "vip_monday") -> list[datetime]:
    """When the customer entered the journey, in workflow time."""
    records = await sandbox.store.steps.for_customer(customer, journey)
    return sorted(r.at for r in records if r.kind == "journey_entered")


def scheduler(sandbox: Sandbox, journey: str = "vip_monday") -> WorkflowHandle[Any, Any]:
    return sandbox.client.get_workflow_handle(scheduler_id(journey))

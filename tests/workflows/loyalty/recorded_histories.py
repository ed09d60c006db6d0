"""Record a history of the loyalty workflow, for the replay test.

``.venv/bin/python -m tests.workflows.loyalty.recorded_histories [TAG]`` writes
``histories/loyalty-<customer>[-<TAG>].json``: a customer earning, refunding, reaching a tier and
falling from it, with points becoming available, reminded and expired (timers, signals, activities).
Never re-record to make a replay failure go away (see tests/workflows/recorded_histories.py).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

from simulate.sandbox import Sandbox
from tests.workflows.loyalty.program import PROGRAM_TEXT, program
from workflows.loyalty import loyalty_workflow_id

HISTORIES = Path(__file__).resolve().parent / "histories"
DAY = timedelta(days=1)


async def record(tag: str) -> None:
    HISTORIES.mkdir(exist_ok=True)
    suffix = f"-{tag}" if tag else ""
    async with Sandbox.open([]) as sandbox:
        await sandbox.store.loyalty_programs.deploy(program(), PROGRAM_TEXT)
        await sandbox.event("profile_completed", "eve", event_id="eve-profile")
        await sandbox.event("purchase_completed", "eve", {"total": 9000, "order_id": "o1"}, event_id="eve-p1")
        await sandbox.event("purchase_completed", "eve", {"total": 4000, "order_id": "o2"}, event_id="eve-p2")
        await sandbox.sleep(2 * DAY)
        await sandbox.event("order_refunded", "eve", {"order_id": "o2"}, event_id="eve-r2")
        await sandbox.event("purchase_completed", "eve", {"total": 9000, "order_id": "o1"}, event_id="eve-p1")
        await sandbox.sleep(400 * DAY)
        history = await sandbox.client.get_workflow_handle(loyalty_workflow_id("eve")).fetch_history()
        (HISTORIES / f"loyalty-eve{suffix}.json").write_text(history.to_json())
        print(f"recorded loyalty/eve: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else ""))

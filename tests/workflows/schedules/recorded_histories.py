"""Record a history of the scheduler of a scheduled journey, for its replay test.

``.venv/bin/python -m tests.workflows.schedules.recorded_histories`` plays the scenario (two Mondays
of VIPs in Jakarta and Berlin, a replan between) and writes ``histories/scheduler-two-mondays.json``.
Never re-record to make a replay failure go away: schedulers running on the old code would break.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from tests.workflows.schedules.scenario import DAY, mondays_after, scheduled, scheduler

HISTORIES = Path(__file__).resolve().parent / "histories"


async def record() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        async with scheduled(Path(workdir)) as sandbox:
            first, second = mondays_after(await sandbox.now(), 2)
            await sandbox.sleep_until(first + DAY)
            await scheduler(sandbox).signal("replan")
            await sandbox.sleep_until(second + DAY)
            history = await scheduler(sandbox).fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / "scheduler-two-mondays.json").write_text(history.to_json())
    print(f"recorded the scheduler: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record())

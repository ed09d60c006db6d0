"""Record workflow histories of the example journeys, for the replay test.

Run ``.venv/bin/python -m tests.workflows.recorded_histories`` to record them again — only on
purpose: a replay failure after an interpreter change means running customers would break.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from engine.loader import load_directory
from runtime.sandbox import Sandbox

HERE = Path(__file__).resolve().parent
HISTORIES = HERE / "histories"
JOURNEYS = HERE.parents[1] / "journeys"
DAY = timedelta(days=1)
TRAITS = {"email": "ada@example.com", "first_name": "Ada"}


async def record() -> None:
    plans = load_directory(JOURNEYS)
    async with Sandbox.open(plans) as sandbox:
        await sandbox.event("signed_up", "converts", traits=TRAITS)
        await sandbox.event("signed_up", "quiet", traits=TRAITS)
        await sandbox.event("signed_up", "leaves", traits=TRAITS)
        await sandbox.event("referral_completed", "converts", {"friend": "bob"})
        await sandbox.sleep(DAY)
        await sandbox.event("unsubscribed", "leaves")
        await sandbox.sleep(DAY)
        await sandbox.event("profile_completed", "converts")
        await sandbox.sleep(3 * DAY)
        await sandbox.event("purchase_completed", "converts", {"total": 42})
        await sandbox.event("referral_completed", "quiet", {"friend": "eve"})
        await sandbox.event("referral_completed", "quiet", {"friend": "joe"})
        await sandbox.sleep(90 * DAY)
        for journey, customer in [
            ("onboarding", "converts"),
            ("onboarding", "quiet"),
            ("onboarding", "leaves"),
            ("winback", "converts"),
            ("referral", "converts"),
            ("engagement", "quiet"),
        ]:
            handle = sandbox.handle(journey, customer)
            await sandbox.result(journey, customer)
            history = await handle.fetch_history()
            (HISTORIES / f"{journey}-{customer}.json").write_text(history.to_json())
            print(f"recorded {journey}/{customer}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record())

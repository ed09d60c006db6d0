"""Record workflow histories of the example journeys, for the replay test.

``.venv/bin/python -m tests.workflows.recorded_histories [TAG]`` records one generation: a history
per example journey (``<journey>-<customer>[-<TAG>].json``) and one of an entry that queued the next
and continued as new into it (``referral-reentry[-<TAG>].json``), beside the ones already there.
The ``referral`` journey (a backend sends ``referral_completed``) is no example any more: it is
recorded from tests/fixtures/backend_referral, with the same plan version as before.

Generations are named after the patch lifecycle step they were recorded at (docs/patches.md):

- no tag: the baseline, recorded when no patch was live;
- ``before-<patch-id>``: with the code just before that patch's change (its old branch);
- ``<patch-id>``: with the change in, behind ``workflow.patched``;
- ``<patch-id>-deprecated``: after the switch to ``workflow.deprecate_patch``.

List the files that guard a patch in its ``histories`` in ``workflows/patches.py``. Never re-record
to make a replay failure go away: it means customers running on the old code would break.

Runs name their plan by version (the ``plans-by-reference`` generation and later ones): each plan a history
names is kept beside them as ``plans/<journey>-<version>.json``, as the store keeps every version,
and the replay test reads them from there.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

from engine.loader import load_directory
from simulate.sandbox import Sandbox
from tests.support.backend_referral import backend_referral_plan
from tests.support.loyalty_program import deploy_tiers

HERE = Path(__file__).resolve().parent
HISTORIES = HERE / "histories"
PLANS_DIR = HISTORIES / "plans"
JOURNEYS = HERE.parents[1] / "journeys"
DAY = timedelta(days=1)
TRAITS = {"email": "ada@example.com", "first_name": "Ada"}


async def record(tag: str) -> None:
    plans = [*load_directory(JOURNEYS), backend_referral_plan()]
    HISTORIES.mkdir(exist_ok=True)
    suffix = f"-{tag}" if tag else ""
    PLANS_DIR.mkdir(exist_ok=True)
    for plan in plans:
        path = PLANS_DIR / f"{plan.journey}-{plan.version}.json"
        if not path.exists():  # a version is immutable: never rewritten
            path.write_text(plan.model_dump_json(indent=1) + "\n")
    async with Sandbox.open(plans) as sandbox:
        # Tiers come from the active loyalty program since issue #15: the one with the tiers the
        # generations before it were recorded with (bronze 100, silver 500, gold 1000 lifetime).
        await deploy_tiers(sandbox.store)
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
            (HISTORIES / f"{journey}-{customer}{suffix}.json").write_text(history.to_json())
            print(f"recorded {journey}/{customer}: {len(history.events)} events")
        # An entry that queued the next one and continued as new into it (entry: always).
        latest = await sandbox.handle("referral", "quiet").fetch_history()
        started = latest.events[0].workflow_execution_started_event_attributes
        previous = sandbox.client.get_workflow_handle(
            "journey/referral/quiet", run_id=started.continued_execution_run_id
        )
        history = await previous.fetch_history()
        (HISTORIES / f"referral-reentry{suffix}.json").write_text(history.to_json())
        print(f"recorded referral/quiet re-entry: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else ""))

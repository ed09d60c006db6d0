"""``customer.loyalty`` as a run sees it is measured from the run's time (``workflow.now()``), not the
wall clock: on the time-skipping server, a run that waited eleven months sees its points expiring
within the program's 30 days, and awards what it saw (time-skipping server, SQLite store)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from engine.loader import compile_text
from simulate.sandbox import Sandbox
from tests.workflows.loyalty.program import PROGRAM_TEXT, program

DAY = timedelta(days=1)
JOURNEY = """
journey: expiry_watch
stage: loyalty
trigger: {event: joined_club}
steps:
  - {id: bonus, award: {points: 60, reason: Club bonus}}
  - {id: later, wait: {duration: 340d}}
  - id: check
    branch:
      cases:
        - {when: "customer.loyalty.expiring_soon | length > 0", next: seen}
      else: unseen
  - id: seen
    award: {points: "customer.loyalty.expiring_soon[0].points", reason: Seen expiring}
    next: done
  - {id: unseen, award: {points: 1, reason: Nothing expiring}}
  - {id: done, exit: null}
"""


async def test_a_run_sees_points_expiring_relative_to_its_own_time(tmp_path: Path) -> None:
    plan = compile_text(JOURNEY, "expiry_watch.yaml", tmp_path)
    async with Sandbox.open([plan], workdir=tmp_path) as sandbox:
        await sandbox.store.loyalty_programs.deploy(program(), PROGRAM_TEXT)
        await sandbox.event("joined_club", "jo")
        await sandbox.sleep(341 * DAY)  # 12 months of 30 days expire at day 360: 19 days ahead
        ledger = await sandbox.store.points.ledger("jo")
        # The wall clock is still near the award: read from it, nothing would expire for 360 days.
        seen_from_now = await sandbox.store.customers.snapshot("jo")
        assert [(entry.reason, entry.delta) for entry in ledger] == [
            ("Club bonus", 60),
            ("Seen expiring", 60),
        ]
        assert seen_from_now.loyalty is not None and seen_from_now.loyalty.available == 120
        assert seen_from_now.loyalty.expiring_soon == []
        # Awaiting the result lets the test server skip on (to the loyalty run's expiry): read it last.
        assert (await sandbox.result("expiry_watch", "jo")).points_awarded == 120

"""Scheduled journeys on the time-skipping server: each member of the segment enters once per
occurrence at 09:00 in their own time zone, a non-member never, and a repeated page, a replan or a
replay enters nobody twice; a pause stops entries, a changed schedule replaces the old one, and a
journey that is no longer scheduled ends its scheduler."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from activities.schedules import ScheduleActivities
from engine.schedule_runs import EnterPage, Occurrence
from tests.workflows.schedules.scenario import (
    DAY,
    JOURNEY,
    entries,
    mondays_after,
    plan,
    scheduled,
    scheduler,
)

MINUTE = timedelta(minutes=1)
JAKARTA, BERLIN = ZoneInfo("Asia/Jakarta"), ZoneInfo("Europe/Berlin")


def at_nine(entered: list[datetime], zone: ZoneInfo) -> list[tuple[int, int]]:
    """(weekday, minutes after 09:00 local) of each entry."""
    local = [moment.astimezone(zone) for moment in entered]
    return [(m.weekday(), (m.hour - 9) * 60 + m.minute) for m in local]


async def test_each_member_enters_once_per_occurrence_at_nine_local(tmp_path: Path) -> None:
    async with scheduled(tmp_path) as sandbox:
        first, second = mondays_after(await sandbox.now(), 2)
        jakarta_nine = first.replace(hour=2)  # 09:00 in Jakarta (UTC+7) is 02:00 UTC
        berlin_nine = first.replace(hour=8)  # 09:00 in Berlin (UTC+1 in winter) is 08:00 UTC

        await sandbox.sleep_until(jakarta_nine + MINUTE)
        assert len(await entries(sandbox, "ada")) == 1 and await entries(sandbox, "bob") == []
        await scheduler(sandbox).signal("replan")  # a deploy: looks again, enters nobody again
        await sandbox.sleep_until(second + 3 * DAY)

        ada, bob = await entries(sandbox, "ada"), await entries(sandbox, "bob")
        assert [moment - jakarta_nine < MINUTE for moment in ada] == [True, False]
        assert [moment - berlin_nine < MINUTE for moment in bob] == [True, False]
        assert at_nine(ada, JAKARTA) == [(0, 0), (0, 0)]  # Mondays, 09:00 local, twice
        assert at_nine(bob, BERLIN) == [(0, 0), (0, 0)]
        assert all(moment >= jakarta_nine for moment in ada) and all(m >= berlin_nine for m in bob)
        assert await entries(sandbox, "cyd") == []  # not a member

        # The page of Ada's first occurrence again, as a retried activity runs it: nobody enters.
        pages = ScheduleActivities(sandbox.store, sandbox.router)
        again = await pages.enter_page(
            EnterPage(
                journey="vip_monday",
                segment="vip",
                occurrence=Occurrence(at=jakarta_nine, zones=["Asia/Jakarta"]),
            )
        )
        assert (again.entered, again.skipped) == (0, 1)
        assert len(await entries(sandbox, "ada")) == 2
        # A backend cannot send the schedule's trigger: an event named "scheduled" starts nothing.
        assert (await sandbox.event("scheduled", "cyd", {"segment": "vip"})).started == []
        assert await entries(sandbox, "cyd") == []


async def test_a_pause_stops_entries_and_a_new_schedule_replaces_the_old(tmp_path: Path) -> None:
    async with scheduled(tmp_path) as sandbox:
        first, second, third = mondays_after(await sandbox.now(), 3)
        await sandbox.store.deployments.set_paused("vip_monday", True)
        await sandbox.router.reload()  # as POST /v1/journeys/vip_monday/pause does
        await sandbox.sleep_until(first + DAY)
        assert await entries(sandbox, "ada") == []

        ten = plan(JOURNEY.replace('"09:00"', '"10:00"'))
        await sandbox.store.deployments.set_paused("vip_monday", False)
        await sandbox.store.deployments.deploy(ten, source="")
        await sandbox.router.reload()
        await sandbox.sleep_until(second + DAY)
        (entered,) = await entries(sandbox, "ada")
        assert entered.astimezone(JAKARTA).hour == 10 and entered - second.replace(hour=3) < MINUTE

        by_event = plan(JOURNEY.replace('schedule: {every: monday, at: "09:00", segment: vip}', "event: x"))
        await sandbox.store.deployments.deploy(by_event, source="")
        await sandbox.router.reload()
        await scheduler(sandbox).result()  # it ends: nobody enters on a schedule any more
        await sandbox.sleep_until(third + DAY)
        assert len(await entries(sandbox, "ada")) == 1

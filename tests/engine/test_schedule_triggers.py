"""A scheduled trigger (``trigger: {schedule: {every, at, segment}}``): its vocabulary, its errors
at their lines with did-you-mean, and the instants it fires at in each time zone."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.plan import PlanSchedule
from engine.schedule_runs import entry_event_id
from engine.schedule_times import next_occurrence, occurrences
from tests.support.journey_files import JOURNEYS

Problem = tuple[int, int, str, str]
SCHEDULED = """
journey: digest
stage: loyalty
trigger:
  schedule: {every: EVERY, at: "9:00", segment: SEGMENT}
steps:
  - {id: done, exit: finished}
"""
MONDAY_NINE = PlanSchedule(every="monday", at="09:00", segment="vip")
TUESDAY = datetime(2026, 12, 1, tzinfo=UTC)  # 2026-12-07 is the Monday after


@pytest.fixture
def with_segments(workspace: Path) -> Path:
    shutil.copytree(JOURNEYS / "segments", workspace / "segments")
    return workspace


def journey(every: str = "monday", segment: str = "vip") -> str:
    return SCHEDULED.replace("EVERY", every).replace("SEGMENT", segment)


def test_a_day_that_is_no_day_gets_did_you_mean(
    with_segments: Path, problems: Callable[[str], list[Problem]]
) -> None:
    assert problems(journey(every="mondy")) == [
        (
            4,
            21,
            "trigger.schedule.every",
            'every is "mondy"; write one of day, monday, tuesday, wednesday, thursday, friday,'
            ' saturday, sunday; did you mean "monday"?',
        )
    ]


def test_an_unknown_segment_gets_did_you_mean(
    with_segments: Path, problems: Callable[[str], list[Problem]]
) -> None:
    assert problems(journey(segment="vipp")) == [
        (
            4,
            50,
            "trigger.schedule.segment",
            'there is no segment "vipp" in journeys/segments/; did you mean "vip"?',
        )
    ]


def test_a_trigger_has_an_event_or_a_schedule(problems: Callable[[str], list[Problem]]) -> None:
    both = journey().replace("trigger:\n", "trigger:\n  event: signed_up\n")
    ((line, _, path, message),) = problems(both)
    assert (line, path) == (4, "trigger") and message.startswith("a trigger needs exactly one of: event")


def test_occurrences_at_nine_in_each_zone() -> None:
    week = occurrences(
        MONDAY_NINE, ["Europe/Berlin", "Asia/Jakarta", "Not/AZone"], TUESDAY, TUESDAY + timedelta(days=7)
    )
    assert [(o.at.isoformat(), o.zones) for o in week] == [
        ("2026-12-07T02:00:00+00:00", ("Asia/Jakarta",)),
        ("2026-12-07T08:00:00+00:00", ("Europe/Berlin",)),
        ("2026-12-07T09:00:00+00:00", ("Not/AZone",)),  # an unknown zone reads as UTC
    ]
    assert occurrences(MONDAY_NINE, ["Asia/Jakarta"], week[0].at, TUESDAY + timedelta(days=7)) == []
    assert next_occurrence(MONDAY_NINE, ["Asia/Jakarta"], week[0].at) == week[0].at + timedelta(days=7)
    assert next_occurrence(MONDAY_NINE, [], TUESDAY) is None


def test_every_day_across_a_daylight_saving_change_is_once_a_day() -> None:
    daily = PlanSchedule(every="day", at="09:00", segment="vip")
    march = datetime(2026, 3, 27, tzinfo=UTC)  # Berlin moves to summer time on 29 March
    found = occurrences(daily, ["Europe/Berlin"], march, march + timedelta(days=4))
    assert [o.at.strftime("%d %H:%M") for o in found] == ["27 08:00", "28 08:00", "29 07:00", "30 07:00"]


def test_an_entry_id_names_the_journey_the_customer_and_the_instant() -> None:
    at = datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert entry_event_id("vip_weekly", "ada", at) == "schedule/vip_weekly/ada/2026-12-07T09:00Z"
    assert len(entry_event_id("vip_weekly", "a" * 200, at)) == 200

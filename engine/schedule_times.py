"""When a scheduled trigger fires: the instants at which ``every`` day (or weekday) ``at`` is the
local time in each of a set of time zones. Pure (``zoneinfo`` only).

One instant per zone per matching local date: a time that a daylight-saving change skips or repeats
still happens once that day (``fold=0``: the earlier reading). Zone names that are not IANA zones
read as UTC, as they do for ``wait.until``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.plan import PlanSchedule
from engine.time_zones import zone

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY = timedelta(days=1)
MAX_ZONES = 1000  # more distinct zones than the IANA database has


@dataclass(frozen=True)
class Occurrence:
    """One instant of a schedule and the zones whose local time it is then."""

    at: datetime
    zones: tuple[str, ...]


def _matches(schedule: PlanSchedule, day: date) -> bool:
    return schedule.every == "day" or WEEKDAYS[day.weekday()] == schedule.every


def _instant(schedule: PlanSchedule, day: date, tz: ZoneInfo) -> datetime:
    hour, minute = (int(part) for part in schedule.at.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def _instants(schedule: PlanSchedule, name: str, after: datetime, until: datetime) -> Iterable[datetime]:
    """The instants in ``(after, until]`` for zone ``name``."""
    tz = zone(name)
    day = after.astimezone(tz).date() - DAY
    last = until.astimezone(tz).date() + DAY
    while day <= last:
        if _matches(schedule, day):
            at = _instant(schedule, day, tz)
            if after < at <= until:
                yield at
        day += DAY


def occurrences(
    schedule: PlanSchedule, zones: Iterable[str], after: datetime, until: datetime
) -> list[Occurrence]:
    """Every instant in ``(after, until]`` at which it is ``at`` on a matching day in one of
    ``zones``, earliest first, each with its zones (sorted)."""
    found: dict[datetime, list[str]] = {}
    for name in sorted(set(zones))[:MAX_ZONES]:
        for at in _instants(schedule, name, after, until):
            found.setdefault(at, []).append(name)
    return [Occurrence(at, tuple(names)) for at, names in sorted(found.items())]


def next_occurrence(schedule: PlanSchedule, zones: Iterable[str], after: datetime) -> datetime | None:
    """The first instant after ``after`` in any of ``zones`` (None without zones)."""
    ahead = occurrences(schedule, zones, after, after + 8 * DAY)  # a weekday comes within a week
    return ahead[0].at if ahead else None

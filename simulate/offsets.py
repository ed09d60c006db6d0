"""When a story event happens: ``2d`` (two days after the start), ``5d 10:00`` (day 5 at 10:00 on the
customer's clock), ``10:00`` (day 0 at 10:00), ``0`` (at the start)."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.durations import DurationError, parse_duration, parse_time_of_day
from engine.time_zones import zone

DAY_SECONDS = 86400


def parse_offset(value: object) -> tuple[int, str | None]:
    """``(seconds after the start, time of day or None)``; raises ``DurationError`` with a hint."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value * DAY_SECONDS, None  # a bare number counts days
    text = str(value).strip()
    if text in ("", "0", "0d"):
        return 0, None
    parts = text.split()
    time_of_day = None
    if ":" in parts[-1]:
        time_of_day = parse_time_of_day(parts.pop())
    if len(parts) > 1:
        raise DurationError(f'"{text}" is not an offset; write 2d, 5d 10:00 or 10:00')
    seconds = parse_duration(parts[0]) if parts and parts[0] not in ("0", "0d") else 0
    if time_of_day is not None and seconds % DAY_SECONDS:
        raise DurationError(f'"{text}": with a time of day, give whole days (5d 10:00)')
    return seconds, time_of_day


def resolve(start: datetime, value: object, timezone: str | None) -> datetime:
    """The moment an offset names, for a story that starts at ``start``."""
    seconds, time_of_day = parse_offset(value)
    if time_of_day is None:
        return start + timedelta(seconds=seconds)
    tz = zone(timezone)
    local_day = start.astimezone(tz).date() + timedelta(days=seconds // DAY_SECONDS)
    hour, minute = (int(part) for part in time_of_day.split(":"))
    local = datetime(local_day.year, local_day.month, local_day.day, hour, minute, tzinfo=tz)
    return local.astimezone(start.tzinfo)


def day_and_time(start: datetime, moment: datetime, timezone: str | None) -> tuple[int, str]:
    """Day number (0 = the start's local date) and ``HH:MM`` on the customer's clock."""
    tz = zone(timezone)
    local = moment.astimezone(tz)
    return (local.date() - start.astimezone(tz).date()).days, f"{local:%H:%M}"

"""Durations (``3d``, ``2w``, ``12h``, ``1d12h``) and local times of day (``09:00``)."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(?:\d+[smhdw])+$")
_PART = re.compile(r"(\d+)([smhdw])")
_TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class DurationError(ValueError):
    """A text that is not a duration or a time of day; the message says how to write it."""


def parse_duration(value: object) -> int:
    """Return the number of seconds in a duration such as ``3d`` or ``1d12h``."""
    text = str(value).strip().replace(" ", "") if isinstance(value, str) else None
    if text is None or not _DURATION.match(text):
        hint = _hint(value) or "a number and a unit (s, m, h, d, w), e.g. 3d, 12h, 1d12h"
        raise DurationError(f"{_quote(value)} is not a duration; write {hint}")
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(text))
    if seconds <= 0:
        raise DurationError(f"{_quote(value)} is zero; a duration must be longer than nothing")
    return seconds


def parse_time_of_day(value: object) -> str:
    """Return ``HH:MM`` for a local time of day such as ``9:00`` or ``09:00``."""
    match = _TIME_OF_DAY.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise DurationError(f"{_quote(value)} is not a time of day; write HH:MM in 24-hour time, e.g. 09:00")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def format_duration(seconds: int) -> str:
    """Render seconds back in the shortest journey notation (``90000`` -> ``1d1h``)."""
    parts = []
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


_WORDS = {"second": "s", "minute": "m", "hour": "h", "day": "d", "week": "w"}


def _quote(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _hint(value: object) -> str:
    if not isinstance(value, str):
        return ""
    match = re.match(r"^\s*(\d+)\s*([a-z]+?)s?\s*$", value.lower())
    if match and match.group(2) in _WORDS:
        return f"{match.group(1)}{_WORDS[match.group(2)]}"
    return ""

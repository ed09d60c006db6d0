"""Date ranges of the reports: whole UTC days, at most ``MOST_DAYS``, and the SQL of a row's day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

MOST_DAYS = 366
DEFAULT_DAYS = 30
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)


class RangeError(ValueError):
    """A range the reports refuse (its message says why)."""


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date  # inclusive

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the range."""
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def day_range(first: date | None, last: date | None, today: date) -> DayRange:
    """``first`` to ``last`` inclusive, both within ``FIRST_DAY`` to ``LAST_DAY``; without either the
    range ends ``today``; with only one it is ``DEFAULT_DAYS`` long."""
    for day in (first, last):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise RangeError(f"{day} is outside {FIRST_DAY} to {LAST_DAY}")
    last = last or (today if first is None else first + timedelta(days=DEFAULT_DAYS - 1))
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise RangeError(f"from ({first}) is after to ({last})")
    if (last - first).days + 1 > MOST_DAYS:
        raise RangeError(
            f"a range is at most {MOST_DAYS} days; {first} to {last} is {(last - first).days + 1}"
        )
    return DayRange(first, last)


def day_of(column: Any, dialect: str) -> sa.ColumnElement[str]:
    """The UTC day of a timestamp column as ``YYYY-MM-DD`` text (SQLite keeps UTC text; PostgreSQL
    converts from its time zone)."""
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD")
    return sa.func.substr(column, 1, 10)

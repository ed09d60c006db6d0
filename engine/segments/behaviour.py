"""A customer's behaviour aggregates as a segment's condition reads them (``behaviour.<event>.<field>``).

Pure: the store keeps the aggregates (``store.behaviour``), this turns them into the values of
``engine.segments.vocabulary.FIELDS`` at a given time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from engine.segments.vocabulary import SUM_WINDOWS, WINDOWS

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Aggregate:
    """One customer's events of one name: totals, first and last time, counts and sums per UTC day."""

    event: str
    count: int
    total: float
    first_at: datetime
    last_at: datetime
    days: Mapping[str, tuple[int, float]] = field(default_factory=dict)  # ISO day -> (count, sum)
    categories: tuple[str, ...] = ()


def fields_at(aggregate: Aggregate, at: datetime) -> dict[str, Any]:
    """The fields of ``aggregate`` at ``at``."""
    today = at.date()
    values: dict[str, Any] = {"count": aggregate.count, "sum": aggregate.total}
    for days in WINDOWS:
        values[f"count_{days}d"] = _window(aggregate.days, today, days)[0]
    for days in SUM_WINDOWS:
        values[f"sum_{days}d"] = _window(aggregate.days, today, days)[1]
    values["days_since"] = max(0, (at - aggregate.last_at) // DAY)
    values["categories"] = list(aggregate.categories)
    return values


def _window(buckets: Mapping[str, tuple[int, float]], today: date, days: int) -> tuple[int, float]:
    first = (today - timedelta(days=days - 1)).isoformat()
    last = today.isoformat()
    count, total = 0, 0.0
    for day, (n, amount) in buckets.items():
        if first <= day <= last:
            count += n
            total += amount
    return count, total


_NEVER: dict[str, Any] = {
    "count": 0,
    "sum": 0.0,
    **{f"count_{days}d": 0 for days in WINDOWS},
    **{f"sum_{days}d": 0.0 for days in SUM_WINDOWS},
    "categories": [],
}


class Behaviour(dict[str, dict[str, Any]]):
    """``behaviour`` in a condition: an event the customer never had reads as zero counts."""

    def __missing__(self, event: str) -> dict[str, Any]:
        return dict(_NEVER)


def behaviour_at(aggregates: Iterable[Aggregate], at: datetime) -> Behaviour:
    return Behaviour({aggregate.event: fields_at(aggregate, at) for aggregate in aggregates})


def never() -> Mapping[str, Any]:
    """The fields of an event the customer never had."""
    return dict(_NEVER)

"""What the reports page shows, built from the report routes' answers (the same numbers as
``/v1/reports/*``): the day range and its presets, the lifecycle per day with the transitions, the
acquisition by source, and lifetime value overall and by source, each as table rows and as the
series its chart draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from api.schemas_reports import AcquisitionOut, ClvOut, LifecycleOut, SourceValueOut
from measurement.ranges import DEFAULT_DAYS, DayRange

NO_SOURCE = "(no source)"
PRESETS = (7, DEFAULT_DAYS, 90, 365)  # "Last N days", each ending today


@dataclass(frozen=True)
class Preset:
    days: int
    first: date
    last: date
    current: bool


@dataclass(frozen=True)
class Transition:
    from_stage: str
    to_stage: str
    changes: int
    share: float  # of the largest, for its bar


@dataclass(frozen=True)
class SourceRow:
    source: str
    signups: int
    purchasers: int
    share: float


@dataclass(frozen=True)
class ValueRow:
    source: str
    customers: int
    purchasers: int
    purchases: int
    revenue: float
    average_per_customer: float
    average_per_purchaser: float


@dataclass
class ReportsView:
    range: DayRange
    presets: list[Preset]
    stages: list[str]
    days: list[tuple[date, dict[str, int], int]]  # day, customers per stage, all customers
    transitions: list[Transition]
    signups: SourceRow
    sources: list[SourceRow]
    more_sources: bool
    value: ValueRow
    value_by_source: list[ValueRow]
    more_value_sources: bool
    chart: dict[str, Any] = field(default_factory=dict)  # what reports-page.js draws

    @property
    def has_customers(self) -> bool:
        return any(total for _, _, total in self.days)


def presets(days: DayRange, today: date) -> list[Preset]:
    found = []
    for n in PRESETS:
        first = today - timedelta(days=n - 1)
        found.append(Preset(n, first, today, (days.first, days.last) == (first, today)))
    return found


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(), UTC).timestamp())


def _source(name: str | None) -> str:
    return NO_SOURCE if name is None else name


def _value(row: SourceValueOut) -> ValueRow:
    return ValueRow(
        source=_source(row.source),
        customers=row.customers,
        purchasers=row.purchasers,
        purchases=row.purchases,
        revenue=row.revenue,
        average_per_customer=row.average_per_customer,
        average_per_purchaser=row.average_per_purchaser,
    )


def reports_view(
    days: DayRange, today: date, lifecycle: LifecycleOut, acquisition: AcquisitionOut, clv: ClvOut
) -> ReportsView:
    per_day = [(d.date, d.stages, sum(d.stages.values())) for d in lifecycle.days]
    most = max((t.changes for t in lifecycle.transitions), default=0)
    transitions = [
        Transition(t.from_stage, t.to_stage, t.changes, t.changes / most if most else 0.0)
        for t in lifecycle.transitions
    ]
    sources = [
        SourceRow(_source(s.source), s.signups, s.purchasers, s.purchaser_share)
        for s in acquisition.by_source
    ]
    total = acquisition.total
    view = ReportsView(
        range=days,
        presets=presets(days, today),
        stages=lifecycle.stages,
        days=per_day,
        transitions=transitions,
        signups=SourceRow("all", total.signups, total.purchasers, total.purchaser_share),
        sources=sources,
        more_sources=acquisition.more_sources,
        value=_value(clv.overall),
        value_by_source=[_value(row) for row in clv.by_source],
        more_value_sources=clv.more_sources,
    )
    view.chart = {
        "lifecycle": {
            "days": [_epoch(day) for day, _, _ in per_day],
            "stages": [
                {"stage": stage, "customers": [counts.get(stage, 0) for _, counts, _ in per_day]}
                for stage in lifecycle.stages
                if any(counts.get(stage, 0) for _, counts, _ in per_day)
            ],
        },
        "acquisition": {
            "sources": [row.source for row in sources],
            "signups": [row.signups for row in sources],
            "purchasers": [row.purchasers for row in sources],
        },
        "value": {
            "sources": [row.source for row in view.value_by_source],
            "average_per_customer": [row.average_per_customer for row in view.value_by_source],
            "overall": view.value.average_per_customer,
        },
    }
    return view

"""The journey page's incrementality box, from the ``incrementality`` of
``GET /v1/journeys/{name}/results``: the customers outside the global control group (treated)
against those in it, each side's conversion with its interval on one drawn scale, the uplift with
its interval and the verdict in words."""

from __future__ import annotations

import math
from dataclasses import dataclass

from api.schemas_reports import ComparisonOut, IncrementalityOut, SideOut
from api.ui.results_view import INTERVAL_WIDTH, interval_clause, points, scale_top


@dataclass(frozen=True)
class SideRow:
    side: str  # treated | control
    label: str
    numbers: SideOut
    low_x: float  # the interval and the rate on the box's scale, in px
    high_x: float
    rate_x: float


@dataclass(frozen=True)
class IncrementalityView:
    policy: str
    percent: str  # "5%"
    scale_top: float
    control_x: float
    sides: list[SideRow]
    verdict: str  # winner | loser | inconclusive
    sentence: str


def _more_entries(more: int, control: SideOut, treated: SideOut, percent: float) -> str:
    """How many journey entries bring ``more`` customers to the control group, when it is the
    smaller side (each entry joins it with the group's share)."""
    if control.customers > treated.customers or percent <= 0:
        return ""
    return f" (some {math.ceil(more / (percent / 100)):,} more entries into the journey)"


def _sentence(c: ComparisonOut, control: SideOut, treated: SideOut, percent: float, confidence: str) -> str:
    around = interval_clause(c.absolute_interval, confidence)
    p = f"p = {c.p_value:.3f}" if c.p_value is not None else ""
    if c.verdict in ("winner", "loser"):
        better = "better" if c.verdict == "winner" else "worse"
        return (
            f"Customers who get the journey's messages convert {better} than the control group: "
            f"{points(c.absolute_uplift)}{around}, {p}."
        )
    if c.p_value is None:
        return (
            "Nothing to compare with the control group on yet "
            "(no customers on one side, or no conversions on either)."
        )
    if c.more_needed_per_arm is not None and c.needed_per_arm is not None:
        smaller = "the control group" if control.customers <= treated.customers else "the treated side"
        more = (
            f"80% power at this effect needs about {c.needed_per_arm:,} customers a side and {smaller} "
            f"has {min(control.customers, treated.customers):,}: about {c.more_needed_per_arm:,} more"
            f"{_more_entries(c.more_needed_per_arm, control, treated, percent)}"
            if c.more_needed_per_arm
            else f"each side has the {c.needed_per_arm:,} customers a difference this size needs: "
            "the effect is smaller than it looked"
        )
        return (
            f"The journey's messages: {points(c.absolute_uplift)} against the control group{around}, {p}: "
            f"not significant yet; {more}."
        )
    return f"No difference from the control group seen ({p}); no sample size finds an effect of zero."


def incrementality_view(found: IncrementalityOut | None, confidence: str) -> IncrementalityView | None:
    if found is None:
        return None
    top = scale_top([found.treated.interval, found.control.interval])

    def x(rate: float) -> float:
        return round(min(rate, top) / top * INTERVAL_WIDTH, 1)

    def row(side: str, label: str, numbers: SideOut) -> SideRow:
        return SideRow(
            side,
            label,
            numbers,
            x(numbers.interval.low),
            x(numbers.interval.high),
            x(numbers.conversion_rate),
        )

    return IncrementalityView(
        policy=found.policy,
        percent=f"{found.percent:g}%",
        scale_top=top,
        control_x=x(found.control.conversion_rate),
        sides=[
            row("treated", "Treated (sent messages)", found.treated),
            row("control", "Control group (no marketing message)", found.control),
        ],
        verdict=found.comparison.verdict,
        sentence=_sentence(found.comparison, found.control, found.treated, found.percent, confidence),
    )

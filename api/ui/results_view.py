"""What the journey page's results panel shows, built from ``GET /v1/journeys/{name}/results``'s
answer (the same numbers): a row per step with its message and conversion counts, rows per split
variant under the steps where they differ, and per split each arm's conversion with its interval
drawn on a common scale, the uplift against the baseline and the verdict in words."""

from __future__ import annotations

import math
from dataclasses import dataclass

from api.schemas_reports import ArmOut, IntervalOut, JourneyResultsOut, StepCountsOut
from engine.plan import Plan

MESSAGE_KINDS = ("send_email", "send_webhook")
INTERVAL_WIDTH = 180  # px of the drawn interval scale


@dataclass(frozen=True)
class CountsRow:
    label: str
    counts: StepCountsOut

    @property
    def opened_rate(self) -> float | None:
        return self.counts.opened / self.counts.delivered if self.counts.delivered else None

    @property
    def clicked_rate(self) -> float | None:
        return self.counts.clicked / self.counts.delivered if self.counts.delivered else None


@dataclass(frozen=True)
class StepRow(CountsRow):
    step: str
    kind: str  # the plan's node kind; "" for a step only earlier versions had
    variants: list[CountsRow]

    @property
    def sends(self) -> bool:
        return self.kind in MESSAGE_KINDS or bool(self.counts.sent or self.counts.skipped)


@dataclass(frozen=True)
class ArmRow:
    arm: ArmOut
    is_baseline: bool
    low_x: float  # the interval and the rate on the split's scale, in px
    high_x: float
    rate_x: float
    verdict: str  # winner | loser | inconclusive | baseline
    sentence: str


@dataclass(frozen=True)
class SplitView:
    split: str
    control_percent: int
    baseline: str
    scale_top: float  # the rate at the right end of the drawn scale
    baseline_x: float
    arms: list[ArmRow]


@dataclass(frozen=True)
class ResultsView:
    journey: str
    goal: str | None
    trigger: str
    window_days: int
    confidence: str  # "95%"
    totals: StepCountsOut
    steps: list[StepRow]
    splits: list[SplitView]
    goal_is_purchase: bool


def points(value: float) -> str:
    return f"{value * 100:+.1f} points"


def interval_clause(interval: IntervalOut | None, confidence: str) -> str:
    """`` (95% interval +1.2 points to +3.4 points)`` of an uplift, or nothing when there is none yet."""
    if interval is None:
        return ""
    return f" ({confidence} interval {points(interval.low)} to {points(interval.high)})"


def _sentence(arm: ArmOut, confidence: str) -> tuple[str, str]:
    c = arm.comparison
    if c is None:
        return "baseline", "The baseline the other arms are compared with."
    name, against = arm.variant, c.against
    around = interval_clause(c.absolute_interval, confidence)
    p = f"p = {c.p_value:.3f}" if c.p_value is not None else "no test possible yet"
    if c.verdict in ("winner", "loser"):
        better = "better" if c.verdict == "winner" else "worse"
        return (
            c.verdict,
            f"{name} converts {better} than {against}: {points(c.absolute_uplift)}{around}, {p}.",
        )
    if c.p_value is None:
        return (
            "inconclusive",
            f"Nothing to compare {name} with {against} on yet "
            "(an arm with no customers, or no conversions in either).",
        )
    if c.more_needed_per_arm is not None and c.needed_per_arm is not None:
        more = (
            f"about {c.more_needed_per_arm:,} more customers per arm ({c.needed_per_arm:,} each)"
            if c.more_needed_per_arm
            else f"{c.needed_per_arm:,} customers per arm, which it has: the effect is smaller than it looked"
        )
        return "inconclusive", (
            f"{name}: {points(c.absolute_uplift)} against {against}{around}, {p}: not significant yet; "
            f"{more} would show a difference this size with 80% power."
        )
    return (
        "inconclusive",
        f"{name}: no difference from {against} seen ({p}); no sample size finds an effect of zero.",
    )


def scale_top(intervals: list[IntervalOut]) -> float:
    """The right end of a drawn scale that holds every interval: a tenth above the highest."""
    highest = max((interval.high for interval in intervals), default=0.0)
    return min(1.0, max(0.1, math.ceil(highest * 10) / 10))


def _split(split_arms: list[ArmOut], name: str, control: int, baseline: str, confidence: str) -> SplitView:
    top = scale_top([arm.interval for arm in split_arms])

    def x(rate: float) -> float:
        return round(min(rate, top) / top * INTERVAL_WIDTH, 1)

    base = next((arm for arm in split_arms if arm.variant == baseline), None)
    rows = []
    for arm in split_arms:
        verdict, sentence = _sentence(arm, confidence)
        rows.append(
            ArmRow(
                arm=arm,
                is_baseline=arm.variant == baseline,
                low_x=x(arm.interval.low),
                high_x=x(arm.interval.high),
                rate_x=x(arm.conversion_rate),
                verdict=verdict,
                sentence=sentence,
            )
        )
    return SplitView(name, control, baseline, top, x(base.conversion_rate) if base else 0.0, rows)


def results_view(plan: Plan, results: JourneyResultsOut) -> ResultsView:
    kinds = {node.id: node.kind for node in plan.nodes}
    steps = []
    for step in results.steps:
        kind = kinds.get(step.step, "")
        shown_variants = kind in MESSAGE_KINDS or step.converted > 0
        variants = [
            CountsRow(f"{v.split}: {v.variant}", v) for v in step.variants if shown_variants and v.entered
        ]
        steps.append(StepRow(label=step.step, counts=step, step=step.step, kind=kind, variants=variants))
    confidence = f"{(1 - results.alpha) * 100:g}%"
    splits = [_split(s.arms, s.split, s.control_percent, s.baseline, confidence) for s in results.splits]
    return ResultsView(
        journey=results.journey,
        goal=results.goal,
        trigger=plan.trigger.event,
        window_days=results.attribution_window_days,
        confidence=confidence,
        totals=results.totals,
        steps=steps,
        splits=splits,
        goal_is_purchase=results.totals.goal_revenue is not None,
    )

"""Journey statistics as the API shows them: steps in plan order, with conversion rates."""

from __future__ import annotations

from api.schemas import JourneyStatsOut, StepStatsOut
from engine.plan import Plan
from store.steps import JourneyStats, StepStats


def rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def step_counts(stats: JourneyStats) -> dict[str, int]:
    """Customers who entered each step: the numbers drawn on the diagram."""
    return {step: counts.entered for step, counts in stats.steps.items() if step}


def stats_out(plan: Plan, stats: JourneyStats, retrying: dict[str, int] | None = None) -> JourneyStatsOut:
    """``retrying``: sends being retried now, by step (``RetryRepository.by_step``)."""
    retrying = retrying or {}
    # Steps of the current plan first, then steps only earlier versions had.
    planned = [node.id for node in plan.nodes]
    order = planned + sorted(step for step in stats.steps if step and step not in planned)
    steps = []
    for step in order:
        counts = stats.steps.get(step, StepStats())
        steps.append(
            StepStatsOut(
                step=step,
                **counts.model_dump(),
                conversion_rate=rate(counts.conversions, counts.entered),
                retrying=retrying.get(step, 0),
            )
        )
    return JourneyStatsOut(
        journey=stats.journey,
        entered=stats.entered,
        exited=stats.exited,
        active=stats.active,
        conversions=stats.conversions,
        conversion_rate=rate(stats.conversions, stats.entered),
        retrying=sum(retrying.values()),
        steps=steps,
    )

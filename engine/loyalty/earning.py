"""Earning rules: what one event earns, by rule, before caps already used today (pure).

The store applies the per-day cap against what the customer earned that day, in the same
transaction as the award, so concurrent events cannot pass it together (``store.wallet``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from engine import expressions
from engine.limits import MAX_POINTS
from engine.loyalty.program import Program
from engine.loyalty.schema import EarningRule


@dataclass(frozen=True)
class Earned:
    """Points one rule gives for one event, before the per-day cap."""

    rule: str
    points: int
    reason: str
    pending: bool  # waits out the returns window
    per_day: int | None  # the rule's per-day cap, applied by the store


def rule_points(rule: EarningRule, context: Mapping[str, Any]) -> int:
    """The rule's base points for this event (0 when its expression fails or is negative)."""
    if isinstance(rule.points, int):
        return rule.points
    return expressions.evaluate_number(rule.points, context)


def earnings(
    program: Program, event_name: str, context: Mapping[str, Any], *, tier: str | None, on: date
) -> list[Earned]:
    """What ``event_name`` earns under each matching rule: base points times tier multiplier times
    campaign multipliers in force ``on`` that day, rounded down, capped per event (and at
    ``MAX_POINTS`` whatever the multipliers).

    ``context`` holds ``customer`` and ``event`` as conditions see them.
    """
    found: list[Earned] = []
    tier_model = program.tier(tier)
    for rule in program.source.earning:
        if rule.event != event_name:
            continue
        if rule.where and not expressions.evaluate(rule.where, context):
            continue
        points = float(rule_points(rule, context))
        if rule.tier_multiplier and tier_model is not None:
            points *= tier_model.multiplier
        for campaign in program.campaigns_on(rule.id, on):
            points *= campaign.multiplier
        whole = min(int(points + 1e-9), MAX_POINTS)  # 1.1 times 10 is 11, not 10
        if rule.caps.per_event is not None:
            whole = min(whole, rule.caps.per_event)
        if whole > 0:
            found.append(
                Earned(
                    rule=rule.id,
                    points=whole,
                    reason=rule.reason or rule.id,
                    pending=rule.pending and program.source.pending.days > 0,
                    per_day=rule.caps.per_day,
                )
            )
    return found

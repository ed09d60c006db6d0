"""Response bodies of the report routes (docs/measurement.md). Money is in the currency the purchase
events carry, to the cent."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field


class StepCountsOut(BaseModel):
    entered: int = Field(description="step entries (journey entries for the journey's totals)")
    sent: int = Field(
        description="messages handed to the channel: delivered, failed, or with an unknown outcome"
    )
    delivered: int = Field(description="accepted: by the SMTP server for an email, a 2xx for a webhook")
    failed: int
    skipped: int = Field(description="not sent: unsubscribed, no address, held back by a rule")
    opened: int = Field(description="tracked messages opened at least once (a click counts as an open)")
    clicked: int = Field(description="tracked messages with at least one tracked link clicked")
    converted: int = Field(description="the journey's goal reached while at this step")
    unsubscribed: int = Field(
        description="unsubscribes whose last message before, within the window, was this step's"
    )
    goal_revenue: float | None = Field(
        description="the amounts of the goal's purchases; null when the goal is not the purchase event"
    )
    attributed_purchases: int = Field(
        description="purchases within the window after a message of this step, the last one delivered before"
    )
    attributed_revenue: float
    skipped_reasons: dict[str, int] = Field(
        default_factory=dict,
        description="skipped sends by reason, e.g. 'frequency cap: 2 marketing emails a week',"
        " 'global control group', 'unsubscribed'",
    )


class VariantStepOut(StepCountsOut):
    split: str
    variant: str = Field(description="the variant's name, or control")


class StepResultOut(StepCountsOut):
    step: str
    variants: list[VariantStepOut] = Field(description="the same counts for the customers of each split arm")


class IntervalOut(BaseModel):
    low: float
    high: float


class ComparisonOut(BaseModel):
    against: str = Field(description="the baseline arm: control, else the first variant")
    absolute_uplift: float = Field(description="conversion rate minus the baseline's")
    absolute_interval: IntervalOut | None
    relative_uplift: float | None = Field(description="rate / baseline rate - 1; null when the baseline is 0")
    relative_interval: IntervalOut | None
    z: float | None = Field(description="the pooled two-proportion z statistic")
    p_value: float | None = Field(description="two-sided")
    verdict: Literal["winner", "loser", "inconclusive"]
    needed_per_arm: int | None = Field(
        description="when inconclusive: customers per arm for 80% power at the observed effect"
    )
    more_needed_per_arm: int | None = Field(description="how many more than the smaller of the two arms has")


class ArmOut(BaseModel):
    variant: str
    customers: int = Field(description="customers assigned to this arm")
    converted: int = Field(
        description="of them, those with a goal event within the goal's window after entry"
    )
    conversion_rate: float
    interval: IntervalOut = Field(description="Wilson score interval of the conversion rate")
    revenue: float = Field(description="purchases within the goal's window after entry")
    revenue_per_customer: float
    comparison: ComparisonOut | None = Field(description="against the baseline; null for the baseline")


class SplitOut(BaseModel):
    split: str
    control_percent: int
    baseline: str
    arms: list[ArmOut]


class SideOut(BaseModel):
    customers: int = Field(description="customers who entered the journey, on this side")
    converted: int = Field(description="of them, those who reached the journey's goal")
    conversion_rate: float
    interval: IntervalOut = Field(description="Wilson interval of the conversion rate")


class IncrementalityOut(BaseModel):
    policy: str = Field(description="the active channel policy's name")
    percent: float = Field(description="the global control group's share of customers")
    control: SideOut = Field(description="customers in the global control group (no marketing message)")
    treated: SideOut = Field(description="everyone else")
    comparison: ComparisonOut = Field(description="treated against control: uplift and verdict")


class JourneyResultsOut(BaseModel):
    journey: str
    version: str = Field(description="the current version, whose steps and splits are listed")
    goal: str | None = Field(description="the goal event")
    attribution_window_days: int
    alpha: float
    totals: StepCountsOut
    steps: list[StepResultOut]
    splits: list[SplitOut]
    incrementality: IncrementalityOut | None = Field(
        None, description="against the global control group; null without one (journeys/channels.yaml)"
    )


class LifecycleDayOut(BaseModel):
    date: date
    stages: dict[str, int] = Field(description="customers in each stage at the end of the day (UTC)")


class TransitionOut(BaseModel):
    from_stage: str
    to_stage: str
    changes: int


class LifecycleOut(BaseModel):
    first_day: date
    last_day: date
    stages: list[str]
    days: list[LifecycleDayOut]
    transitions: list[TransitionOut] = Field(description="stage changes within the range, most first")


class SourceValueOut(BaseModel):
    source: str | None = Field(description="the utm_source trait; null for customers without one")
    customers: int
    purchasers: int
    purchases: int
    revenue: float
    average_per_customer: float = Field(description="revenue / customers: the average lifetime value")
    average_per_purchaser: float


class CustomerValueOut(BaseModel):
    customer_id: str
    source: str | None
    purchases: int
    revenue: float


class ClvOut(BaseModel):
    overall: SourceValueOut
    by_source: list[SourceValueOut] = Field(description="most revenue first, at most 100")
    more_sources: bool = Field(description="true when sources beyond the 100 largest were left out")
    customers: list[CustomerValueOut] = Field(description="a page of customers, most revenue first")
    next_offset: int | None = Field(description="the offset of the next page; null on the last")


class SourceAcquisitionOut(BaseModel):
    source: str | None
    signups: int = Field(description="customers first seen in the range")
    purchasers: int = Field(description="of them, those who made a first purchase since")
    purchaser_share: float


class AcquisitionOut(BaseModel):
    first_day: date
    last_day: date
    total: SourceAcquisitionOut
    by_source: list[SourceAcquisitionOut] = Field(description="most sign-ups first, at most 100")
    more_sources: bool

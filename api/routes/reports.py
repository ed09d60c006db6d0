"""Reports (docs/measurement.md): a journey's results per step and variant with its splits' A/B
statistics, lifecycle stages over time, customer lifetime value, and acquisition by source."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from api.deps import StoreDep
from api.errors import INVALID, UNAUTHORIZED, responses
from api.routes.journeys import NOT_FOUND, JourneyName, current
from api.schemas_reports import (
    AcquisitionOut,
    ArmOut,
    ClvOut,
    ComparisonOut,
    CustomerValueOut,
    IncrementalityOut,
    IntervalOut,
    JourneyResultsOut,
    LifecycleDayOut,
    LifecycleOut,
    SideOut,
    SourceAcquisitionOut,
    SourceValueOut,
    SplitOut,
    StepCountsOut,
    StepResultOut,
    TransitionOut,
    VariantStepOut,
)
from measurement import customer_value, significance
from measurement.incrementality import Incrementality, Side, incrementality
from measurement.journey_results import CONTROL, JourneyResults, SplitResult, Tally, journey_results
from measurement.lifecycle import lifecycle
from measurement.ranges import MOST_DAYS, DayRange, RangeError, day_range
from store.reading import reading
from store.types import utcnow

router = APIRouter(tags=["reports"])
# The significance levels /results takes (docs/measurement.md: at most 0.2): 0.0001 is stricter
# than any A/B test asks; measurement.significance itself takes any level between 0 and 1.
MIN_ALPHA = 0.0001
MAX_ALPHA = 0.2
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
FromDay = Annotated[
    str | None,
    Query(
        alias="from",
        pattern=DAY,
        json_schema_extra={"format": "date"},
        description="first day (UTC), inclusive",
    ),
]
ToDay = Annotated[
    str | None,
    Query(
        alias="to",
        pattern=DAY,
        json_schema_extra={"format": "date"},
        description=f"last day (UTC), inclusive; at most {MOST_DAYS} days",
    ),
]


def money(cents: int) -> float:
    return round(cents / 100, 2)


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _counts(tally: Tally, results: JourneyResults) -> dict[str, object]:
    return {
        "entered": tally.entered,
        "sent": tally.sent,
        "delivered": tally.delivered,
        "failed": tally.failed,
        "skipped": tally.skipped,
        "opened": tally.opened,
        "clicked": tally.clicked,
        "converted": tally.converted,
        "unsubscribed": tally.unsubscribed,
        "goal_revenue": money(tally.goal_revenue_cents) if results.goal_is_purchase else None,
        "attributed_purchases": tally.attributed_purchases,
        "attributed_revenue": money(tally.attributed_revenue_cents),
        "skipped_reasons": dict(sorted(tally.skipped_reasons.items())),
    }


def _interval(interval: significance.Interval | None) -> IntervalOut | None:
    return None if interval is None else IntervalOut(low=interval.low, high=interval.high)


def _comparison(x1: int, n1: int, x2: int, n2: int, against: str, alpha: float) -> ComparisonOut:
    found = significance.compare(x1, n1, x2, n2, alpha=alpha)
    return ComparisonOut(
        against=against,
        absolute_uplift=found.absolute_uplift,
        absolute_interval=_interval(found.absolute_interval),
        relative_uplift=found.relative_uplift,
        relative_interval=_interval(found.relative_interval),
        z=found.z,
        p_value=found.p_value,
        verdict=found.verdict,
        needed_per_arm=found.needed_per_arm,
        more_needed_per_arm=found.more_needed_per_arm,
    )


def _side_out(side: Side, alpha: float) -> SideOut:
    wilson = significance.wilson_interval(side.converted, side.customers, alpha=alpha)
    return SideOut(
        customers=side.customers,
        converted=side.converted,
        conversion_rate=_rate(side.converted, side.customers),
        interval=IntervalOut(low=wilson.low, high=wilson.high),
    )


def _incrementality_out(found: Incrementality, alpha: float) -> IncrementalityOut:
    control, treated = found.control, found.treated
    return IncrementalityOut(
        policy=found.policy,
        percent=found.percent,
        control=_side_out(control, alpha),
        treated=_side_out(treated, alpha),
        comparison=_comparison(
            treated.converted, treated.customers, control.converted, control.customers, CONTROL, alpha
        ),
    )


def _split_out(split: SplitResult, alpha: float) -> SplitOut:
    baseline = CONTROL if CONTROL in split.arms and split.arms[CONTROL].customers else split.variants[0]
    base = split.arms[baseline]
    arms = []
    for name, arm in split.arms.items():
        comparison = None
        if name != baseline:
            comparison = _comparison(
                arm.converted, arm.customers, base.converted, base.customers, baseline, alpha
            )
        wilson = significance.wilson_interval(arm.converted, arm.customers, alpha=alpha)
        arms.append(
            ArmOut(
                variant=name,
                customers=arm.customers,
                converted=arm.converted,
                conversion_rate=_rate(arm.converted, arm.customers),
                interval=IntervalOut(low=wilson.low, high=wilson.high),
                revenue=money(arm.revenue_cents),
                revenue_per_customer=round(_rate(arm.revenue_cents, arm.customers) / 100, 2),
                comparison=comparison,
            )
        )
    return SplitOut(split=split.split, control_percent=split.control_percent, baseline=baseline, arms=arms)


@router.get(
    "/journeys/{name}/results",
    response_model=JourneyResultsOut,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID),
    summary="A journey's results per step and variant, revenue, and its splits' A/B statistics",
)
async def get_results(
    name: JourneyName,
    store: StoreDep,
    window_days: Annotated[
        int, Query(ge=1, le=90, description="attribution window after a message, in days")
    ] = 7,
    alpha: Annotated[
        float,
        Query(
            ge=MIN_ALPHA,
            le=MAX_ALPHA,
            description=f"significance level of the split verdicts, {MIN_ALPHA:g} to {MAX_ALPHA:g}",
        ),
    ] = significance.DEFAULT_ALPHA,
) -> JourneyResultsOut:
    """Every customer who entered the journey, all versions; steps in the current plan's order, then
    steps only earlier versions had. See docs/measurement.md for what each number counts."""
    plan = await current(store, name)
    policy = await store.channel_policies.active()
    async with reading(store.engine).connect() as conn:
        results = await journey_results(conn, plan, window=timedelta(days=window_days))
        against_control = await incrementality(conn, plan.journey, policy) if policy else None
    planned = [node.id for node in plan.nodes]
    order = planned + sorted(step for step in results.steps if step not in planned)
    steps = []
    for step in order:
        variants = [
            VariantStepOut(split=split, variant=variant, **_counts(tally, results))
            for (at, split, variant), tally in sorted(results.variants.items())
            if at == step
        ]
        steps.append(
            StepResultOut(step=step, variants=variants, **_counts(results.steps.get(step, Tally()), results))
        )
    return JourneyResultsOut(
        journey=plan.journey,
        version=plan.version,
        goal=plan.goal.event if plan.goal else None,
        attribution_window_days=window_days,
        alpha=alpha,
        totals=StepCountsOut(**_counts(results.total, results)),
        steps=steps,
        splits=[_split_out(split, alpha) for split in results.splits],
        incrementality=_incrementality_out(against_control, alpha) if against_control else None,
    )


def _refuse(name: str, message: str) -> RequestValidationError:
    """A 422 shaped like every other (a ValidationProblem naming the parameter)."""
    return RequestValidationError([{"loc": ("query", name), "msg": message, "type": "value_error"}])


def _day(text: str | None, name: str) -> date | None:
    try:
        return None if text is None else date.fromisoformat(text)
    except ValueError as exc:
        raise _refuse(name, f"not a date (YYYY-MM-DD): {text!r}") from exc


def _range(first: str | None, last: str | None) -> DayRange:
    try:
        return day_range(_day(first, "from"), _day(last, "to"), utcnow().date())
    except RangeError as exc:
        raise _refuse("from" if first is not None else "to", str(exc)) from exc


@router.get(
    "/reports/lifecycle",
    response_model=LifecycleOut,
    responses=responses(UNAUTHORIZED, INVALID),
    summary="Customers per lifecycle stage per day, and the changes between stages",
)
async def get_lifecycle(store: StoreDep, first: FromDay = None, last: ToDay = None) -> LifecycleOut:
    """Without either the range ends today; with only one it is 30 days long."""
    days = _range(first, last)
    async with reading(store.engine).connect() as conn:
        found = await lifecycle(conn, days)
    return LifecycleOut(
        first_day=days.first,
        last_day=days.last,
        stages=found.stages,
        days=[LifecycleDayOut(date=day, stages=counts) for day, counts in found.days],
        transitions=[
            TransitionOut(from_stage=t.from_stage, to_stage=t.to_stage, changes=t.changes)
            for t in found.transitions
        ],
    )


def _value_out(value: customer_value.SourceValue) -> SourceValueOut:
    return SourceValueOut(
        source=value.source,
        customers=value.customers,
        purchasers=value.purchasers,
        purchases=value.purchases,
        revenue=money(value.revenue_cents),
        average_per_customer=round(_rate(value.revenue_cents, value.customers) / 100, 2),
        average_per_purchaser=round(_rate(value.revenue_cents, value.purchasers) / 100, 2),
    )


@router.get(
    "/reports/clv",
    response_model=ClvOut,
    responses=responses(UNAUTHORIZED, INVALID),
    summary="Customer lifetime value: purchases per customer, averages overall and by source",
)
async def get_clv(
    store: StoreDep,
    limit: Annotated[
        int, Query(ge=1, le=customer_value.MOST_CUSTOMERS, description="customers per page")
    ] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="customers to skip")] = 0,
) -> ClvOut:
    async with reading(store.engine).connect() as conn:
        found = await customer_value.clv(conn, limit=limit, offset=offset)
    return ClvOut(
        overall=_value_out(found.overall),
        by_source=[_value_out(value) for value in found.by_source],
        more_sources=found.more_sources,
        customers=[
            CustomerValueOut(
                customer_id=c.customer_id,
                source=c.source,
                purchases=c.purchases,
                revenue=money(c.revenue_cents),
            )
            for c in found.customers
        ],
        next_offset=found.next_offset,
    )


def _acquired_out(value: customer_value.SourceAcquisition) -> SourceAcquisitionOut:
    return SourceAcquisitionOut(
        source=value.source,
        signups=value.signups,
        purchasers=value.purchasers,
        purchaser_share=_rate(value.purchasers, value.signups),
    )


@router.get(
    "/reports/acquisition",
    response_model=AcquisitionOut,
    responses=responses(UNAUTHORIZED, INVALID),
    summary="Sign-ups by acquisition source, and the share who went on to a first purchase",
)
async def get_acquisition(store: StoreDep, first: FromDay = None, last: ToDay = None) -> AcquisitionOut:
    days = _range(first, last)
    async with reading(store.engine).connect() as conn:
        found = await customer_value.acquisition(conn, days)
    return AcquisitionOut(
        first_day=days.first,
        last_day=days.last,
        total=_acquired_out(found.total),
        by_source=[_acquired_out(value) for value in found.by_source],
        more_sources=found.more_sources,
    )

"""A journey's results per step and per split variant, with revenue, and its splits' conversions.

Read from the store, customer by customer in pages of ``PAGE`` (a fixed number of queries per page,
memory bounded by the page), over every customer who ever entered the journey:

- per step: ``entered`` (step records), ``sent`` (handed to the channel: accepted, failed or with an
  unknown outcome), ``delivered`` (accepted: SMTP accepted the email, the webhook answered 2xx),
  ``failed``, ``skipped`` (and ``skipped_reasons``: how many for each reason, e.g. a frequency cap
  or the global control group), ``opened`` / ``clicked`` (tracked messages of the step opened or clicked
  at least once; a click counts as an open), ``converted`` (the journey's goal reached while at the step),
  ``unsubscribed`` (customers whose unsubscribe came within the attribution window after a message of
  this step, the last message they were delivered), ``goal_revenue`` (the amount of the goal's
  purchase, when the goal is the purchase event) and ``attributed_purchases`` / ``attributed_revenue``
  (purchases within the attribution window after a message of this step that was the last message
  the customer was delivered before buying, from any journey: each purchase counts once, for one
  message);
- the same per step for each split variant (and control) a customer was assigned to;
- per split: customers per arm, those who converted (a goal event within the goal's window after
  the journey entry that reached the split: the same rule for every arm, control included, whose
  customers leave the journey at the split) and the revenue of purchases in those windows, each
  variant compared with the control (else with the first variant) by ``measurement.significance``.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.plan import Plan, SplitNode
from store.customer_history import PURCHASE_EVENT
from store.engagement_tables import tracked_messages
from store.measure_tables import purchases
from store.tables import customers, deliveries, processed_events, step_events

PAGE = 500
CONTROL = "control"
CONTROL_DETAIL = "left: control group of "
# A goal's purchase is the customer's latest purchase at or before the conversion; one stamped a
# little after it (the event's clock ahead of the workflow's) is taken when there is none before.
CLOCK_TOLERANCE = timedelta(minutes=1)
HANDED_TO_CHANNEL = ("sent", "failed", "uncertain")


@dataclass
class Tally:
    entered: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    opened: int = 0
    clicked: int = 0
    converted: int = 0
    unsubscribed: int = 0
    goal_revenue_cents: int = 0
    attributed_purchases: int = 0
    attributed_revenue_cents: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)  # skipped sends by their reason


@dataclass
class Arm:
    customers: int = 0
    converted: int = 0
    revenue_cents: int = 0


@dataclass
class SplitResult:
    split: str
    control_percent: int
    variants: list[str]  # in the plan's order
    arms: dict[str, Arm]  # by variant name, and ``control``


@dataclass
class JourneyResults:
    journey: str
    version: str
    window: timedelta
    total: Tally = field(default_factory=Tally)  # ``entered``: journey entries
    steps: dict[str, Tally] = field(default_factory=dict)
    variants: dict[tuple[str, str, str], Tally] = field(default_factory=dict)  # (step, split, variant)
    splits: list[SplitResult] = field(default_factory=list)
    goal_is_purchase: bool = False


@dataclass
class _Customer:
    records: list[tuple[str | None, str, str, datetime]] = field(
        default_factory=list
    )  # step, kind, detail, at
    deliveries: list[tuple[datetime, int, str, str, str]] = field(
        default_factory=list
    )  # at, id, journey, ...
    purchases: list[tuple[datetime, int]] = field(default_factory=list)  # at, cents
    tracked: list[tuple[str, bool, bool]] = field(default_factory=list)  # step, opened, clicked
    goal_events: list[datetime] = field(default_factory=list)
    unsubscribed_at: datetime | None = None
    skips: list[tuple[str, str, str]] = field(default_factory=list)  # journey, step, reason


def _splits(plan: Plan) -> list[SplitNode]:
    return [node for node in plan.nodes if isinstance(node, SplitNode)]


def _variant_of_detail(node: SplitNode) -> dict[str, str]:
    """Where a split sent a customer (its completed record's detail) -> the variant's name; variants
    that share a next step read as one, their names joined by ``|``."""
    return {detail: "|".join(found) for detail, found in _by_next(node).items()}


async def journey_results(
    conn: AsyncConnection, plan: Plan, *, window: timedelta, page: int = PAGE
) -> JourneyResults:
    """The results of ``plan``'s journey over every version's records (steps and splits of ``plan``)."""
    results = JourneyResults(
        journey=plan.journey,
        version=plan.version,
        window=window,
        goal_is_purchase=plan.goal is not None and plan.goal.event == PURCHASE_EVENT,
    )
    splits = _splits(plan)
    for node in splits:
        names = ["|".join(group) for group in _grouped_names(node)]
        arms = {name: Arm() for name in names}
        if node.control_percent:
            arms[CONTROL] = Arm()
        results.splits.append(SplitResult(node.id, node.control_percent, names, arms))
    after = ""
    while True:
        e = step_events.c
        ids = list(
            await conn.scalars(
                sa.select(e.customer_id)
                .where(e.journey == plan.journey, e.kind == "journey_entered", e.customer_id > after)
                .group_by(e.customer_id)
                .order_by(e.customer_id)
                .limit(page)
            )
        )
        if not ids:
            return results
        loaded = await _load(conn, plan, ids)
        for customer_id in ids:
            _add(results, plan, splits, loaded.get(customer_id) or _Customer())
        after = ids[-1]


def _by_next(node: SplitNode) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for variant in node.variants:
        names.setdefault(variant.next or "end", []).append(variant.name)
    return names


def _grouped_names(node: SplitNode) -> list[list[str]]:
    return list(_by_next(node).values())


async def _load(conn: AsyncConnection, plan: Plan, ids: Sequence[str]) -> dict[str, _Customer]:
    found: dict[str, _Customer] = {}

    def of(customer_id: str) -> _Customer:
        return found.setdefault(customer_id, _Customer())

    e, d, p = step_events.c, deliveries.c, purchases.c
    kinds = ("entered", "completed", "converted", "journey_entered")
    rows = await conn.execute(
        sa.select(e.customer_id, e.step, e.kind, e.detail, e.at).where(
            e.journey == plan.journey, e.customer_id.in_(ids), e.kind.in_(kinds)
        )
    )
    for cid, step, kind, detail, at in rows:
        of(cid).records.append((step, kind, detail, at))
    sent = await conn.execute(
        sa.select(d.customer_id, d.at, d.id, d.journey, d.step, d.status, d.reason).where(
            d.customer_id.in_(ids)
        )
    )
    for cid, at, delivery_id, journey, step, status, reason in sent:
        of(cid).deliveries.append((at, delivery_id, journey, step, status))
        if status == "skipped":
            of(cid).skips.append((journey, step, reason or ""))
    for cid, at, cents in await conn.execute(
        sa.select(p.customer_id, p.at, p.amount_cents).where(p.customer_id.in_(ids))
    ):
        of(cid).purchases.append((at, int(cents)))
    t = tracked_messages.c
    for cid, step, opened_at, clicked_at in await conn.execute(
        sa.select(t.customer_id, t.step, t.first_opened_at, t.first_clicked_at).where(
            t.journey == plan.journey, t.customer_id.in_(ids)
        )
    ):
        of(cid).tracked.append((step, opened_at is not None, clicked_at is not None))
    c = customers.c
    for cid, at in await conn.execute(
        sa.select(c.id, c.unsubscribed_at).where(c.id.in_(ids), c.subscribed.is_(False))
    ):
        of(cid).unsubscribed_at = at
    if plan.goal is not None and _splits(plan):
        ev = processed_events.c
        for cid, at in await conn.execute(
            sa.select(ev.customer_id, ev.at).where(ev.customer_id.in_(ids), ev.name == plan.goal.event)
        ):
            of(cid).goal_events.append(at)
    for customer in found.values():
        customer.records.sort(key=lambda r: r[3])
        customer.deliveries.sort(key=lambda row: (row[0], row[1]))
        customer.purchases.sort()
        customer.goal_events.sort()
    return found


def _latest_at_or_before(moments: Sequence[datetime], at: datetime) -> datetime | None:
    index = bisect.bisect_right(moments, at)
    return moments[index - 1] if index else None


def _add(results: JourneyResults, plan: Plan, splits: list[SplitNode], customer: _Customer) -> None:
    entries = [at for _, kind, _, at in customer.records if kind == "journey_entered"]
    assigned: list[tuple[SplitResult, str, list[datetime]]] = []  # split, arm, the split's times
    for node, split in zip(splits, results.splits, strict=True):
        details = _variant_of_detail(node)
        passes = [
            (detail, at)
            for step, kind, detail, at in customer.records
            if step == node.id and kind == "completed"
        ]
        if not passes:
            continue
        times = [at for _, at in passes]
        detail = passes[-1][0]
        arm = CONTROL if detail.startswith(CONTROL_DETAIL) else details.get(detail)
        if arm is not None and arm in split.arms:
            assigned.append((split, arm, times))
    targets: dict[str, list[Tally]] = {}  # a step's tallies: the step's, and its variants' for this customer

    def of(step: str) -> list[Tally]:
        found = targets.get(step)
        if found is None:
            found = [results.steps.setdefault(step, Tally())]
            found += [results.variants.setdefault((step, s.split, arm), Tally()) for s, arm, _ in assigned]
            targets[step] = found
        return found

    def bump(step: str | None, name: str, n: int = 1) -> None:
        setattr(results.total, name, getattr(results.total, name) + n)
        for tally in of(step) if step else ():
            setattr(tally, name, getattr(tally, name) + n)

    results.total.entered += len(entries)
    for step, kind, _, at in customer.records:
        if kind == "entered" and step:
            for tally in of(step):
                tally.entered += 1
        elif kind == "converted":
            bump(step, "converted")
            if results.goal_is_purchase:
                bump(step, "goal_revenue_cents", _goal_purchase(customer, entries, at))
    for _, _, journey, step, status in customer.deliveries:
        if journey != plan.journey:
            continue
        if status in HANDED_TO_CHANNEL:
            bump(step, "sent")
        if status == "sent":
            bump(step, "delivered")
        elif status == "failed":
            bump(step, "failed")
        elif status == "skipped":
            bump(step, "skipped")
    for journey, step, reason in customer.skips:
        if journey == plan.journey:
            for tally in (results.total, *of(step)):
                tally.skipped_reasons[reason] = tally.skipped_reasons.get(reason, 0) + 1
    for step, opened, clicked in customer.tracked:
        bump(step, "opened", int(opened or clicked))
        bump(step, "clicked", int(clicked))
    delivered = [row for row in customer.deliveries if row[4] == "sent"]
    moments = [row[0] for row in delivered]
    for at, cents in customer.purchases:
        touch = _last_touch(delivered, moments, at, results.window)
        if touch is not None and touch[2] == plan.journey:
            bump(touch[3], "attributed_purchases")
            bump(touch[3], "attributed_revenue_cents", cents)
    if customer.unsubscribed_at is not None:
        touch = _last_touch(delivered, moments, customer.unsubscribed_at, results.window)
        if touch is not None and touch[2] == plan.journey:
            bump(touch[3], "unsubscribed")
    for split, arm, times in assigned:
        _add_to_arm(split.arms[arm], plan, customer, entries, times)


def _goal_purchase(customer: _Customer, entries: list[datetime], converted_at: datetime) -> int:
    """The cents of the purchase that reached the goal at ``converted_at`` (0 if none is found)."""
    entry = _latest_at_or_before(entries, converted_at)
    candidates = [(at, cents) for at, cents in customer.purchases if entry is None or at >= entry]
    before = [item for item in candidates if item[0] <= converted_at]
    if before:
        return before[-1][1]
    after = [item for item in candidates if item[0] <= converted_at + CLOCK_TOLERANCE]
    return after[0][1] if after else 0


def _last_touch(
    delivered: list[tuple[datetime, int, str, str, str]],
    moments: list[datetime],
    at: datetime,
    window: timedelta,
) -> tuple[datetime, int, str, str, str] | None:
    """The last message delivered at or before ``at``, if it is at most ``window`` before it."""
    index = bisect.bisect_right(moments, at)
    if not index:
        return None
    touch = delivered[index - 1]
    return touch if at - touch[0] <= window else None


def _add_to_arm(
    arm: Arm, plan: Plan, customer: _Customer, entries: list[datetime], times: list[datetime]
) -> None:
    arm.customers += 1
    if plan.goal is None:
        return
    within = timedelta(seconds=plan.goal.within_seconds)
    windows: list[tuple[datetime, datetime]] = []
    for at in times:
        entry = _latest_at_or_before(entries, at) or at
        windows.append((entry, entry + within))

    def inside(moment: datetime) -> bool:
        return any(start <= moment <= end for start, end in windows)

    if any(inside(at) for at in customer.goal_events):
        arm.converted += 1
    arm.revenue_cents += sum(cents for at, cents in customer.purchases if inside(at))

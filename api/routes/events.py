"""Event ingestion: each event reaches the journeys it starts or that wait for it, idempotently."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from api.deps import MetricsDep, RouterDep, SettingsDep
from api.errors import IN_FLIGHT, INVALID, TOO_LARGE, UNAUTHORIZED, UNAVAILABLE, responses
from api.metrics import Metrics
from api.schemas import (
    BatchUnfinished,
    EventAccepted,
    EventBatchAccepted,
    EventBatchIn,
    EventIn,
    Problem,
    SkippedJourney,
)
from config.settings import Settings
from contracts.events import CustomerEvent
from ingest.outages import TemporalUnavailable
from ingest.router import EventIdReused, EventInFlight, EventRouter

router = APIRouter(prefix="/events", tags=["events"])
ERRORS = responses(UNAUTHORIZED, TOO_LARGE, INVALID, IN_FLIGHT, UNAVAILABLE)
BATCH_ERRORS = responses(
    ERRORS,
    {
        503: {
            **UNAVAILABLE[503],
            "model": Problem | BatchUnfinished,
            "description": "Temporal is unreachable, or (`reason: batch_time_budget`) the batch spent "
            "its time budget after delivering some of its events: either way, resend the whole batch "
            "after Retry-After; the events delivered come back as duplicates",
        }
    },
)
# Customers of one batch are routed side by side; each customer's events stay in order.
BATCH_CONCURRENCY = 8
# How far ahead of the server's clock a sender's clock may run (the window behind it is a setting).
FUTURE_SKEW = timedelta(days=1)


def accepted(answer: BaseModel) -> Response:
    """202 with ``answer`` as JSON, serialised once by pydantic: given the model itself, FastAPI would
    validate it again against the response model, turn it into a dict, then encode that."""
    return Response(
        answer.model_dump_json(), status_code=status.HTTP_202_ACCEPTED, media_type="application/json"
    )


def check_timestamps(events: list[tuple[tuple[str | int, ...], EventIn]], settings: Settings) -> None:
    """422 naming every ``timestamp`` outside the window around the server's clock (before anything is
    claimed or stored): at most ``event_timestamp_window_days`` behind it, ``FUTURE_SKEW`` ahead."""
    now = datetime.now(UTC)
    earliest, latest = now - timedelta(days=settings.event_timestamp_window_days), now + FUTURE_SKEW
    errors = [
        {
            "loc": (*loc, "timestamp"),
            "type": "timestamp_out_of_window",
            "msg": f"must be between {earliest:%Y-%m-%dT%H:%M:%SZ} and {latest:%Y-%m-%dT%H:%M:%SZ}: "
            f"at most {settings.event_timestamp_window_days:g} days before the server's clock, one day after",
        }
        for loc, event in events
        if event.timestamp is not None and not earliest <= event.timestamp <= latest
    ]
    if errors:
        raise RequestValidationError(errors)


def _reused_id(index: int, earlier: int) -> dict[str, object]:
    """One event id for two customers' events: a sender's bug, never silently a duplicate."""
    return {
        "loc": ("body", "events", index, "event_id"),
        "type": "event_id_reused",
        "msg": f"is also the id of events[{earlier}], an event of another customer; an event id names "
        "one event (a retry sends the same event again, for the same customer)",
    }


def _used_before(loc: tuple[int | str, ...]) -> dict[str, object]:
    """An event id stored before for another event: refused, never silently a duplicate."""
    return {
        "loc": (*loc, "event_id"),
        "type": "event_id_reused",
        "msg": "was used before by another event (of another customer, or of another name); an event "
        "id names one event, and a retry sends that same event again",
    }


class _Budget:
    """A batch's time budget. It runs from the first event new to the store that the batch
    delivers: before that, the batch goes on whatever the time (repeats of a resend are quick), so
    every send delivers at least one new event and a resend always gets further."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.until: float | None = None
        self.new = 0  # events new to the store delivered
        self.left = 0  # events left for the resend

    def delivered(self, now: float) -> None:
        self.new += 1
        if self.until is None:
            self.until = now + self.seconds

    def spent(self, now: float) -> bool:
        return self.until is not None and now > self.until


def _over_budget(budget: _Budget, total: int) -> Response:
    """503: the batch delivered for its whole time budget; the rest waits for the resend."""
    detail = (
        f"the batch spent its time budget of {budget.seconds:g} s: {total - budget.left} of its {total} "
        "events were delivered; send the whole batch again (the events delivered come back as "
        "duplicates), or send smaller batches"
    )
    body = BatchUnfinished(
        detail=detail, reason="batch_time_budget", delivered=total - budget.left, left=budget.left
    )
    return Response(
        body.model_dump_json(),
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        media_type="application/json",
        headers={"Retry-After": "1"},
    )


async def deliver(event: EventIn, events: EventRouter, metrics: Metrics) -> EventAccepted:
    """Route one event; raises ``TemporalUnavailable`` (and then nothing was acknowledged)."""
    result = await events.route(
        CustomerEvent(
            event_id=event.event_id,
            customer_id=event.customer_id,
            name=event.name,
            properties=event.properties,
            timestamp=event.timestamp or datetime.now(UTC),
            traits=event.traits.merged() if event.traits is not None else None,
        )
    )
    metrics.events_accepted.labels("duplicate" if result.duplicate else "new").inc()
    for journey in result.started:
        metrics.journeys_started.labels(journey).inc()
    return EventAccepted(
        event_id=result.event_id,
        duplicate=result.duplicate,
        started=result.started,
        signalled=result.signalled,
        skipped=[SkippedJourney(journey=s.journey, reason=s.reason) for s in result.skipped],
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventAccepted,
    responses=ERRORS,
    summary="Send one customer event",
)
async def post_event(
    event: EventIn, events: RouterDep, metrics: MetricsDep, settings: SettingsDep
) -> Response:
    """Start the journeys this event triggers and deliver it to the customer's journeys in flight.

    A repeat of an ``event_id`` already accepted answers 202 with ``duplicate: true`` and changes nothing,
    so a sender may retry any failed or unanswered request. An ``event_id`` used before by another
    event (another customer's, or of another name) is refused: 422, ``event_id_reused``.
    """
    check_timestamps([(("body",), event)], settings)
    try:
        return accepted(await deliver(event, events, metrics))
    except EventIdReused:
        raise RequestValidationError([_used_before(("body",))]) from None


@router.post(
    "/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventBatchAccepted,
    responses=BATCH_ERRORS,
    summary="Send up to 1,000 customer events",
)
async def post_events(
    batch: EventBatchIn, events: RouterDep, metrics: MetricsDep, settings: SettingsDep
) -> Response:
    """Each event as in ``POST /v1/events``. On 503 some events may have been applied: resend the whole
    batch, and those come back as duplicates. A batch delivers for at most ``JOURNEYS_BATCH_SECONDS``
    (default 20) from its first new event; what is left then is answered 503 too, with
    ``reason: batch_time_budget`` (each send delivers at least one new event). Within one batch, one
    ``event_id`` for two customers' events is refused (422) before anything is delivered: an id names
    one event. An ``event_id`` stored before for another event (another customer's, or of another
    name) is refused too (422, ``event_id_reused``, at that event): the other customers' events were
    delivered, and that customer's later events were left, to keep its order. Fix the id and resend
    the whole batch: those delivered come back as duplicates.

    On 409 another request holds the claim of some event of the batch: every other event was
    delivered, except a customer's events after one that is held (left for the resend, to keep each
    customer's order), and no event of the batch stays claimed. Resend the whole batch after
    ``Retry-After`` (the longest wait any held event needs): those delivered come back as duplicates.
    """
    check_timestamps([(("body", "events", n), event) for n, event in enumerate(batch.events)], settings)
    by_customer: dict[str, list[int]] = defaultdict(list)
    first: dict[str, int] = {}
    repeats: set[int] = set()  # an event id given again in this batch: a duplicate, no claim needed
    reused: list[dict[str, object]] = []
    for index, event in enumerate(batch.events):
        if event.event_id in first:
            repeats.add(index)
            earlier = batch.events[first[event.event_id]]
            if earlier.customer_id != event.customer_id:
                reused.append(_reused_id(index, first[event.event_id]))
        first.setdefault(event.event_id, index)
        by_customer[event.customer_id].append(index)
    if reused:
        raise RequestValidationError(reused)
    results: list[EventAccepted | None] = [None] * len(batch.events)
    gate = asyncio.Semaphore(BATCH_CONCURRENCY)
    held: list[EventInFlight] = []
    used_before: list[int] = []
    loop = asyncio.get_running_loop()
    budget = _Budget(settings.batch_seconds)

    async def customer(indices: list[int]) -> None:
        async with gate:
            for position, index in enumerate(indices):
                if budget.spent(loop.time()):  # what is left waits for the resend
                    budget.left += len(indices) - position
                    return
                if index in repeats:
                    repeat = batch.events[index].event_id
                    results[index] = EventAccepted(
                        event_id=repeat, duplicate=True, started=[], signalled=[], skipped=[]
                    )
                    metrics.events_accepted.labels("duplicate").inc()
                    continue
                try:
                    result = await deliver(batch.events[index], events, metrics)
                except EventInFlight as busy:  # not a failure of the batch: the other customers go on
                    held.append(busy)
                    return
                except EventIdReused:  # refused; this customer's later events wait, to keep its order
                    used_before.append(index)
                    return
                results[index] = result
                if not result.duplicate:
                    budget.delivered(loop.time())

    try:
        async with asyncio.TaskGroup() as group:
            for indices in by_customer.values():
                group.create_task(customer(indices))
    except ExceptionGroup as failures:
        # Report Temporal being down (503, retry) ahead of anything else that went wrong.
        unavailable, _ = failures.split(TemporalUnavailable)
        raise (unavailable or failures).exceptions[0] from None
    if used_before:  # a fix is needed before any resend can succeed: reported ahead of a wait
        raise RequestValidationError(
            [_used_before(("body", "events", index)) for index in sorted(used_before)]
        )
    if held:
        raise max(held, key=lambda busy: busy.retry_after)
    if budget.left:
        return _over_budget(budget, len(batch.events))
    done = [r for r in results if r is not None]
    duplicates = sum(r.duplicate for r in done)
    return accepted(EventBatchAccepted(accepted=len(done) - duplicates, duplicates=duplicates, results=done))

"""The loyalty workflow's activities: apply one event, settle what fell due, each in one transaction.

Every feature (``FEATURES``: modules with ``on_event`` and ``settle`` returning an ``Outcome``) runs
in order inside the transaction; the events they return are emitted through the ``EventSink`` after
commit (their ids are deterministic, so emitting twice is a no-op). An event is applied once
(``loyalty_events``); times come from the request (the workflow clock), never the wall clock.

What an application emits is kept with its ``loyalty_events`` row (``emitted``), and what a settle
emits with the customer's ``loyalty/settle`` row (the last settle's time and events): a retry after
the commit but before the emission (same request, so the same ``at``) finds nothing new to do, and
emits what was kept instead of nothing.

``points_awarded`` is what hands points given outside a customer's own loyalty run to that run (the
router routes it there), which then reminds and expires their lot: a journey's award step emits it
(``awarded_event``: {points, balance}), and so does this activity for a grant to another customer
(``granted_event``: a referrer's reward, {points, rule}). The program's own events (``loyalty/...``)
never go back to a loyalty run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from temporalio import activity

from activities.events import EventSink
from contracts.activities import AwardResult
from contracts.events import CustomerEvent
from contracts.ids import derived_id
from contracts.loyalty_activities import ApplyEventRequest, LoyaltyAnswer, SettleRequest
from store import challenges, referrals, tiers, wallet
from store.database import Store
from store.inserts import insert_ignore
from store.loyalty_outcome import Outcome
from store.loyalty_tables import loyalty_events

# In order: the wallet's lots first, referrals and challenges (their grants), tiers last (they see all).
FEATURES = (wallet, referrals, challenges, tiers)
# The row of a customer's last settle; no backend event id has a "/", so none is ever this one.
SETTLE_KEY = "loyalty/settle"
AWARDED_EVENT = "points_awarded"
EMITTED_PREFIX = "loyalty/"  # the ids of the events the program emits


def awarded_event(key: str, customer_id: str, result: AwardResult, at: datetime) -> CustomerEvent | None:
    """The ``points_awarded`` event of an award that gave points (None otherwise), its id derived from
    the award's key (a retried award emits the same one)."""
    if result.points <= 0 or result.skipped is not None:
        return None
    return CustomerEvent(
        event_id=derived_id(key, AWARDED_EVENT),
        customer_id=customer_id,
        name=AWARDED_EVENT,
        properties={"points": result.points, "balance": result.balance},
        timestamp=at,
    )


def granted_event(run_customer_id: str, event: CustomerEvent) -> CustomerEvent | None:
    """For ``points_earned`` of another customer than the run's (a referrer rewarded in their referee's
    run), the ``points_awarded`` that brings it to their own run; None for anything else."""
    if event.customer_id == run_customer_id or event.name != "points_earned":
        return None
    return CustomerEvent(
        event_id=derived_id(event.event_id.removeprefix(EMITTED_PREFIX), AWARDED_EVENT),
        customer_id=event.customer_id,
        name=AWARDED_EVENT,
        properties={"points": event.properties.get("points"), "rule": event.properties.get("rule")},
        timestamp=event.timestamp,
    )


class LoyaltyActivities:
    def __init__(self, store: Store, events: EventSink) -> None:
        self.store = store
        self.events = events

    def definitions(self) -> list[Callable[..., Any]]:
        return [self.apply_event, self.settle]

    @activity.defn(name="loyalty_apply_event")
    async def apply_event(self, req: ApplyEventRequest) -> LoyaltyAnswer:
        program = await self.store.loyalty_programs.active()
        if program is None:
            return LoyaltyAnswer(applied=False)
        outcome = Outcome()
        key = {"event_id": req.event.event_id, "customer_id": req.customer_id}
        async with self.store.engine.begin() as conn:
            applied = await insert_ignore(conn, loyalty_events, {**key, "applied_at": req.at, "emitted": []})
            if applied:
                for feature in FEATURES:
                    outcome.add(await feature.on_event(conn, program, req.customer_id, req.event, req.at))
            for feature in FEATURES:
                outcome.add(await feature.settle(conn, program, req.customer_id, req.at))
            events = await _kept(conn, req.customer_id, req.event.event_id, outcome.events)
        await self._emit(req.customer_id, events)
        return LoyaltyAnswer(next_due=outcome.next_due, emitted=len(events), applied=applied)

    @activity.defn(name="loyalty_settle")
    async def settle(self, req: SettleRequest) -> LoyaltyAnswer:
        return await self.settle_at(req.customer_id, req.at)

    async def settle_at(self, customer_id: str, at: datetime) -> LoyaltyAnswer:
        program = await self.store.loyalty_programs.active()
        if program is None:
            return LoyaltyAnswer(applied=False)
        outcome = Outcome()
        async with self.store.engine.begin() as conn:
            for feature in FEATURES:
                outcome.add(await feature.settle(conn, program, customer_id, at))
            fresh = await insert_ignore(
                conn,
                loyalty_events,
                {"event_id": SETTLE_KEY, "customer_id": customer_id, "applied_at": at, "emitted": []},
            )
            events = await _kept(conn, customer_id, SETTLE_KEY, outcome.events, since=None if fresh else at)
        await self._emit(customer_id, events)
        return LoyaltyAnswer(next_due=outcome.next_due, emitted=len(events))

    async def _emit(self, customer_id: str, events: list[CustomerEvent]) -> None:
        for event in events:
            await self.events.emit(event)
            if (granted := granted_event(customer_id, event)) is not None:
                await self.events.emit(granted)


async def _kept(
    conn: AsyncConnection,
    customer_id: str,
    row_id: str,
    new: Sequence[CustomerEvent],
    since: datetime | None = None,
) -> list[CustomerEvent]:
    """Add ``new`` to what row ``row_id`` kept and return the whole (in order, each id once). With
    ``since``, the row is a settle's: what it kept counts only if it was that same settle's (``since``
    equals its time, a retry); otherwise the row now holds this settle alone."""
    where = (loyalty_events.c.event_id == row_id, loyalty_events.c.customer_id == customer_id)
    row = (
        await conn.execute(
            sa.select(loyalty_events.c.applied_at, loyalty_events.c.emitted).where(*where).with_for_update()
        )
    ).one()
    earlier = row.emitted or []
    if since is not None and row.applied_at != since:
        earlier = []
    kept = [CustomerEvent.model_validate(each) for each in earlier]
    seen = {event.event_id for event in kept}
    added = [event for event in new if event.event_id not in seen]
    if added or (since is not None and row.applied_at != since):
        values: dict[str, Any] = {"emitted": [event.model_dump(mode="json") for event in [*kept, *added]]}
        if since is not None:
            values["applied_at"] = since
        await conn.execute(loyalty_events.update().where(*where).values(**values))
    return [*kept, *added]

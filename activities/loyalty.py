"""The loyalty workflow's activities: apply one event, settle what fell due, each in one transaction.

Every feature (``FEATURES``: modules with ``on_event`` and ``settle`` returning an ``Outcome``) runs
in order inside the transaction; the events they return are emitted through the ``EventSink`` after
commit (their ids are deterministic, so emitting twice is a no-op). An event is applied once
(``loyalty_events``); times come from the request (the workflow clock), never the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import activity

from activities.events import EventSink
from contracts.events import CustomerEvent
from contracts.loyalty_activities import ApplyEventRequest, LoyaltyAnswer, SettleRequest
from store import challenges, referrals, tiers, wallet
from store.database import Store
from store.inserts import insert_ignore
from store.loyalty_outcome import Outcome
from store.loyalty_tables import loyalty_events

# In order: the wallet's lots first, referrals and challenges (their grants), tiers last (they see all).
FEATURES = (wallet, referrals, challenges, tiers)


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
        async with self.store.engine.begin() as conn:
            applied = await insert_ignore(
                conn,
                loyalty_events,
                {"event_id": req.event.event_id, "customer_id": req.customer_id, "applied_at": req.at},
            )
            if applied:
                for feature in FEATURES:
                    outcome.add(await feature.on_event(conn, program, req.customer_id, req.event, req.at))
            for feature in FEATURES:
                outcome.add(await feature.settle(conn, program, req.customer_id, req.at))
        await self._emit(outcome.events)
        return LoyaltyAnswer(next_due=outcome.next_due, emitted=len(outcome.events), applied=applied)

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
        await self._emit(outcome.events)
        return LoyaltyAnswer(next_due=outcome.next_due, emitted=len(outcome.events))

    async def _emit(self, events: list[CustomerEvent]) -> None:
        for event in events:
            await self.events.emit(event)

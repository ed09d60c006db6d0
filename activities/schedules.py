"""The scheduler's activities (``workflows.scheduled_entries``): what is due for a journey's current
deployment, and one page of entries at one occurrence; and ``replan``, which starts a journey's
scheduler or tells the running one that its deployment changed.

Entries go through the event router (``enter_scheduled``), which claims each entry's event id once
(``engine.schedule_runs.entry_event_id``: journey, customer, the occurrence's instant) and applies
the journey's audience, re-entry rules and pause: a retried page enters nobody twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from contracts.events import CustomerEvent
from engine.plan import SCHEDULED_EVENT
from engine.schedule_runs import (
    DueAnswer,
    DueRequest,
    EnterPage,
    EnterPageAnswer,
    Occurrence,
    SchedulerInput,
    entry_event_id,
    scheduler_id,
)
from engine.schedule_times import next_occurrence, occurrences
from store.database import Store
from store.schedules import ScheduleAudience

DUE_ACTIVITY = "schedule_due"
PAGE_ACTIVITY = "schedule_enter_page"
SCHEDULER_WORKFLOW = "ScheduledEntriesWorkflow"
# Occurrences missed by more than this (the worker was down) are not entered late; longer than the
# longest sleep between two looks (``SchedulerInput.idle_seconds``).
CATCH_UP = timedelta(days=2)
RPC_TIMEOUT = timedelta(seconds=5)  # a deploy is not held up for long by a Temporal outage


@runtime_checkable
class ScheduledEntrySink(Protocol):
    async def enter_scheduled(self, journey: str, event: CustomerEvent) -> bool:
        """Enter the event's customer in ``journey`` as its scheduled trigger; whether they entered."""
        ...


class ScheduleActivities:
    def __init__(self, store: Store, entries: ScheduledEntrySink | None) -> None:
        self.store = store
        self.entries = entries
        self.audience = ScheduleAudience(store.engine)

    def definitions(self) -> list[Callable[..., Any]]:
        return [self.due, self.enter_page]

    @activity.defn(name=DUE_ACTIVITY)
    async def due(self, req: DueRequest) -> DueAnswer:
        plan = await self.store.deployments.current(req.journey)
        schedule = plan.trigger.schedule if plan is not None else None
        if schedule is None:
            return DueAnswer(scheduled=False)
        zones = await self.audience.zones(schedule.segment)
        after = max(req.after, req.until - CATCH_UP)
        found = (
            []
            if await self.store.deployments.is_paused(req.journey)
            else occurrences(schedule, zones, after, req.until)
        )
        return DueAnswer(
            scheduled=True,
            segment=schedule.segment,
            due=[Occurrence(at=each.at, zones=list(each.zones)) for each in found],
            next_at=next_occurrence(schedule, zones, req.until),
        )

    @activity.defn(name=PAGE_ACTIVITY)
    async def enter_page(self, req: EnterPage) -> EnterPageAnswer:
        if self.entries is None:
            raise ApplicationError("this worker's event sink cannot enter customers", non_retryable=True)
        ids = await self.audience.members(req.segment, req.occurrence.zones, req.after, req.page)
        at = req.occurrence.at
        properties = {"segment": req.segment, "occurrence": at.isoformat()}
        events = [
            CustomerEvent(
                event_id=entry_event_id(req.journey, cid, at),
                customer_id=cid,
                name=SCHEDULED_EVENT,
                properties=properties,
                timestamp=at,
            )
            for cid in ids
        ]
        entered = await asyncio.gather(*(self.entries.enter_scheduled(req.journey, e) for e in events))
        return EnterPageAnswer(
            entered=sum(entered),
            skipped=len(entered) - sum(entered),
            next_after=ids[-1] if len(ids) == req.page else None,
        )


def schedule_activities(store: Store, events: object) -> list[Callable[..., Any]]:
    """The scheduler's activities, entering through ``events`` when it is the event router."""
    entries = events if isinstance(events, ScheduledEntrySink) else None
    return ScheduleActivities(store, entries).definitions()


async def replan(client: Client, task_queue: str, journey: str, *, start: bool) -> None:
    """Tell the scheduler of ``journey`` its deployment changed; with ``start``, start it when it is
    not running (signal-with-start), else only signal a running one (none running: nothing to do)."""
    if start:
        await client.start_workflow(
            SCHEDULER_WORKFLOW,
            SchedulerInput(journey=journey),
            id=scheduler_id(journey),
            task_queue=task_queue,
            start_signal="replan",
            rpc_timeout=RPC_TIMEOUT,
        )
        return
    try:
        await client.get_workflow_handle(scheduler_id(journey)).signal("replan", rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise

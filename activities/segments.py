"""The segment sweep's activity: one page of customers whose segments time alone may have changed,
evaluated at the sweep's time, their changes emitted as ``segment_entered`` / ``segment_exited``.

Idempotent: the page is evaluated at the request's time (the workflow's clock), memberships already
changed by an earlier attempt are not changed again, and the changes not yet emitted are answered
again and emitted with the same event ids (``store.segments``), which the router claims once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.events import EventSink
from engine.segments.sweep import SWEEP_WORKFLOW_ID, SweepInput, SweepPageAnswer, SweepPageRequest
from store.database import Store
from store.segments import SegmentHook, SegmentMembership, emit_changes

SWEEP_ACTIVITY = "segments_sweep_page"


class SegmentActivities:
    def __init__(self, store: Store, events: EventSink, hook: SegmentHook) -> None:
        self.store = store
        self.events = events
        self.hook = hook  # its segments are the ones the router evaluates on events

    def definitions(self) -> list[Callable[..., Any]]:
        return [self.sweep_page]

    @activity.defn(name=SWEEP_ACTIVITY)
    async def sweep_page(self, req: SweepPageRequest) -> SweepPageAnswer:
        segments = self.hook.segments
        membership = self.hook.membership
        ids = await membership.candidates(segments, req.since, req.until, req.after, req.page)
        if not ids:
            return SweepPageAnswer()
        changes = await membership.evaluate(segments, ids, req.until)
        await emit_changes(membership, changes, self.events.emit)
        return SweepPageAnswer(
            evaluated=len(ids), changes=len(changes), next_after=ids[-1] if len(ids) == req.page else None
        )


def segment_activities(store: Store, events: EventSink) -> list[Callable[..., Any]]:
    """The sweep's activity, on the segments of the router ``events`` is (none for another sink)."""
    hook = getattr(events, "segments", None)
    if not isinstance(hook, SegmentHook):
        hook = SegmentHook(SegmentMembership(store.engine))
    return SegmentActivities(store, events, hook).definitions()


async def start_sweep(client: Client, task_queue: str, params: SweepInput | None = None) -> bool:
    """Start the one segment sweep (fixed id) unless it runs already; whether this call started it."""
    try:
        await client.start_workflow(
            "SegmentSweepWorkflow",
            params or SweepInput(),
            id=SWEEP_WORKFLOW_ID,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True

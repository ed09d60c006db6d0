"""Routes events the loyalty program listens to into the customer's ``LoyaltyWorkflow``.

Signal-with-start of ``loyalty/{customer_id}``: a run in flight gets the event, or a new run starts
with it. The events the program listens to: its earning rules' events, the refund event, the
referral sign-up and qualifying events, the challenges' events, and ``points_awarded`` (a journey's
award step gave points: the run reminds and expires that lot). Events the program itself emits
(ids ``loyalty/...``) are never routed back (no loops). The active program is read again at most
every few seconds, or when ``forget`` is called (a deploy).
"""

from __future__ import annotations

import time
from datetime import timedelta

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError

from activities.loyalty import AWARDED_EVENT, EMITTED_PREFIX
from contracts.events import CustomerEvent
from contracts.loyalty_activities import LoyaltyInput
from engine.loyalty.program import Program
from ingest.outages import unavailable_or
from store.database import Store
from workflows.loyalty import LoyaltyWorkflow, loyalty_workflow_id

RPC_TIMEOUT = timedelta(seconds=5)


def listened_events(program: Program) -> frozenset[str]:
    source = program.source
    names = {rule.event for rule in source.earning} | {AWARDED_EVENT}
    names |= {challenge.event for challenge in source.challenges}
    if source.pending.refund_event:
        names.add(source.pending.refund_event)
    if source.referrals is not None:
        names |= {source.referrals.signup_event, source.referrals.qualify_event}
    return frozenset(names)


class LoyaltyRouting:
    def __init__(self, client: Client, store: Store, task_queue: str, refresh_seconds: float = 5.0) -> None:
        self._client = client
        self._store = store
        self._task_queue = task_queue
        self._refresh_seconds = refresh_seconds
        self._events: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")

    def forget(self) -> None:
        """Read the active program again on the next event (a deploy happened)."""
        self._loaded_at = float("-inf")

    async def deliver(self, event: CustomerEvent) -> bool:
        """Signal-with-start the customer's loyalty run if the program listens to ``event``."""
        if event.event_id.startswith(EMITTED_PREFIX):
            return False
        if time.monotonic() - self._loaded_at > self._refresh_seconds:
            program = await self._store.loyalty_programs.active()
            self._events = listened_events(program) if program is not None else frozenset()
            self._loaded_at = time.monotonic()
        if event.name not in self._events:
            return False
        try:
            await self._client.start_workflow(
                LoyaltyWorkflow.run,
                LoyaltyInput(customer_id=event.customer_id),
                id=loyalty_workflow_id(event.customer_id),
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                start_signal="event",
                start_signal_args=[event],
                rpc_timeout=RPC_TIMEOUT,
            )
        except RPCError as exc:
            raise unavailable_or(exc) from exc
        return True

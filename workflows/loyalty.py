"""``LoyaltyWorkflow``: one durable run per customer (id ``loyalty/{customer_id}``) that applies the
customer's loyalty events and settles their wallet, tiers and challenges when something falls due.

Events arrive by signal (the router signals-with-start). Each is applied by an activity at
``workflow.now()``; the store answers when the customer next needs settling, and the run sleeps on a
timer until then (or until the next event). No cron: the timers are the schedule, and every store
change is keyed, so a retried activity or a replay never doubles. Continue-as-new every
``ITERATIONS`` activities; the run ends when nothing is due and no event is waiting.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts.events import CustomerEvent
    from contracts.loyalty_activities import ApplyEventRequest, LoyaltyAnswer, LoyaltyInput, SettleRequest

ITERATIONS = 200
TIMEOUT = timedelta(seconds=60)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
MIN_SLEEP = timedelta(seconds=1)  # never spin on a due time the store could not settle yet


def loyalty_workflow_id(customer_id: str) -> str:
    return f"loyalty/{customer_id}"


@workflow.defn(name="LoyaltyWorkflow")
class LoyaltyWorkflow:
    def __init__(self) -> None:
        self._queue: list[CustomerEvent] = []

    @workflow.signal(name="event")
    def event(self, event: CustomerEvent) -> None:
        self._queue.append(event)

    @workflow.run
    async def run(self, start: LoyaltyInput) -> None:
        self._queue[:0] = start.pending
        due = start.next_due
        done = 0
        while True:
            while self._queue:
                answer = await workflow.execute_activity(
                    "loyalty_apply_event",
                    ApplyEventRequest(
                        customer_id=start.customer_id, event=self._queue.pop(0), at=workflow.now()
                    ),
                    result_type=LoyaltyAnswer,
                    start_to_close_timeout=TIMEOUT,
                    retry_policy=RETRY,
                )
                due, done = answer.next_due, done + 1
            if done >= ITERATIONS:
                workflow.continue_as_new(LoyaltyInput(customer_id=start.customer_id, next_due=due))
            if due is None:
                return
            wait = max(due - workflow.now(), MIN_SLEEP)
            try:
                await workflow.wait_condition(lambda: bool(self._queue), timeout=wait)
                continue  # an event first: applying it settles too
            except TimeoutError:
                pass
            answer = await workflow.execute_activity(
                "loyalty_settle",
                SettleRequest(customer_id=start.customer_id, at=workflow.now()),
                result_type=LoyaltyAnswer,
                start_to_close_timeout=TIMEOUT,
                retry_policy=RETRY,
            )
            due, done = answer.next_due, done + 1

"""The bench journey of ``bench.interpreter`` written by hand: the activities ``JourneyWorkflow`` calls
for it, in the same order, with the same inputs, idempotency keys and step records, and its waiting
step in the Temporal UI, without a plan. A module of its own and small, as a hand-written workflow's
would be: the sandbox imports it for every run."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.activities import AwardRequest, AwardResult, DeliveryResult, SendEmailRequest, StepMark
    from contracts.events import CustomerEvent
    from contracts.ids import derived_id
    from contracts.records import RecordKind, StepRecord
    from contracts.visibility import JOURNEY_STEP
    from workflows.journey import KEY_LENGTH, SEND_RETRY, SEND_TIMEOUT, STORE_RETRY, STORE_TIMEOUT
    from workflows.models import JourneyInput

JOURNEY = "bench_interpreter"
REPLY = "bench_reply"
TIMEOUT_SECONDS = 1


@workflow.defn(name="HandWrittenJourney")
class HandWrittenJourney:
    """The bench journey as one would write it by hand: the interpreter's activities, inputs,
    idempotency keys, step records and waiting step in the Temporal UI, without a plan."""

    def __init__(self) -> None:
        self._reply: CustomerEvent | None = None

    @workflow.signal(name="event")
    def on_event(self, event: CustomerEvent) -> None:
        if event.name == REPLY and self._reply is None:
            self._reply = event

    @workflow.run
    async def run(self, inp: JourneyInput) -> int:
        info = workflow.info()
        trigger = inp.trigger
        made = 0

        def record(step: str | None, kind: RecordKind, detail: str) -> StepRecord:
            nonlocal made
            made += 1
            return StepRecord(
                journey=JOURNEY,
                version=inp.version,
                workflow_id=info.workflow_id,
                customer_id=inp.customer_id,
                step=step,
                kind=kind,
                detail=detail,
                at=workflow.now(),
                entry=trigger.event_id,
                seq=made - 1,
            )

        def marks(*records: StepRecord) -> list[StepMark]:
            return [StepMark.of(r, workflow.now()) for r in records]

        def context(step: str) -> dict[str, object]:
            return {
                "key": derived_id(f"{info.workflow_id}/{trigger.event_id}/{step}", "1", KEY_LENGTH),
                "workflow_id": info.workflow_id,
                "journey": JOURNEY,
                "version": inp.version,
                "step": step,
                "customer_id": inp.customer_id,
                "at": workflow.now(),
                "entry": trigger.event_id,
            }

        # As the interpreter does since patch store-steps-local: the award is a local activity
        # run before the send, carrying the step records up to it; the send carries none.
        award: AwardResult = await workflow.execute_local_activity(
            "award",
            AwardRequest.model_validate(
                {
                    **context("bonus"),
                    "marks": marks(
                        record(None, "journey_entered", trigger.name),
                        record("bonus", "entered", "award"),
                        record("bonus", "completed", "hello"),
                        record("hello", "entered", "send_email"),
                    ),
                    "points": 10,
                    "reason": "Bench bonus",
                }
            ),
            result_type=AwardResult,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        await workflow.execute_activity(
            "send_email",
            SendEmailRequest.model_validate(
                {
                    **context("hello"),
                    "entry": "",
                    "hold_if_paused": True,
                    "template": "welcome",
                    "event": trigger.as_context(),
                    "data": {trigger.name: trigger.properties},
                }
            ),
            result_type=DeliveryResult,
            start_to_close_timeout=SEND_TIMEOUT,
            retry_policy=SEND_RETRY,
        )
        workflow.upsert_search_attributes([JOURNEY_STEP.value_set("wait_reply")])
        await self._record_steps(
            [record("hello", "completed", "wait_reply"), record("wait_reply", "entered", "wait_for")]
        )
        try:
            await workflow.wait_condition(
                lambda: self._reply is not None, timeout=timedelta(seconds=TIMEOUT_SECONDS)
            )
        except TimeoutError:
            pass
        await self._record_steps(
            [
                record("wait_reply", "completed", "end"),
                record("wait_reply", "journey_exited", "completed: end of journey"),
            ]
        )
        return award.points

    async def _record_steps(self, records: list[StepRecord]) -> None:
        await workflow.execute_local_activity(
            "record_steps", records, start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY
        )

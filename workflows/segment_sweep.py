"""``SegmentSweepWorkflow``: the durable periodic sweep for segments time alone changes ("inactive
30 days" is entered on day 30 without any event). One run (id ``segments/sweep``) wakes on a timer
every ``every_seconds``, and evaluates, page by page with a pause between pages (paced), the
customers whose recency may have crossed a threshold since the last sweep (``store.segments``:
an indexed read on ``last_at``) at ``workflow.now()``. The activity is idempotent, so a retry or a
replay never emits a change twice. Continue-as-new every ``SWEEPS_PER_RUN`` sweeps, carrying the
last sweep's time.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from engine.segments.sweep import SweepInput, SweepPageAnswer, SweepPageRequest

SWEEPS_PER_RUN = 100
MAX_PAGES = 10_000  # a sweep ends after this many pages whatever the store answers
TIMEOUT = timedelta(minutes=5)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


@workflow.defn(name="SegmentSweepWorkflow")
class SegmentSweepWorkflow:
    @workflow.run
    async def run(self, params: SweepInput) -> None:
        last = params.last
        for _ in range(SWEEPS_PER_RUN):
            await workflow.sleep(timedelta(seconds=params.every_seconds))
            now = workflow.now()
            after: str | None = None
            for _ in range(MAX_PAGES):
                answer = await workflow.execute_activity(
                    "segments_sweep_page",
                    SweepPageRequest(since=last, until=now, after=after, page=params.page),
                    result_type=SweepPageAnswer,
                    start_to_close_timeout=TIMEOUT,
                    retry_policy=RETRY,
                )
                if answer.next_after is None:
                    break
                after = answer.next_after
                if params.pause_seconds:
                    await workflow.sleep(timedelta(seconds=params.pause_seconds))
            last = now
        workflow.continue_as_new(params.model_copy(update={"last": last}))

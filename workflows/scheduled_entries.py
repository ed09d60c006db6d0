"""``ScheduledEntriesWorkflow``: the durable scheduler of one scheduled journey (id
``schedule/<journey>``). It sleeps until the next instant at which the schedule's local time comes
in one of the time zones the segment's members have, then enters the members of those zones, a page
at a time with a pause between pages (paced), through the event router, so the journey's re-entry
rules, audience and pause apply. Each entry's event id names the occurrence's instant, so a retried
page or a replay enters nobody twice.

It wakes at least every ``recheck_seconds`` (``idle_seconds`` while the segment has no members), so
a member in a time zone no other member has is entered at that zone's occurrence at most that late;
and at once on the
``replan`` signal a deploy, a pause or a resume sends; it ends when the journey is no longer deployed
with a schedule. It continues as new after ``WAKES_PER_RUN`` wakes, or between two pages when the
history grows long, carrying where it stood.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from engine.schedule_runs import (
        DueAnswer,
        DueRequest,
        EnterPage,
        EnterPageAnswer,
        Occurrence,
        SchedulerInput,
    )

WAKES_PER_RUN = 200
MAX_PAGES = 100_000  # an occurrence ends after this many pages whatever the store answers
TIMEOUT = timedelta(minutes=5)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


@workflow.defn(name="ScheduledEntriesWorkflow")
class ScheduledEntriesWorkflow:
    def __init__(self) -> None:
        self._replan = False

    @workflow.signal
    def replan(self) -> None:
        """The journey's deployment changed (a new version, paused, resumed, gone): look again now."""
        self._replan = True

    @workflow.run
    async def run(self, params: SchedulerInput) -> None:
        last = params.last or workflow.now()
        due, cursor = list(params.due), params.cursor
        if due:
            await self._enter_all(params, params.segment, due, cursor, last)
        for _ in range(WAKES_PER_RUN):
            self._replan = False
            now = workflow.now()
            answer = await workflow.execute_activity(
                "schedule_due",
                DueRequest(journey=params.journey, after=last, until=now),
                result_type=DueAnswer,
                start_to_close_timeout=TIMEOUT,
                retry_policy=RETRY,
            )
            if not answer.scheduled:
                return  # undeployed, or its trigger is an event now: nobody enters on a schedule
            last = now
            await self._enter_all(params, answer.segment, answer.due, None, last)
            wait = timedelta(seconds=params.recheck_seconds if answer.next_at else params.idle_seconds)
            if answer.next_at is not None:
                wait = min(wait, max(answer.next_at - workflow.now(), timedelta(0)))
            if wait > timedelta(0):
                try:
                    await workflow.wait_condition(lambda: self._replan, timeout=wait)
                except TimeoutError:
                    pass
        await self._continue(params, last, "", [], None)

    async def _enter_all(
        self,
        params: SchedulerInput,
        segment: str,
        due: list[Occurrence],
        cursor: str | None,
        last: datetime,
    ) -> None:
        """Enter the members at each occurrence of ``due`` (from after ``cursor`` at the first),
        continuing as new between two pages when the history grows long."""
        for index, occurrence in enumerate(due):
            after = cursor if index == 0 else None
            for _ in range(MAX_PAGES):
                answer = await workflow.execute_activity(
                    "schedule_enter_page",
                    EnterPage(
                        journey=params.journey,
                        segment=segment,
                        occurrence=occurrence,
                        after=after,
                        page=params.page,
                    ),
                    result_type=EnterPageAnswer,
                    start_to_close_timeout=TIMEOUT,
                    retry_policy=RETRY,
                )
                if answer.next_after is None:
                    break
                after = answer.next_after
                if workflow.info().is_continue_as_new_suggested():
                    await self._continue(params, last, segment, due[index:], after)
                if params.pause_seconds:
                    await workflow.sleep(timedelta(seconds=params.pause_seconds))

    async def _continue(
        self,
        params: SchedulerInput,
        last: datetime,
        segment: str,
        due: list[Occurrence],
        cursor: str | None,
    ) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        carried = {"last": last, "segment": segment, "due": due, "cursor": cursor}
        workflow.continue_as_new(params.model_copy(update=carried))

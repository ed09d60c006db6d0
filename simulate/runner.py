"""Run customer stories on the real workflow: a Sandbox (time-skipping Temporal, store, SMTP server,
worker, router), with every story on one shared simulated clock so thousands run concurrently."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from engine.channels.policy import ChannelPolicy
from engine.loyalty.program import Program
from engine.plan import SCHEDULED_EVENT, Plan
from ingest.router import RouteResult
from simulate.customer_ids import story_customer_ids
from simulate.offsets import resolve
from simulate.records import CustomerRecords, load_records
from simulate.sandbox import Sandbox, policy_text
from simulate.story import Story, StoryEvent
from simulate.tracker import RunTracker, StartedRun
from simulate.webhooks import WebhookCatcher
from workflows.models import JourneyResult, JourneyStatus, StepTaken
from workflows.plans import PLANS
from workflows.timing import next_local_time

START_TIME = "09:00"  # day 0 of every story starts at this time on the customer's clock
CONCURRENCY = 64
# Every story's run stays in the worker's cache: an evicted run would be replayed from its history.
WORKFLOW_CACHE = 20_000
# Files in shared memory where there is some: a simulation's store is thrown away anyway.
SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
Progress = Callable[[int], None]


@dataclass
class SentEvent:
    at: datetime
    event: StoryEvent
    started: list[str]
    signalled: list[str]
    skipped: list[str]


@dataclass
class RunRecord:
    journey: str
    trigger: str
    started: datetime
    outcome: str  # completed | exited | goal | control | running | failed
    reason: str
    goal_reached: bool
    points: int
    steps: list[StepTaken]
    ended: datetime | None


@dataclass
class StoryRun:
    story: Story
    journey: str
    customer_id: str
    start: datetime
    end: datetime
    timezone: str
    events: list[SentEvent] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)
    records: CustomerRecords = field(default_factory=CustomerRecords)


@dataclass
class Simulator:
    sandbox: Sandbox
    plans: list[Plan]
    tracker: RunTracker
    webhooks: WebhookCatcher

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        plans: list[Plan],
        program: Program | None = None,
        policy: ChannelPolicy | None = None,
        server: asyncio.Task[WorkflowEnvironment] | None = None,
    ) -> AsyncIterator[Simulator]:
        """A Sandbox for ``plans`` with the loyalty ``program`` and the channel ``policy`` deployed
        (on ``server``, a test server already starting, if given: see ``Sandbox.open``)."""
        with tempfile.TemporaryDirectory(prefix="journeys-simulate-", dir=SCRATCH) as workdir:
            async with (
                WebhookCatcher.open() as webhooks,
                Sandbox.open(
                    plans,
                    workdir=Path(workdir),
                    # a simulation's emails reach nobody: no pixel or tracked links to follow
                    settings={"webhook_url": webhooks.url, "track_engagement": False},
                    sandboxed=False,
                    max_cached_workflows=WORKFLOW_CACHE,
                    migrate=False,
                    program=program,
                    policy=None if policy is None else (policy, policy_text(policy)),
                    inline_store=True,  # its own store on shared memory: see store.sqlite_inline
                    server=server,
                ) as sandbox,
            ):
                for plan in plans:  # the runs find them at once, without waiting for the store
                    PLANS.add(plan)
                yield cls(sandbox, plans, RunTracker.install(sandbox.client), webhooks)

    def plan(self, journey: str) -> Plan:
        for plan in self.plans:
            if plan.journey == journey:
                return plan
        raise KeyError(journey)

    async def run(
        self,
        journey: str,
        stories: Sequence[Story],
        *,
        progress: Progress | None = None,
        customer_ids: Sequence[str] | None = None,
    ) -> list[StoryRun]:
        """Play ``stories`` (each entering ``journey`` by its trigger at day 0) on one clock."""
        plan = self.plan(journey)
        ids = list(customer_ids) if customer_ids else story_customer_ids(self.plans, stories)
        timezone = stories[0].timezone() if stories else "UTC"
        now = await self.sandbox.now()
        start = next_local_time(now + timedelta(minutes=1), START_TIME, timezone)
        await self.sandbox.sleep(start - now)
        runs = [
            StoryRun(
                story=story,
                journey=journey,
                customer_id=cid,
                start=start,
                end=start + timedelta(seconds=story.horizon_seconds()),
                timezone=story.timezone(),
            )
            for story, cid in zip(stories, ids, strict=True)
        ]
        schedule = sorted(
            (
                (moment, index, order, event)
                for index, run in enumerate(runs)
                for order, (moment, event) in enumerate(self._script(run, plan))
            ),
            key=lambda item: (item[0], item[1], item[2]),
        )
        limit = asyncio.Semaphore(CONCURRENCY)
        position = 0
        while position < len(schedule):
            moment = schedule[position][0]
            group = []
            while position < len(schedule) and schedule[position][0] == moment:
                group.append(schedule[position])
                position += 1
            await self._sleep_until(moment)
            by_story: dict[int, list[StoryEvent]] = {}
            for _, index, _, event in group:
                by_story.setdefault(index, []).append(event)
            await asyncio.gather(*(self._send(runs[i], evs, limit, progress) for i, evs in by_story.items()))
        if runs:
            await self._sleep_until(max(run.end for run in runs))
        records = await load_records(self.sandbox.store, [run.customer_id for run in runs])
        for run in runs:
            run.records = records[run.customer_id]
        await asyncio.gather(*(self._collect(run, limit, progress) for run in runs))
        return runs

    def _script(self, run: StoryRun, plan: Plan) -> list[tuple[datetime, StoryEvent]]:
        story = run.story
        script: list[tuple[datetime, StoryEvent]] = []
        if story.trigger is not None:
            script.append((run.start, StoryEvent(at=0, event=plan.trigger.event, properties=story.trigger)))
        for event in story.events:
            moment = resolve(run.start, event.at, run.timezone)
            if moment < run.start:
                raise ValueError(f'story "{story.name}": {event.event} at {event.at} is before the start')
            if moment > run.end:
                raise ValueError(f'story "{story.name}": {event.event} at {event.at} is after the horizon')
            script.append((moment, event))
        script.sort(key=lambda item: item[0])
        return script

    async def _sleep_until(self, moment: datetime) -> None:
        await self.sandbox.sleep_until(moment)

    async def _send(
        self, run: StoryRun, events: list[StoryEvent], limit: asyncio.Semaphore, progress: Progress | None
    ) -> None:
        async with limit:
            for event in events:
                first = not run.events
                traits = {**(run.story.traits() if first else {}), **(event.traits or {})} or None
                at = await self.sandbox.now()
                if event.event == SCHEDULED_EVENT and self.plan(run.journey).trigger.schedule is not None:
                    # A scheduled journey's trigger: the customer enters as at one of its occurrences.
                    entered = await self.sandbox.enter_scheduled(
                        run.journey, run.customer_id, event.properties, traits=traits
                    )
                    result = RouteResult(event_id="", started=[run.journey] if entered else [])
                else:
                    result = await self.sandbox.event(
                        event.event,
                        run.customer_id,
                        event.properties,
                        traits=traits,
                        event_id=uuid.uuid4().hex,
                    )
                run.events.append(
                    SentEvent(
                        at=at,
                        event=event,
                        started=result.started,
                        signalled=result.signalled,
                        skipped=[f"{s.journey}: {s.reason}" for s in result.skipped],
                    )
                )
                if progress is not None:
                    progress(1)

    async def _collect(self, run: StoryRun, limit: asyncio.Semaphore, progress: Progress | None) -> None:
        async with limit:
            ends: dict[str, list[datetime]] = {}
            for end in run.records.ends or []:
                ends.setdefault(end.workflow_id, []).append(end.at)
            for started in self.tracker.by_customer.get(run.customer_id, []):
                record = await self._read_run(started)
                if record.outcome != "running":
                    moments = ends.get(started.workflow_id) or []
                    record.ended = moments.pop(0) if moments else None
                run.runs.append(record)
        if progress is not None:
            progress(1)

    async def _read_run(self, started: StartedRun) -> RunRecord:
        client = self.sandbox.client
        handle = client.get_workflow_handle(
            started.workflow_id, run_id=started.run_id, result_type=JourneyResult
        )
        description = await handle.describe()
        base: dict[str, Any] = {
            "journey": started.journey,
            "trigger": started.trigger.name,
            "started": description.start_time,
            "ended": None,
        }
        if description.status == WorkflowExecutionStatus.RUNNING:
            status = await handle.query("status", result_type=JourneyStatus)
            return RunRecord(
                **base,
                outcome="running",
                reason=f"still at {status.current_step} at the horizon",
                goal_reached=status.goal_reached,
                points=status.points_awarded,
                steps=status.steps,
            )
        try:
            result: JourneyResult = await handle.result()
        except WorkflowFailureError as exc:
            return RunRecord(
                **base, outcome="failed", reason=str(exc.cause), goal_reached=False, points=0, steps=[]
            )
        return RunRecord(
            **base,
            outcome=result.outcome,
            reason=result.reason,
            goal_reached=result.goal_reached,
            points=result.points_awarded,
            steps=result.steps,
        )

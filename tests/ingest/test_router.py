"""The event router on Temporal's time-skipping test server, a worker and the real store: entry rules,
triggers that race each other, and what a sender gets when Temporal answers with an error.

Journeys here are small ones of this module's own, so each rule is seen alone: ``welcome_once``
(``entry: once``, waits for ``finish``), ``every_purchase`` (``entry: always``, holds an hour) and
``daily_visit`` (a one-day cooldown, over at once). Routers measure cooldowns on the test server's
simulated clock, as the ``clock`` parameter allows. Each test has a test server of its own.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    SignalWorkflowInput,
    StartWorkflowInput,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.journey_activities import JourneyActivities
from config.settings import Settings
from contracts.events import CustomerEvent
from contracts.records import StepRecord
from contracts.visibility import workflow_id
from engine.loader import compile_text
from ingest.claims import STALE_CLAIM
from ingest.outages import TemporalUnavailable
from ingest.router import START_ATTEMPTS, EventRouter, RouteResult, Skipped
from simulate.test_server import start_test_server
from store import Store
from store.tables import processed_events
from worker.service import build_worker
from workflows.models import JourneyResult, JourneyStatus

TEMPLATES = Path(__file__).resolve().parents[2] / "journeys" / "templates"

ONCE = compile_text(
    """
journey: welcome_once
stage: acquisition
trigger: {event: signed_up}
entry: once
steps:
  - {id: hold, wait_for: {event: finish, timeout: 30d}}
  - {id: done, exit: finished}
""",
    "welcome_once.yaml",
    TEMPLATES,
)
ALWAYS = compile_text(
    """
journey: every_purchase
stage: retention
trigger: {event: purchase_completed}
entry: always
steps:
  - {id: hold, wait: 1h}
  - {id: done, exit: held}
""",
    "every_purchase.yaml",
    TEMPLATES,
)
COOLDOWN = compile_text(
    """
journey: daily_visit
stage: retention
trigger: {event: visited}
entry: {cooldown: 1d}
steps:
  - {id: done, exit: counted}
""",
    "daily_visit.yaml",
    TEMPLATES,
)
ENTERED_ONCE = "already entered once (entry: once)"
COOLING_DOWN = "cooling down since the last entry"


@pytest_asyncio.fixture(loop_scope="session")
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server of the test's own: no run of another test holds its clock back."""
    env = await start_test_server()
    yield env
    await env.shutdown()


@dataclass
class Journeys:
    """The three journeys deployed, a worker running them, and a router (one API replica)."""

    env: WorkflowEnvironment
    store: Store
    task_queue: str
    router: EventRouter
    replicas: list[EventRouter] = field(default_factory=list)

    def router_on(self, client: Client, task_queue: str | None = None) -> EventRouter:
        """Another router on the same store (another API replica), talking to Temporal via ``client``."""
        queue = self.task_queue if task_queue is None else task_queue
        router = EventRouter(client, self.store, queue, clock=self.env.get_current_time)
        self.replicas.append(router)
        return router

    async def event(self, name: str, customer_id: str, *, timestamp: datetime | None = None) -> CustomerEvent:
        return CustomerEvent(
            event_id=uuid.uuid4().hex,
            customer_id=customer_id,
            name=name,
            timestamp=timestamp or await self.env.get_current_time(),
        )

    async def send(
        self,
        name: str,
        customer_id: str,
        *,
        via: EventRouter | None = None,
        timestamp: datetime | None = None,
    ) -> RouteResult:
        event = await self.event(name, customer_id, timestamp=timestamp)
        return await (via or self.router).route(event)

    def handle(self, journey: str, customer_id: str) -> WorkflowHandle[Any, JourneyResult]:
        return self.env.client.get_workflow_handle(
            workflow_id(journey, customer_id), result_type=JourneyResult
        )

    async def finished(self, journey: str, customer_id: str) -> JourneyResult:
        """Let simulated time run until the customer's run of ``journey`` (and the entries it continued
        as new into) has ended."""
        # Handles this test did not start through the environment do not unlock time skipping alone.
        unlocked: Callable[[], AbstractAsyncContextManager[None]] | None = getattr(
            self.env, "time_skipping_unlocked", None
        )
        assert unlocked is not None, "a time-skipping test server"
        async with unlocked():
            return await self.handle(journey, customer_id).result()

    async def holding(self, journey: str, customer_id: str) -> None:
        """Wait until the worker has done the run's first workflow task (a query is answered after it).

        A run terminated while that task was in progress was seen to keep the test server's simulated
        time from moving on (a later ``finished`` then got no result), so a test ending a run waits.
        """
        status = await self.handle(journey, customer_id).query("status", result_type=JourneyStatus)
        assert status.current_step is not None

    async def entries(self, journey: str, customer_id: str) -> int:
        """How often the customer entered ``journey``, by the store's step records."""
        records = await self.store.steps.for_customer(customer_id, journey)
        return sum(1 for record in records if record.kind == "journey_entered")


@pytest_asyncio.fixture(loop_scope="session")
async def journeys(
    temporal: WorkflowEnvironment, store: Store, settings: Settings
) -> AsyncIterator[Journeys]:
    for plan in (ONCE, ALWAYS, COOLDOWN):
        await store.deployments.deploy(plan, source="")
    task_queue = f"router-{uuid.uuid4().hex[:8]}"
    router = EventRouter(temporal.client, store, task_queue, clock=temporal.get_current_time)
    opened = Journeys(temporal, store, task_queue, router, [router])
    activities = JourneyActivities(store, settings, router)
    try:
        async with build_worker(temporal.client, task_queue, store, activities):
            yield opened
    finally:
        await activities.close()
        for each in opened.replicas:
            await each.close()


async def kept(store: Store, event_id: str) -> bool:
    """Whether the store holds ``event_id`` (claimed or done); a released claim leaves nothing."""
    async with store.engine.connect() as conn:
        rows = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(processed_events)
            .where(processed_events.c.event_id == event_id)
        )
    return bool(rows)


@contextmanager
def port_held(client: Client) -> Iterator[None]:
    """Hold the port of ``client``'s stopped server (bound, never listening): connections to it are
    refused, and no other server on this machine can take the port meanwhile."""
    port = int(client.service_client.config.target_host.rsplit(":", 1)[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("127.0.0.1", port))
        yield


def client_with(interceptor: Interceptor, like: Client) -> Client:
    return Client(
        like.service_client,
        namespace=like.namespace,
        data_converter=like.data_converter,
        interceptors=[interceptor],
    )


class EndsBetweenCalls(Interceptor):
    """Makes the customer's run end between the router's start and its signal, ``times`` times.

    Just before each signal the router sends, the run is really terminated on the server, so the
    signal finds no run, as when a run ends between the two calls. With ``compete``, a run is also
    started just before each of the router's starts, as a concurrent request would have done.
    """

    def __init__(self, ender: Client, times: int, *, compete: bool = False) -> None:
        self.ender = ender
        self.times = times
        self.compete = compete
        self.ended = 0

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _EndsBetweenCalls(next, self)


class _EndsBetweenCalls(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, owner: EndsBetweenCalls) -> None:
        super().__init__(next)
        self.owner = owner

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        if self.owner.compete and self.owner.ended < self.owner.times:
            await self.next.start_workflow(input)  # the other request's start: ours finds it running
        return await self.next.start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        if self.owner.ended < self.owner.times:
            await self.owner.ender.get_workflow_handle(input.id).terminate(reason="ended meanwhile")
            self.owner.ended += 1
        await self.next.signal_workflow(input)


# ----------------------------------------------------------------------------- entry rules


async def test_entry_once_a_repeat_trigger_reaches_the_run_and_after_it_nobody_enters_again(
    journeys: Journeys,
) -> None:
    first = await journeys.send("signed_up", "ada")
    running = await journeys.handle("welcome_once", "ada").describe()
    during = await journeys.send("signed_up", "ada")  # while the first entry waits for "finish"

    assert first.started == ["welcome_once"]
    assert (during.started, during.signalled, during.skipped) == ([], ["welcome_once"], [])
    await journeys.send("finish", "ada")
    assert (await journeys.finished("welcome_once", "ada")).reason == "finished"

    after = await journeys.send("signed_up", "ada")

    assert after.skipped == [Skipped("welcome_once", ENTERED_ONCE)]
    assert (after.started, after.signalled) == ([], [])
    ended = await journeys.handle("welcome_once", "ada").describe()
    assert (ended.run_id, ended.status) == (running.run_id, WorkflowExecutionStatus.COMPLETED)
    assert await journeys.entries("welcome_once", "ada") == 1


async def test_entry_once_holds_after_temporal_has_forgotten_the_run(journeys: Journeys) -> None:
    # The customer entered long ago; Temporal dropped the closed run after its retention period.
    entered = StepRecord(
        journey="welcome_once",
        version=ONCE.version,
        workflow_id=workflow_id("welcome_once", "bob"),
        customer_id="bob",
        step=None,
        kind="journey_entered",
        detail="signed_up",
        at=await journeys.env.get_current_time() - timedelta(days=400),
    )
    await journeys.store.steps.record([entered])

    result = await journeys.send("signed_up", "bob")

    assert result.skipped == [Skipped("welcome_once", ENTERED_ONCE)]
    assert result.started == []
    with pytest.raises(RPCError) as no_run:
        await journeys.handle("welcome_once", "bob").describe()
    assert no_run.value.status == RPCStatusCode.NOT_FOUND


async def test_entry_always_keeps_a_trigger_sent_mid_entry_for_the_next_entry(journeys: Journeys) -> None:
    first = await journeys.send("purchase_completed", "cleo")
    kept = await journeys.send("purchase_completed", "cleo")  # the first entry holds for an hour

    assert first.started == ["every_purchase"]
    assert (kept.started, kept.signalled) == ([], ["every_purchase"])
    await journeys.finished("every_purchase", "cleo")  # the first entry continued as new into the second
    assert await journeys.entries("every_purchase", "cleo") == 2

    later = await journeys.send("purchase_completed", "cleo")  # no run in flight now

    assert later.started == ["every_purchase"]
    await journeys.finished("every_purchase", "cleo")
    assert await journeys.entries("every_purchase", "cleo") == 3


async def test_a_cooldown_counts_from_the_last_entry_on_the_servers_clock(journeys: Journeys) -> None:
    assert (await journeys.send("visited", "dora")).started == ["daily_visit"]
    await journeys.finished("daily_visit", "dora")
    now = await journeys.env.get_current_time()

    soon = await journeys.send("visited", "dora")
    # A sender whose clock runs two days ahead does not get round the cooldown.
    ahead = await journeys.send("visited", "dora", timestamp=now + timedelta(days=2))
    await journeys.env.sleep(timedelta(days=1, minutes=1))
    cooled = await journeys.send("visited", "dora")

    assert (soon.started, soon.skipped) == ([], [Skipped("daily_visit", COOLING_DOWN)])
    assert (ahead.started, ahead.skipped) == ([], [Skipped("daily_visit", COOLING_DOWN)])
    assert (cooled.started, cooled.skipped) == (["daily_visit"], [])
    await journeys.finished("daily_visit", "dora")
    assert await journeys.entries("daily_visit", "dora") == 2


# ----------------------------------------------------------------------------- the start race


async def test_concurrent_triggers_start_one_run_and_the_others_reach_it(journeys: Journeys) -> None:
    replicas = [journeys.router, journeys.router_on(journeys.env.client)]  # two API replicas

    results = await asyncio.gather(
        *(journeys.send("signed_up", "eve", via=replicas[n % 2]) for n in range(6))
    )

    assert sorted(len(r.started) for r in results) == [0, 0, 0, 0, 0, 1]
    assert [r.signalled for r in results if not r.started] == [["welcome_once"]] * 5
    await journeys.send("finish", "eve")
    await journeys.finished("welcome_once", "eve")
    assert await journeys.entries("welcome_once", "eve") == 1


async def test_concurrent_triggers_of_an_always_journey_each_become_an_entry(journeys: Journeys) -> None:
    replicas = [journeys.router, journeys.router_on(journeys.env.client)]

    results = await asyncio.gather(
        *(journeys.send("purchase_completed", "finn", via=replicas[n % 2]) for n in range(4))
    )

    assert sorted(len(r.started) for r in results) == [0, 0, 0, 1]
    assert [r.signalled for r in results if not r.started] == [["every_purchase"]] * 3
    await journeys.finished("every_purchase", "finn")  # each queued trigger, one entry after another
    assert await journeys.entries("every_purchase", "finn") == 4


# ----------------------------------------------------------------------------- Temporal answering errors


async def test_a_run_that_ends_between_the_start_and_the_signal_is_started_again(journeys: Journeys) -> None:
    await journeys.send("purchase_completed", "gus")  # an entry in flight (it holds for an hour)
    await journeys.holding("every_purchase", "gus")
    earlier = await journeys.handle("every_purchase", "gus").describe()
    ends = EndsBetweenCalls(journeys.env.client, times=1)
    router = journeys.router_on(client_with(ends, journeys.env.client))

    result = await journeys.send("purchase_completed", "gus", via=router)

    assert ends.ended == 1  # the router's start found the run; its signal found none
    assert (result.started, result.signalled) == (["every_purchase"], [])
    now = await journeys.handle("every_purchase", "gus").describe()
    assert now.run_id != earlier.run_id
    assert now.status == WorkflowExecutionStatus.RUNNING
    await journeys.finished("every_purchase", "gus")
    assert await journeys.entries("every_purchase", "gus") == 2  # the ended entry and this event's


async def test_runs_that_keep_ending_between_the_calls_leave_the_event_to_the_senders_retry(
    journeys: Journeys,
) -> None:
    ends = EndsBetweenCalls(journeys.env.client, times=START_ATTEMPTS, compete=True)
    router = journeys.router_on(client_with(ends, journeys.env.client))
    event = await journeys.event("purchase_completed", "hal")

    with pytest.raises(TemporalUnavailable, match="could not start or signal every_purchase for hal"):
        await router.route(event)

    assert ends.ended == START_ATTEMPTS  # it tried that often, then gave up
    assert not await kept(journeys.store, event.event_id)  # not acknowledged: the claim was released
    retried = await journeys.router.route(event)
    assert (retried.duplicate, retried.started) == (False, ["every_purchase"])


# About 10 s per run (the SDK's client retries a refused connection): on SQLite only, as test_claims
# covers releases on both backends.
@pytest.mark.parametrize("store_backend", ["sqlite"], indirect=True)
async def test_temporal_gone_fails_starts_and_signals_as_retryable_and_keeps_nothing(
    journeys: Journeys,
) -> None:
    gone = await start_test_server()
    router = journeys.router_on(gone.client)
    await gone.shutdown()  # the client was connected; the server is no more
    trigger = await journeys.event("signed_up", "ivy")
    signal = await journeys.event("finish", "ivy")  # only signals a run in flight

    with port_held(gone.client):
        outcomes = await asyncio.gather(router.route(trigger), router.route(signal), return_exceptions=True)

    assert [type(outcome) for outcome in outcomes] == [TemporalUnavailable, TemporalUnavailable]
    assert [await kept(journeys.store, e.event_id) for e in (trigger, signal)] == [False, False]
    # The sender sends both again once Temporal is back: each is delivered, neither is a duplicate.
    assert (await journeys.router.route(trigger)).started == ["welcome_once"]
    assert (await journeys.router.route(signal)).signalled == ["welcome_once"]
    assert (await journeys.finished("welcome_once", "ivy")).reason == "finished"


async def test_an_error_that_is_not_an_outage_reaches_the_caller_as_it_is(journeys: Journeys) -> None:
    misconfigured = journeys.router_on(journeys.env.client, task_queue="")  # Temporal refuses the start
    event = await journeys.event("signed_up", "jo")

    with pytest.raises(RPCError) as refused:  # not TemporalUnavailable: a retry would not help
        await misconfigured.route(event)

    assert refused.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert not await kept(journeys.store, event.event_id)
    assert (await journeys.router.route(event)).started == ["welcome_once"]


# ----------------------------------------------------------------------------- closing


async def test_closing_the_router_writes_the_completions_still_queued(
    temporal: WorkflowEnvironment, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'journeys.db'}"
    store = Store(url)
    await store.migrate()
    router = EventRouter(temporal.client, store, "unused")  # nothing is deployed: no Temporal call
    event = CustomerEvent(event_id="viewed-1", customer_id="kim", name="page_viewed")
    try:
        assert (await router.route(event)).duplicate is False  # answered before its completion is written
        await router.close()
    finally:
        await store.close()

    reopened = Store(url)
    try:
        repeat = [(event.event_id, event.customer_id, event.name, None)]
        assert await reopened.events.claim(repeat, stale_after=STALE_CLAIM) == {event.event_id: "done"}
    finally:
        await reopened.close()

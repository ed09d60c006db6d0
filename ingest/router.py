"""The event router: delivers each customer event to the journeys that care, in a few Temporal calls.

At deploy time an index maps each event name to the journeys whose trigger, ``wait_for``,
``exit_on`` or goal names it. For an event, the router signal-with-starts the deterministic
workflow id of that customer's run for journeys it triggers, and signals the run for the rest.
An event id is claimed (pending) before delivery, with its customer's traits in the same write,
completed (done) after, and released if delivery fails: a sender that saw an error retries and
nothing is lost; a repeat of a done ``event_id`` changes nothing; a repeat of a pending one is told
to retry, since the first attempt may still fail.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.schedules import replan
from contracts.customers import CustomerSnapshot
from contracts.events import CustomerEvent
from contracts.plans import PlanRef
from contracts.visibility import CUSTOMER_ID, JOURNEY_NAME, JOURNEY_VERSION, workflow_id
from engine import expressions
from engine.plan import Plan
from ingest.claims import EventClaims
from ingest.loyalty_routing import LoyaltyRouting
from ingest.outages import TemporalUnavailable, is_outage, unavailable_or
from store.database import Store
from store.segments import SegmentHook, SegmentMembership
from workflows.journey import JourneyWorkflow
from workflows.models import JourneyInput

log = logging.getLogger("journeys.router")

# A backend reporting this event withdraws the customer's consent to marketing email.
UNSUBSCRIBE_EVENT = "unsubscribed"
START_ATTEMPTS = 3
# A sender waiting on a Temporal outage gets its 503 (and retries) after this, not after the SDK's retries.
RPC_TIMEOUT = timedelta(seconds=5)
SEGMENT_ENTERED = "segment_entered"
# A scheduler is told of new members in its segment at most this often (a sweep enters thousands).
NUDGE_SECONDS = 60.0


class EventInFlight(Exception):
    """Another attempt holds the claim on this event id; ``retry_after`` says in how many seconds a
    retry can succeed (see ``EventClaims.retry_after``)."""

    def __init__(self, event_id: str, retry_after: int = 1) -> None:
        super().__init__(f"event {event_id} is being delivered by another request; retry in {retry_after} s")
        self.event_id = event_id
        self.retry_after = retry_after


class EventIdReused(Exception):
    """This event's id was claimed before by another event (another customer's, or of another name):
    a sender's bug. Nothing was claimed or changed; a retry of it fails the same way."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event id {event_id!r} was used before by another event")
        self.event_id = event_id


@dataclass
class Skipped:
    journey: str
    reason: str


@dataclass
class RouteResult:
    event_id: str
    duplicate: bool = False
    started: list[str] = field(default_factory=list)
    signalled: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class Listener:
    plan: Plan
    triggers: bool  # the event starts this journey (else it only signals a run in flight)


def build_index(plans: list[Plan]) -> dict[str, list[Listener]]:
    """Event name -> the journeys that start on it or listen for it, in deployment order. A
    scheduled journey's trigger is no event a backend can send: its scheduler enters its customers
    (``enter_scheduled``)."""
    index: dict[str, list[Listener]] = {}
    for plan in plans:
        scheduled = plan.trigger.schedule is not None
        for name in plan.events() if not scheduled else plan.signalled_events():
            index.setdefault(name, []).append(Listener(plan, triggers=name == plan.trigger.event))
    return index


class EventRouter:
    """Routes events to journeys; also the ``EventSink`` through which activities emit events."""

    def __init__(
        self,
        client: Client,
        store: Store,
        task_queue: str,
        refresh_seconds: float = 5.0,
        clock: Callable[[], Awaitable[datetime]] | None = None,
    ) -> None:
        """``clock`` is the server's time that cooldowns are measured on (never a sender's timestamp):
        the wall clock by default; a sandbox can pass its Temporal test server's simulated time."""
        self._clock = clock or _wall_clock
        self._client = client
        self._store = store
        self._task_queue = task_queue
        self._refresh_seconds = refresh_seconds
        self._index: dict[str, list[Listener]] = {}
        self._paused: set[str] = set()
        self._plans: dict[str, Plan] = {}
        self._schedules: dict[str, tuple[str, bool]] = {}  # scheduled journey -> (version, paused) told
        self._nudged: dict[str, float] = {}  # scheduled journey -> when its scheduler was last nudged
        self._loaded_at = float("-inf")
        self._claims = EventClaims(store)
        self.loyalty = LoyaltyRouting(client, store, task_queue)  # the customer's loyalty run
        self.segments = SegmentHook(SegmentMembership(store.engine))  # segment_entered / _exited

    async def reload(self) -> None:
        """Rebuild the index from the deployed journeys (called on deploy, and every few seconds).

        Paused journeys stay in the index: they start nobody, but their customers in flight still
        receive exit, goal and wait_for events.
        """
        deployments = self._store.deployments
        plans = [plan for name in await deployments.names() if (plan := await deployments.current(name))]
        self._index = build_index(plans)
        self._paused = {plan.journey for plan in plans if await deployments.is_paused(plan.journey)}
        self._plans = {plan.journey: plan for plan in plans}
        self._loaded_at = time.monotonic()
        self.loyalty.forget()  # the loyalty program too, on the next event
        await self._replan_schedules(plans)

    async def _replan_schedules(self, plans: list[Plan]) -> None:
        """Start the scheduler of each scheduled journey, and tell it when its deployment changed
        (a new version, paused or resumed, undeployed or no longer scheduled); once per change and
        process. One that cannot be told now (Temporal unavailable) is told at the next reload."""
        now = {
            plan.journey: (plan.version, plan.journey in self._paused)
            for plan in plans
            if plan.trigger.schedule is not None
        }
        for journey in sorted(set(now) | set(self._schedules)):
            state = now.get(journey)
            if state is not None and self._schedules.get(journey) == state:
                continue
            try:
                await replan(self._client, self._task_queue, journey, start=state is not None)
            except (RPCError, RuntimeError) as exc:  # Temporal refused or unreachable: never the event's
                if not isinstance(exc, RPCError) and not is_outage(exc):
                    raise
                log.warning("journey %s: its scheduler could not be told of the change: %s", journey, exc)
                continue
            if state is None:
                self._schedules.pop(journey, None)
            else:
                self._schedules[journey] = state

    async def close(self) -> None:
        """Write what is still queued (event completions are written after ``route`` answers).

        Call it once nothing routes any more (the worker has stopped) and before closing the store.
        """
        await self._claims.drain()

    async def emit(self, event: CustomerEvent) -> None:
        try:
            await self.route(event)
        except EventIdReused:  # the engine's own event: its id was taken by a sender's event
            log.warning(
                "event %s (%s) not delivered: its id was used before by another event",
                event.event_id,
                event.name,
            )

    async def route(self, event: CustomerEvent) -> RouteResult:
        if time.monotonic() - self._loaded_at > self._refresh_seconds:
            await self.reload()
        result = RouteResult(event_id=event.event_id)
        listeners = self._index.get(event.name, [])
        # Claim the event id first, with the customer's traits and (for a start) the snapshot the run
        # carries: one atomic write, grouped with concurrent events' claims, committed before any
        # Temporal call. Claiming and releasing survive cancellation: a claim taken is given back on
        # every path but success.
        claimed = await self._claims.take(event, customer=any(each.triggers for each in listeners))
        if claimed.state == "done":
            result.duplicate = True
            return result
        if claimed.state == "reused":
            raise EventIdReused(event.event_id)
        if claimed.state == "pending":
            raise EventInFlight(event.event_id, await self._claims.retry_after(event.event_id))
        try:
            await self._deliver(event, result, listeners, claimed.customer)
        except BaseException:
            await self._claims.release(event.event_id)  # not acknowledged: the retry runs it
            raise
        self._claims.complete_soon(event.event_id)  # queued before we answer; written with the next batch
        return result

    async def enter_scheduled(self, journey: str, event: CustomerEvent) -> bool:
        """Enter ``event``'s customer in the scheduled ``journey`` (its scheduler's occurrence), as a
        trigger event would: claimed once by its id, then the audience, re-entry rules and pause of
        the current version apply. Whether a run started (a run in flight is given the trigger, and
        re-enters after it as ``entry`` allows)."""
        if time.monotonic() - self._loaded_at > self._refresh_seconds:
            await self.reload()
        plan = self._plans.get(journey)
        if plan is None or plan.trigger.schedule is None:
            return False  # undeployed, or no longer scheduled: its scheduler ends at its next look
        result = RouteResult(event_id=event.event_id)
        claimed = await self._claims.take(event, customer=True)
        if claimed.state == "reused":
            log.warning(
                "journey %s: occurrence %s not entered: its id was used before by another event",
                journey,
                event.event_id,
            )
        if claimed.state in ("done", "reused"):
            return False
        if claimed.state == "pending":
            raise EventInFlight(event.event_id, await self._claims.retry_after(event.event_id))
        try:
            await self._start(
                plan, event, result, _Customer(self._store, event.customer_id, claimed.customer)
            )
        except BaseException:
            await self._claims.release(event.event_id)
            raise
        self._claims.complete_soon(event.event_id)
        return bool(result.started)

    async def _deliver(
        self,
        event: CustomerEvent,
        result: RouteResult,
        listeners: list[Listener],
        known: CustomerSnapshot | None,
    ) -> None:
        """Deliver a claimed event whose traits are written; ``known`` is the customer read with them."""
        customer = _Customer(self._store, event.customer_id, known)
        if event.name == UNSUBSCRIBE_EVENT:
            await self._store.customers.unsubscribe(event.customer_id, event.timestamp)
            customer.known = None  # changed: read again when needed
        for listener in listeners:
            if listener.triggers:
                await self._start(listener.plan, event, result, customer)
            else:
                await self._signal(listener.plan, event, result)
        await self.loyalty.deliver(event)
        if event.name == SEGMENT_ENTERED:
            await self._nudge_schedulers(str(event.properties.get("segment", "")))
        await self.segments.after(event, await self._clock(), self.emit)  # their segments changed?

    async def _nudge_schedulers(self, segment: str) -> None:
        """Tell the schedulers of journeys scheduled on ``segment`` that it has a new member (maybe
        in a time zone they have not seen), at most once per ``NUDGE_SECONDS`` each."""
        for plan in self._plans.values():
            schedule = plan.trigger.schedule
            if schedule is None or schedule.segment != segment or plan.journey in self._paused:
                continue
            now = time.monotonic()
            if now - self._nudged.get(plan.journey, float("-inf")) < NUDGE_SECONDS:
                continue
            self._nudged[plan.journey] = now
            try:
                await replan(self._client, self._task_queue, plan.journey, start=False)
            except (RPCError, RuntimeError) as exc:  # the scheduler looks again within its recheck anyway
                if not isinstance(exc, RPCError) and not is_outage(exc):
                    raise
                log.warning(
                    "journey %s: its scheduler could not be told of a new member: %s", plan.journey, exc
                )

    async def _start(
        self, plan: Plan, event: CustomerEvent, result: RouteResult, customer: _Customer
    ) -> None:
        if plan.journey in self._paused:
            result.skipped.append(Skipped(plan.journey, "journey is paused"))
            await self._signal(plan, event, result, quiet=True)
            return
        if plan.trigger.where is not None:
            context = {"customer": (await customer.snapshot()).as_context(), "event": event.as_context()}
            reason = "not in the audience"
            try:
                in_audience = expressions.evaluate(plan.trigger.where, context)
            except Exception as error:  # noqa: BLE001 - a condition that fails is false; the event goes on
                in_audience = False
                reason += f": condition failed ({type(error).__name__}: {str(error)[:200]})"
                log.warning(
                    "journey %s: trigger condition failed for %s: %s", plan.journey, event.event_id, error
                )
            if not in_audience:
                result.skipped.append(Skipped(plan.journey, reason))
                await self._signal(plan, event, result, quiet=True)
                return
        policy = WorkflowIDReusePolicy.ALLOW_DUPLICATE
        if plan.entry.mode == "once":
            policy = WorkflowIDReusePolicy.REJECT_DUPLICATE
            # Temporal forgets closed runs after its retention period; the store does not.
            if await self._store.steps.last_entry(plan.journey, event.customer_id) is not None:
                if not await self._signal(plan, event, result):
                    result.skipped.append(Skipped(plan.journey, "already entered once (entry: once)"))
                return
        elif plan.entry.mode == "cooldown":
            last = await self._store.steps.last_entry(plan.journey, event.customer_id)
            if last is not None:
                if await self._clock() - last < timedelta(seconds=plan.entry.cooldown_seconds):
                    result.skipped.append(Skipped(plan.journey, "cooling down since the last entry"))
                    await self._signal(plan, event, result, quiet=True)
                    return
        # The run names its plan; the worker reads it by version (history keeps no copy per customer).
        entry = JourneyInput(
            plan_ref=PlanRef(journey=plan.journey, version=plan.version),
            customer_id=event.customer_id,
            trigger=event,
            customer=await customer.snapshot(),
            store_steps_local=True,
        )
        for _ in range(START_ATTEMPTS):
            try:
                await self._client.start_workflow(
                    JourneyWorkflow.run,
                    entry,
                    id=workflow_id(plan.journey, event.customer_id),
                    task_queue=self._task_queue,
                    id_reuse_policy=policy,
                    rpc_timeout=RPC_TIMEOUT,
                    search_attributes=TypedSearchAttributes(
                        [
                            SearchAttributePair(CUSTOMER_ID, event.customer_id),
                            SearchAttributePair(JOURNEY_NAME, plan.journey),
                            SearchAttributePair(JOURNEY_VERSION, plan.version),
                        ]
                    ),
                )
            except WorkflowAlreadyStartedError:
                # A run is in flight (it gets the event), or a closed one forbids re-entry.
                if await self._signal(plan, event, result):
                    return
                if plan.entry.mode == "once":
                    result.skipped.append(Skipped(plan.journey, "already entered once (entry: once)"))
                    return
                continue  # the run ended between our two calls: start again
            except RPCError as exc:
                raise unavailable_or(exc) from exc
            result.started.append(plan.journey)
            return
        raise TemporalUnavailable(f"could not start or signal {plan.journey} for {event.customer_id}")

    async def _signal(
        self, plan: Plan, event: CustomerEvent, result: RouteResult, *, quiet: bool = False
    ) -> bool:
        """Signal the customer's run of ``plan`` if one is in flight; say whether one was."""
        if quiet and event.name not in plan.signalled_events():
            return False
        handle = self._client.get_workflow_handle(workflow_id(plan.journey, event.customer_id))
        try:
            await handle.signal("event", event, rpc_timeout=RPC_TIMEOUT)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False  # the customer is not in this journey now: nothing to deliver
            raise unavailable_or(exc) from exc
        result.signalled.append(plan.journey)
        return True


async def _wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Customer:
    """The customer of the event being routed, read from the store at most once."""

    store: Store
    customer_id: str
    known: CustomerSnapshot | None = None

    async def snapshot(self) -> CustomerSnapshot:
        if self.known is None:
            self.known = await self.store.customers.snapshot(self.customer_id)
        return self.known

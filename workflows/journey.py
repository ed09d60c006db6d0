"""``JourneyWorkflow``: walks a compiled plan for one customer, durably, for as long as it takes.

Events arrive as the ``event`` signal. ``exit_on`` events end the run wherever it is, even mid-wait;
a goal event inside its window records a conversion. Side effects happen only in activities, each
with an idempotency key ``{workflow_id}/{entry_id}/{step}/{visit}``.

Changing what this workflow does changes what replay expects of runs already in flight. Every such
change is guarded by a Temporal patch whose id comes from ``workflows.patches``, never a string
literal here: add a ``Patch`` to ``LIVE_PATCHES`` there, then branch on it here::

    from workflows.patches import SOME_CHANGE   # SOME_CHANGE = Patch(id="some-change", ...)

    if workflow.patched(SOME_CHANGE.id):
        ...  # the new behaviour
    else:
        ...  # the old behaviour, exactly as it ran

``tests/workflows/test_patches.py`` rejects a ``workflow.patched``/``workflow.deprecate_patch`` call
whose id is not registered; ``docs/patches.md`` walks a patch from added to deprecated to removed.
Live patches: ``STORE_STEPS_LOCAL`` (store-only steps as local activities written at the next
wait or send, one search attribute update per workflow task).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal, assert_never

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from contracts.activities import (
        AwardRequest,
        AwardResult,
        DeliveryResult,
        SendEmailRequest,
        SendWebhookRequest,
        SetStageRequest,
        StageResult,
        StepMark,
    )
    from contracts.customers import CustomerSnapshot
    from contracts.events import CustomerEvent
    from contracts.ids import derived_id
    from contracts.plans import PlanRef
    from contracts.records import RecordKind, StepRecord
    from contracts.visibility import JOURNEY_STEP, LIFECYCLE_STAGE
    from engine import expressions
    from engine.plan import (
        AwardNode,
        BranchNode,
        ExitNode,
        Node,
        Plan,
        SendEmailNode,
        SendWebhookNode,
        SetStageNode,
        SplitNode,
        WaitForNode,
        WaitNode,
    )
    from workflows.models import JourneyInput, JourneyResult, JourneyStatus, RunState, StepTaken
    from workflows.patches import STORE_STEPS_LOCAL
    from workflows.plans import PLANS
    from workflows.store_steps import StoreStep
    from workflows.timing import next_local_time, pick_variant


STORE_TIMEOUT = timedelta(seconds=30)
SEND_TIMEOUT = timedelta(seconds=60)
# Transient failures (SMTP down) retry for as long as it takes; permanent ones fail at once.
# Capped at a minute so that mail flows again within about a minute of the SMTP server coming back.
SEND_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1))
STORE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
PAUSE_RECHECK = timedelta(minutes=15)
QUIET_RECHECK = timedelta(minutes=1)  # the shortest quiet-hours hold
KEEP_STEPS = 200
KEY_LENGTH = 500  # the idempotency key columns (deliveries, points ledger, send intents)
KEEP_EVENTS = 100


class _Leave(Exception):
    """Raised inside the run to end the journey now (exit event, exit step, goal with exit)."""

    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


@workflow.defn(name="JourneyWorkflow")
class JourneyWorkflow:
    @workflow.init
    def __init__(self, inp: JourneyInput) -> None:
        # The plan the input names, from this worker's plans (replay-safe: see workflows.plans), or
        # the whole plan a run started before plans went by reference carries.
        self._plan: Plan = inp.plan if inp.plan is not None else PLANS.resolve(inp.ref())
        self._plan_inline = inp.plan is not None
        self._history_budget = inp.history_budget
        self._customer_id = inp.customer_id
        self._trigger = inp.trigger
        self._state: RunState = inp.state or RunState(
            entry_id="",
            entered_at=workflow.now(),
            current=self._plan.start,
            seen_event_ids=[*inp.carried_event_ids, inp.trigger.event_id],
            pending=list(inp.carried_events),
            data={inp.trigger.name: inp.trigger.properties},
        )
        self._exit_event: CustomerEvent | None = None
        self._goal_event: CustomerEvent | None = None
        self._customer: CustomerSnapshot | None = None
        self._records: list[StepRecord] = []
        self._in_step = False
        self._condition_failure: str | None = None  # why a condition last counted as false by failing
        # STORE_STEPS_LOCAL (decided as the run starts): store-only steps wait here for the next
        # write, and the search attributes to show for the next update.
        self._store_steps_local = False
        self._store_steps: list[StoreStep] = []
        self._to_show: dict[str, SearchAttributeUpdate[Any]] = {}

    # ----------------------------------------------------------------- signals and queries

    @workflow.signal(name="event")
    def on_event(self, event: CustomerEvent) -> None:
        if event.event_id in self._state.seen_event_ids:
            return
        self._state.seen_event_ids = [*self._state.seen_event_ids[-(KEEP_EVENTS * 5) :], event.event_id]
        if event.name in self._plan.exit_on and self._exit_event is None:
            self._exit_event = event
        goal = self._plan.goal
        if goal is not None and event.name == goal.event and not self._state.goal_reached:
            window_end = self._state.entered_at + timedelta(seconds=goal.within_seconds)
            if workflow.now() <= window_end and self._goal_event is None:
                self._goal_event = event
        self._state.pending = [*self._state.pending[-(KEEP_EVENTS - 1) :], event]

    @workflow.query(name="status")
    def status(self) -> JourneyStatus:
        return JourneyStatus(
            journey=self._plan.journey,
            version=self._plan.version,
            customer_id=self._customer_id,
            current_step=self._state.current,
            steps=self._state.taken,
            points_awarded=self._state.points_awarded,
            goal_reached=self._state.goal_reached,
        )

    # ----------------------------------------------------------------- the run

    @workflow.run
    async def run(self, inp: JourneyInput) -> JourneyResult:
        # A run whose starter chose the new commands needs no patch marker. Runs started before
        # that ask the patch: those started before it too replay without its marker and keep the
        # old commands.
        self._store_steps_local = inp.store_steps_local or workflow.patched(STORE_STEPS_LOCAL.id)
        first_run = not self._state.entry_id
        if first_run:
            # An entry is named by the event that caused it: a retried or reset start of the same
            # entry reuses its idempotency keys, a re-entry on a new trigger gets fresh ones.
            self._state.entry_id = self._trigger.event_id
            self._record(None, "journey_entered", self._trigger.name)
        outcome, reason = "completed", "end of journey"
        try:
            # The router read the customer as it started this entry; a run without one loads it.
            if first_run and inp.customer is not None:
                self._customer = inp.customer
            else:
                await self._refresh_customer()
            while self._state.current is not None:
                await self._interrupts()
                if self._should_continue_as_new():
                    await self._continue_as_new()
                node = self._plan.node(self._state.current)
                self._enter(node)
                self._in_step = True
                following = await self._execute(node)
                self._complete(node, following)
                self._in_step = False
                self._state.current = following
            await self._interrupts()
        except _Leave as leave:
            outcome, reason = leave.outcome, leave.reason
            if self._in_step and self._state.current is not None:  # left mid-step: no longer waiting there
                self._record(self._state.current, "completed", f"left: {reason}")
        self._record(self._state.current, "journey_exited", f"{outcome}: {reason}")
        await self._flush()
        await self._reenter_if_triggered_meanwhile()
        return JourneyResult(
            outcome=outcome,
            reason=reason,
            points_awarded=self._state.points_awarded,
            goal_reached=self._state.goal_reached,
            steps=self._state.taken,
        )

    async def _continue_as_new(self) -> None:
        """Carry the run's state into a fresh history; exits and goals that arrive meanwhile count."""
        while True:
            await self._flush()
            await workflow.wait_condition(workflow.all_handlers_finished)
            if self._exit_event is None and self._goal_event is None:
                break
            await self._interrupts()  # no await between this check and continue_as_new below
        workflow.continue_as_new(
            JourneyInput(
                **self._same_plan(),
                customer_id=self._customer_id,
                trigger=self._trigger,
                state=self._state,
                history_budget=self._history_budget,
                store_steps_local=True,
            )
        )

    async def _reenter_if_triggered_meanwhile(self) -> None:
        """Triggers that arrived during this entry (entry: always / cooldown) start the next one.

        One workflow id per customer and journey keeps events addressable; entries queue up in it.
        """
        if self._plan.entry.mode == "once" or self._exit_event is not None:
            return
        cooled_down = workflow.now() - self._state.entered_at >= timedelta(
            seconds=self._plan.entry.cooldown_seconds
        )
        triggers = [e for e in self._state.pending if e.name == self._plan.trigger.event]
        if not triggers or not cooled_down:
            return
        trigger = triggers[0]
        # Only what came after the trigger carries over: older events belonged to this entry.
        later = self._state.pending[self._state.pending.index(trigger) + 1 :]
        # A new entry gets the newest version of the journey. (Histories recorded before plans went
        # by reference hold the whole plan as this answer: read as a PlanRef, it names that plan.)
        plan: PlanRef | None = await workflow.execute_local_activity(
            "current_plan",
            self._plan.journey,
            result_type=PlanRef,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary="current version",
        )
        if plan is None:
            return  # the journey is no longer deployed: nobody enters it again
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            JourneyInput(
                plan_ref=plan,
                customer_id=self._customer_id,
                trigger=trigger,
                history_budget=self._history_budget,
                carried_events=later,
                carried_event_ids=self._state.seen_event_ids,
                store_steps_local=True,
            )
        )

    def _same_plan(self) -> dict[str, Any]:
        """The plan as this run received it, for its next run: named, or whole as it came."""
        if self._plan_inline:
            return {"plan": self._plan}
        return {"plan_ref": PlanRef(journey=self._plan.journey, version=self._plan.version)}

    async def _execute(self, node: Node) -> str | None:
        """Run one step; returns the next step's id. A node kind added to ``engine.plan.Node`` but
        not handled here is a mypy error (``assert_never``), not a journey that silently moves on."""
        match node:
            case SendEmailNode():
                await self._send_email(node)
            case SendWebhookNode():
                await self._send_webhook(node)
            case WaitNode():
                await self._wait(node)
            case WaitForNode():
                return await self._wait_for(node)
            case BranchNode():
                return await self._branch(node)
            case SplitNode():
                return self._split(node)
            case AwardNode():
                await self._award(node)
            case SetStageNode():
                await self._set_stage(node.id, node.stage)
            case ExitNode():
                self._state.current = node.id
                raise _Leave("exited", node.reason)
            case _:
                assert_never(node)
        return node.next

    # ----------------------------------------------------------------- steps

    async def _hold_while_paused(self, step: str) -> None:
        """A paused journey lets no message out: hold here, re-checking now and then."""
        await self._flush()
        held = False
        while await workflow.execute_local_activity(
            "journey_paused",
            self._plan.journey,
            result_type=bool,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary="is the journey paused?",
        ):
            if not held:
                self._note(step, "holding: journey paused")
                held = True
            await self._sleep_until(workflow.now() + PAUSE_RECHECK, lambda: False)
            if self._should_continue_as_new():  # a long pause must not outgrow the history
                self._state.visits[step] -= 1  # the step starts over in the new run, same keys
                self._state.resuming = True
                await self._continue_as_new()
        await self._interrupts()  # an exit that arrived meanwhile stops the send

    async def _send_email(self, node: SendEmailNode) -> None:
        def request(context: dict[str, Any]) -> SendEmailRequest:
            return SendEmailRequest(
                **context,
                hold_if_paused=True,
                message_class=node.message_class,
                quiet_hours=node.quiet_hours,
                template=node.template,  # the activity reads the plan's templates by version
                event=self._trigger.as_context(),
                data=self._state.data,
            )

        result = await self._send(node.id, "send_email", request, summary=f"send email {node.template}")
        self._note(node.id, _delivery_outcome(result))

    async def _send_webhook(self, node: SendWebhookNode) -> None:
        def request(context: dict[str, Any]) -> SendWebhookRequest:
            return SendWebhookRequest(
                **context,
                hold_if_paused=True,
                message_class=node.message_class,
                quiet_hours=node.quiet_hours,
                message_type=node.message_type,
                payload=node.payload,
                event=self._trigger.as_context(),
                data=self._state.data,
            )

        result = await self._send(
            node.id, "send_webhook", request, summary=f"send webhook {node.message_type}"
        )
        self._note(node.id, _delivery_outcome(result))

    async def _send(
        self, step: str, activity: str, request: Callable[[dict[str, Any]], Any], summary: str
    ) -> DeliveryResult:
        """Send, holding while the journey is paused or the channel's quiet hours last: the send
        activity checks both itself (answering "held" or "quiet") and writes the step records
        gathered so far in its transaction."""
        held: str | None = None  # why the send waited for quiet hours to end, told to the next attempt
        while True:
            await self._interrupts()  # an exit that arrived meanwhile stops the send
            if self._store_steps_local:  # the send reads the store: what the steps before it wrote
                await self._write_store_steps()
                self._show_now()
            sending = request(self._carry(self._context(step)))
            if held is not None:
                sending = sending.model_copy(update={"held": held})
            result = await self._deliver(activity, sending, summary)
            if result.status == "quiet" and result.until is not None:
                # Quiet hours (channels.yaml): a durable timer until they end, then the same send
                # again, same key. Only runs that meet quiet hours take these commands.
                held = f"held: {result.reason} until {result.until.isoformat()}"
                self._note(step, f"holding: {result.reason} until {result.until.isoformat()}")
                # Never sooner than a minute: an end already past (a clock's odd hour) must not
                # make the run ask again in a tight loop.
                await self._sleep_until(max(result.until, workflow.now() + QUIET_RECHECK), lambda: False)
                continue
            if result.status != "held":
                return result
            # Paused: wait it out with the light check (a small local activity every 15 minutes,
            # not the whole send request), then send again with the same key.
            await self._hold_while_paused(step)

    async def _deliver(self, activity: str, request: Any, summary: str) -> DeliveryResult:
        """Send through ``activity``; a permanent failure (address rejected, template broken) is
        recorded on the step and the journey goes on, so one bad message does not end the journey."""
        try:
            result: DeliveryResult = await workflow.execute_activity(
                activity,
                request,
                result_type=DeliveryResult,
                start_to_close_timeout=SEND_TIMEOUT,
                retry_policy=SEND_RETRY,
                summary=summary,
            )
        except ActivityError as error:
            self._records = [*request.step_records(), *self._records]  # not written: kept for the next write
            cause = error.cause.message if isinstance(error.cause, FailureError) else str(error)
            channel: Literal["email", "webhook"] = "email" if activity == "send_email" else "webhook"
            return DeliveryResult(status="failed", channel=channel, reason=cause)
        return result

    async def _award(self, node: AwardNode) -> None:
        await self._interrupts()
        points = node.points
        if node.points_expression is not None:  # journeys of before had none: their commands as they were
            await self._refresh_customer()
            points = self._points(node.points_expression)
            if points == 0 and node.badge is None:
                self._note(node.id, f"skipped: {node.points_expression} gives no points")
                return

        def request(context: dict[str, Any]) -> AwardRequest:
            return AwardRequest(**context, points=points, reason=node.reason, badge=node.badge, to=node.to)

        if self._store_steps_local:

            def awarded(result: AwardResult) -> None:
                self._awarded(node, result)

            queued = StoreStep("award", request(self._context(node.id)), AwardResult, awarded)
            self._store_steps.append(queued)
            return
        result = await workflow.execute_activity(
            "award",
            request(self._carry(self._context(node.id))),
            result_type=AwardResult,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=f"award {points} points" + (f" and badge {node.badge}" if node.badge else ""),
        )
        self._awarded(node, result)

    def _awarded(self, node: AwardNode, result: AwardResult) -> None:
        if result.skipped is not None:
            self._note(node.id, f"skipped: {result.skipped}")
            return
        self._state.points_awarded += result.points
        to = f" to {node.to} {result.recipient}" if result.recipient is not None else ""
        detail = f"+{result.points} points{to}, balance {result.balance}"
        if node.badge:
            detail += f", badge {node.badge}"
        if result.tier != result.previous_tier:
            detail += f", tier {result.previous_tier or 'none'} -> {result.tier}"
        self._note(node.id, detail)

    async def _set_stage(self, step: str, stage: str, *, prefix: str = "") -> None:
        def staged(result: StageResult) -> None:
            self._note(step, f"{prefix}stage {result.previous} -> {result.stage}")

        if self._store_steps_local:
            request = SetStageRequest(**self._context(step), stage=stage)
            self._store_steps.append(StoreStep("set_stage", request, StageResult, staged))
            self._show(LIFECYCLE_STAGE.value_set(stage))
            if self._customer is not None:  # conditions until the write see it already, as it will be
                self._customer = self._customer.model_copy(update={"stage": stage})
            return
        result = await workflow.execute_activity(
            "set_stage",
            SetStageRequest(
                **self._carry(self._context(step)),
                stage=stage,
            ),
            result_type=StageResult,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=f"set stage {stage}",
        )
        workflow.upsert_search_attributes([LIFECYCLE_STAGE.value_set(stage)])
        if self._customer is not None:
            self._customer = self._customer.model_copy(update={"stage": stage})
        staged(result)

    async def _wait(self, node: WaitNode) -> None:
        until = workflow.now() + timedelta(seconds=node.seconds)
        if node.until is not None:
            timezone = self._customer.timezone if self._customer else "UTC"
            until = next_local_time(until, node.until, timezone)
        await self._sleep_until(until, lambda: False)
        self._note(node.id, f"waited until {until.isoformat(timespec='minutes')}")

    async def _wait_for(self, node: WaitForNode) -> str | None:
        deadline = workflow.now() + timedelta(seconds=node.timeout_seconds)

        def first_match() -> CustomerEvent | None:
            for event in self._state.pending:
                if event.name == node.event and self._matches(node.where, event):
                    return event
            return None

        if await self._sleep_until(deadline, lambda: first_match() is not None):
            event = first_match()
            assert event is not None
            self._state.pending = [e for e in self._state.pending if e is not event]
            self._state.data[event.name] = event.properties
            self._note(node.id, self._with_condition_failure(f"{node.event} arrived"))
            return node.on_event
        self._note(node.id, self._with_condition_failure("timed out"))
        return node.on_timeout

    async def _branch(self, node: BranchNode) -> str | None:
        await self._refresh_customer()
        for case in node.cases:
            if self._matches(case.when, self._trigger):
                self._note(node.id, self._with_condition_failure(f"{case.when} -> {case.next}"))
                return case.next
        self._note(node.id, self._with_condition_failure(f"no case matched -> {node.otherwise or 'end'}"))
        return node.otherwise

    def _split(self, node: SplitNode) -> str | None:
        weights = [v.weight for v in node.variants]
        index = pick_variant(self._plan.journey, node.id, self._customer_id, weights, node.control_percent)
        if index < 0:
            self._note(node.id, "control group")
            raise _Leave("control", f"control group of {node.id}")
        variant = node.variants[index]
        self._state.data.setdefault("variants", {})[node.id] = variant.name
        self._note(node.id, f"variant {variant.name}")
        return variant.next

    # ----------------------------------------------------------------- waiting, exits and goals

    async def _sleep_until(self, until: datetime, ready: Callable[[], bool]) -> bool:
        """Wait until ``ready()`` or ``until``; exit events and goals are handled meanwhile."""
        await self._flush()
        while True:
            await self._interrupts()
            if ready():
                return True
            remaining = (until - workflow.now()).total_seconds()
            if remaining <= 0:
                return False
            try:
                await workflow.wait_condition(
                    lambda: ready() or self._exit_event is not None or self._goal_event is not None,
                    timeout=timedelta(seconds=remaining),
                )
            except TimeoutError:
                await self._interrupts()
                return ready()

    async def _interrupts(self) -> None:
        if self._exit_event is not None:
            raise _Leave("exited", f"{self._exit_event.name} received")
        if self._goal_event is not None:
            event, self._goal_event = self._goal_event, None
            await self._reach_goal(event)

    async def _reach_goal(self, event: CustomerEvent) -> None:
        goal = self._plan.goal
        if goal is None or self._state.goal_reached:
            return
        if goal.where is not None:
            await self._refresh_customer()
            if not self._matches(goal.where, event):
                if self._condition_failure is not None:
                    self._note("goal", self._with_condition_failure(f"goal {goal.event} not reached"))
                return
        self._state.goal_reached = True
        self._state.data[event.name] = event.properties
        self._record(self._state.current, "converted", event.name)
        self._note("goal", f"goal {goal.event} reached")
        if goal.stage is not None:
            await self._set_stage("goal", goal.stage, prefix=f"goal {goal.event} reached; ")
        if goal.exit:
            raise _Leave("goal", f"goal {goal.event} reached")

    # ----------------------------------------------------------------- bookkeeping

    def _matches(self, condition: str | None, event: CustomerEvent) -> bool:
        if condition is None:
            return True
        context = {
            "customer": self._customer.as_context() if self._customer else {},
            "event": event.as_context(),
            "data": self._state.data,
            "journey": {"name": self._plan.journey, "version": self._plan.version},
        }
        try:
            return expressions.evaluate(condition, context)
        except workflow.NondeterminismError:
            raise
        except Exception as error:  # noqa: BLE001 - a condition that fails is false, never a failed task
            problem = f"{type(error).__name__}: {str(error)[:200]}"
            self._condition_failure = f"condition {condition!r} failed ({problem}), counted as false"
            return False

    def _points(self, expression: str) -> int:
        """The points ``expression`` gives now (0 when it fails: ``evaluate_number``)."""
        context = {
            "customer": self._customer.as_context() if self._customer else {},
            "event": self._trigger.as_context(),
            "data": self._state.data,
            "journey": {"name": self._plan.journey, "version": self._plan.version},
        }
        return expressions.evaluate_number(expression, context)

    def _with_condition_failure(self, outcome: str) -> str:
        """``outcome``, saying so if a condition failed while the step evaluated it (once per failure)."""
        failure, self._condition_failure = self._condition_failure, None
        return outcome if failure is None else f"{outcome}; {failure}"

    async def _refresh_customer(self) -> None:
        await self._write_store_steps()  # the customer as the steps before wrote it
        self._customer = await workflow.execute_local_activity(
            "load_customer",
            args=[self._customer_id, workflow.now()],  # customer.loyalty as of the run's time
            result_type=CustomerSnapshot,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary="load customer",
        )

    def _context(self, step: str) -> dict[str, Any]:
        visit = self._state.visits.get(step, 1)
        info = workflow.info()
        return {
            # Fits the 500-character key columns by construction (a hash suffix only when long).
            "key": derived_id(f"{info.workflow_id}/{self._state.entry_id}/{step}", str(visit), KEY_LENGTH),
            "workflow_id": info.workflow_id,
            "journey": self._plan.journey,
            "version": self._plan.version,
            "step": step,
            "customer_id": self._customer_id,
            "at": workflow.now(),
        }

    def _carry(self, context: dict[str, Any]) -> dict[str, Any]:
        """``context`` with the step records gathered so far, to be written with the effect: as
        marks (what the request says already is left out), or whole if of another run or entry."""
        return {**context, **self._records_for(context)}

    def _records_for(self, context: dict[str, Any]) -> dict[str, Any]:
        """The step records gathered so far, taken, as the fields of a request made in ``context``."""
        records = self._take_records()
        ours = (context["journey"], context["version"], context["workflow_id"], context["customer_id"])
        entry = self._state.entry_id

        def own(record: StepRecord) -> bool:
            return (record.journey, record.version, record.workflow_id, record.customer_id) == ours and (
                record.entry == entry
            )

        marks = [StepMark.of(record, context["at"]) for record in records if own(record)]
        return {
            "entry": entry if marks else "",  # what the marks need, only with them
            "records": [record for record in records if not own(record)],
            "marks": marks,
        }

    def _enter(self, node: Node) -> None:
        self._state.visits[node.id] = self._state.visits.get(node.id, 0) + 1
        self._show(JOURNEY_STEP.value_set(node.id))
        if self._state.resuming:  # still the same visit, carried over from the previous run
            self._state.resuming = False
            return
        taken = StepTaken(step=node.id, kind=node.kind, at=workflow.now())
        self._state.taken = [*self._state.taken[-(KEEP_STEPS - 1) :], taken]
        self._record(node.id, "entered", node.kind)

    def _complete(self, node: Node, following: str | None) -> None:
        self._record(node.id, "completed", following or "end")

    def _note(self, step: str, outcome: str) -> None:
        for taken in reversed(self._state.taken):
            if taken.step == step:
                taken.outcome = outcome
                return
        self._state.taken.append(StepTaken(step=step, kind="goal", at=workflow.now(), outcome=outcome))

    def _record(self, step: str | None, kind: RecordKind, detail: str) -> None:
        info = workflow.info()
        self._records.append(
            StepRecord(
                journey=self._plan.journey,
                version=self._plan.version,
                workflow_id=info.workflow_id,
                customer_id=self._customer_id,
                step=step,
                kind=kind,
                detail=detail,
                at=workflow.now(),
                entry=self._state.entry_id,
                seq=self._state.records_made,
            )
        )
        self._state.records_made += 1

    def _take_records(self) -> list[StepRecord]:
        records, self._records = self._records, []
        return records

    def _show(self, update: SearchAttributeUpdate[Any]) -> None:
        """Update a search attribute: at once, or (STORE_STEPS_LOCAL) with the others of this
        workflow task, in one update before the run waits or sends (the last value of each)."""
        if not self._store_steps_local:
            workflow.upsert_search_attributes([update])
            return
        self._to_show[update.key.name] = update

    def _show_now(self) -> None:
        if self._to_show:
            updates, self._to_show = list(self._to_show.values()), {}
            workflow.upsert_search_attributes(updates)

    async def _write_store_steps(self) -> None:
        """Write the store-only steps queued since the last write (STORE_STEPS_LOCAL), in order, each
        a local activity; the first carries the step records gathered so far, made before it or
        after. Called before the run waits, sends, reads the customer or ends: nothing it does
        until then reads what they write."""
        steps, self._store_steps = self._store_steps, []
        for index, step in enumerate(steps):
            request = step.request
            if index == 0:
                context = {
                    "journey": request.journey,
                    "version": request.version,
                    "workflow_id": request.workflow_id,
                    "customer_id": request.customer_id,
                    "at": request.at,
                }
                request = request.model_copy(update=self._records_for(context))
            # No summary: the marker names the activity and holds its result, which says as much.
            result = await workflow.execute_local_activity(
                step.activity,
                request,
                result_type=step.result_type,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
            )
            step.done(result)

    async def _flush(self) -> None:
        """Write the step records gathered so far in one local activity, where no side effect carries
        them: before a wait or a hold, before continuing as new, at the end of the run. With
        STORE_STEPS_LOCAL, the store-only steps queued carry them, and the search attributes show."""
        if self._store_steps_local:
            await self._write_store_steps()
            self._show_now()
        if not self._records:
            return
        records = self._take_records()
        await workflow.execute_local_activity(
            "record_steps",
            records,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=f"record {len(records)} step events",
        )

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > self._history_budget


def _delivery_outcome(result: DeliveryResult) -> str:
    if result.status in ("skipped", "failed", "uncertain"):
        return f"{result.status}: {result.reason}"
    sent = f'sent "{result.subject}" to {result.recipient}' if result.channel == "email" else "webhook sent"
    return sent if result.reason is None else f"{sent} ({result.reason})"

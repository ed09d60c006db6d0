"""Runs name their plan: the history holds the journey and version, never the plan or its templates,
and the run behaves as one that carries its whole plan (as runs started before this still do)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.history.v1 import HistoryEvent

from contracts.activities import SendEmailRequest
from contracts.events import CustomerEvent
from contracts.visibility import workflow_id
from engine.loader import compile_text
from engine.plan import Plan
from simulate.sandbox import Sandbox
from tests.support.history_events import marker_names
from workflows.journey import JourneyWorkflow
from workflows.models import JourneyInput

DAY = timedelta(days=1)
TRAITS = {"email": "ada@example.com", "first_name": "Ada"}
JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"


def payload(event: HistoryEvent) -> dict[str, Any]:
    attributes = getattr(event, str(event.WhichOneof("attributes")))
    data: dict[str, Any] = json.loads(attributes.input.payloads[0].data)
    return data


async def test_a_run_names_its_plan_and_sends_from_its_templates(
    onboarding: Sandbox, example_plans: dict[str, Plan]
) -> None:
    plan = example_plans["onboarding"]
    await onboarding.event("signed_up", "named", traits=TRAITS)
    await onboarding.sleep(timedelta(hours=1))
    history = await onboarding.handle("onboarding", "named").fetch_history()
    started = payload(history.events[0])
    send = [
        payload(e)
        for e in history.events
        if e.activity_task_scheduled_event_attributes.activity_type.name == "send_email"
    ]

    assert started["plan_ref"] == {"journey": "onboarding", "version": plan.version}
    assert "plan" not in started  # at its zero default: left out (contracts.compact)
    [request] = [SendEmailRequest.model_validate(r) for r in send]
    assert request.templates is None  # read by version, not carried
    # The step records up to the send went with the set_stage step before it (a local activity:
    # in history only its result), so the send carries none.
    assert request.records == [] and request.marks == []
    local = marker_names(history)
    assert local.count("core_local_activity") == 2  # set_stage; award with the records to the wait
    stats = await onboarding.store.steps.stats("onboarding")
    assert (stats.steps["welcome"].entered, stats.steps["wait_profile"].waiting) == (1, 1)
    text = history.to_json()
    assert "Welcome aboard" not in text and 'wait_profile\\"' not in text  # no template, no plan
    assert "Welcome aboard, Ada!" in [m.subject for m in onboarding.outbox.messages()]
    assert (await onboarding.status("onboarding", "named")).current_step == "wait_profile"


async def test_a_run_carrying_its_whole_plan_goes_the_same_way(
    onboarding: Sandbox, example_plans: dict[str, Plan]
) -> None:
    """The input of a run started before plans went by reference: it still runs, to the same end."""
    plan = example_plans["onboarding"]
    for customer in ("carried", "referenced"):
        await onboarding.store.customers.upsert(customer, TRAITS)
    trigger = CustomerEvent(event_id="carried-signup", customer_id="carried", name="signed_up")
    await onboarding.client.start_workflow(
        JourneyWorkflow.run,
        JourneyInput(plan=plan, customer_id="carried", trigger=trigger),
        id=workflow_id("onboarding", "carried"),
        task_queue=onboarding.settings.task_queue,
    )
    await onboarding.event("signed_up", "referenced")
    await onboarding.sleep(2 * DAY)
    for customer in ("carried", "referenced"):
        await onboarding.event("profile_completed", customer)
    await onboarding.sleep(DAY)
    for customer in ("carried", "referenced"):
        await onboarding.event("purchase_completed", customer, {"total": 42})
    carried = await onboarding.result("onboarding", "carried")
    referenced = await onboarding.result("onboarding", "referenced")

    assert (carried.outcome, carried.points_awarded) == (referenced.outcome, referenced.points_awarded)
    assert [s.step for s in carried.steps] == [s.step for s in referenced.steps]
    assert carried.points_awarded == 350 and carried.goal_reached


async def test_a_plan_first_read_by_a_sandboxed_run_replayed_at_every_task(tmp_path: Path) -> None:
    """A version nothing in this process has read before: the run reads it from the store, in the
    sandbox; with no workflow cache, every task replays the history and finds the plan again."""
    source = f"""
journey: fresh
description: only this test's ({uuid.uuid4().hex})
stage: acquisition
trigger: {{event: signed_up}}
entry: once
steps:
  - {{id: hello, send: {{email: welcome}}}}
  - {{id: pause, wait: 2d}}
  - {{id: bonus, award: {{points: 10, reason: Patience}}}}
"""
    plan = compile_text(source, "fresh.yaml", JOURNEYS_DIR / "templates")
    async with Sandbox.open([plan], workdir=tmp_path, max_cached_workflows=0) as sandbox:
        await sandbox.event("signed_up", "new", traits=TRAITS)
        result = await sandbox.result("fresh", "new")
        messages = sandbox.outbox.messages()

    assert (result.outcome, result.points_awarded) == ("completed", 10)
    assert [m.subject for m in messages] == ["Welcome aboard, Ada!"]

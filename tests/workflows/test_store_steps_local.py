"""Store-only steps as local activities (patch ``store-steps-local``, issue #14): award and set_stage
are queued and written at the run's next wait, send, customer read or end, with the step records;
their requests stay out of history, the search attributes update once per workflow task."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from contracts.events import CustomerEvent
from contracts.plans import PlanRef
from contracts.visibility import JOURNEY_STEP, LIFECYCLE_STAGE, workflow_id
from engine.loader import compile_text
from engine.plan import Plan
from simulate.sandbox import Sandbox
from tests.support.failures import FailOnce
from tests.support.history_events import marker_names, scheduled_activities
from workflows.journey import JourneyWorkflow
from workflows.models import JourneyInput

TRAITS = {"email": "ada@example.com", "first_name": "Ada"}
JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"
# Each step reads what the one before wrote: the branch reads the points from the store (after the
# award is written), the email shows the stage set just before it.
READS_ITS_WRITES = """
journey: reads_writes
stage: acquisition
trigger: {event: signed_up}
steps:
  - {id: bonus, award: {points: 30, reason: Bonus}}
  - {id: joined, set_stage: conversion}
  - id: rich
    branch:
      cases:
        - {when: "customer.points >= 30 and customer.stage == 'conversion'", next: vip}
      else: plain
  - {id: plain, set_stage: at_risk, next: wait}
  - {id: vip, set_stage: loyalty}
  - {id: wait, wait: 1d}
"""


async def test_a_waiting_onboarding_run_holds_results_not_requests(onboarding: Sandbox) -> None:
    await onboarding.event("signed_up", "ada", traits=TRAITS)
    await onboarding.sleep(timedelta(hours=1))
    handle = onboarding.handle("onboarding", "ada")
    history = await handle.fetch_history()
    scheduled = scheduled_activities(history)
    markers = marker_names(history)
    upserts = [
        sorted(e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
        for e in history.events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
    ]
    shown = (await handle.describe()).typed_search_attributes
    stats = await onboarding.store.steps.stats("onboarding")
    ledger = await onboarding.store.points.ledger("ada")
    customer = await onboarding.store.customers.snapshot("ada")

    assert scheduled == ["send_email"]  # set_stage and award ran as local activities
    # The router's input chose the new branch: no patch marker, no TemporalChangeVersion update.
    assert markers == ["core_local_activity", "core_local_activity"]
    # One per workflow task: before the send, before the wait.
    assert upserts == [["JourneyStep", "LifecycleStage"], ["JourneyStep"]]
    assert (shown.get(JOURNEY_STEP), shown.get(LIFECYCLE_STAGE)) == ("wait_profile", "acquisition")
    # The records before the wait were written with the award: nothing left to a record_steps.
    assert (stats.steps["signup_bonus"].completed, stats.steps["wait_profile"].waiting) == (1, 1)
    assert [entry.reason for entry in ledger] == ["Sign-up bonus"] and customer.stage == "acquisition"
    status = await onboarding.status("onboarding", "ada")
    notes = {t.step: t.outcome for t in status.steps}
    assert notes["joined"] == "stage reach -> acquisition"
    assert notes["signup_bonus"].startswith("+100 points, balance 100, badge newcomer")
    assert status.points_awarded == 100


async def test_a_step_reads_what_the_queued_steps_before_it_wrote(tmp_path: Path) -> None:
    plan = compile_text(READS_ITS_WRITES, "reads_writes.yaml", JOURNEYS_DIR / "templates")
    async with Sandbox.open([plan], workdir=tmp_path) as sandbox:
        await sandbox.event("signed_up", "ada", traits=TRAITS)
        result = await sandbox.result("reads_writes", "ada")
        customer = await sandbox.store.customers.snapshot("ada")

    assert [t.step for t in result.steps] == ["bonus", "joined", "rich", "vip", "wait"]
    assert customer.stage == "loyalty" and customer.points == 30 and result.points_awarded == 30


async def test_a_queued_award_that_fails_after_its_commit_is_not_given_twice(
    example_plans: dict[str, Plan], tmp_path: Path
) -> None:
    crash = FailOnce("award")  # the local activity fails after its commit and is run again
    async with Sandbox.open([example_plans["onboarding"]], workdir=tmp_path, fail_after=crash) as sandbox:
        await sandbox.event("signed_up", "ada", traits=TRAITS)
        await sandbox.sleep(timedelta(days=1))
        await sandbox.event("unsubscribed", "ada")
        result = await sandbox.result("onboarding", "ada")
        ledger = await sandbox.store.points.ledger("ada")
        stats = await sandbox.store.steps.stats("onboarding")

    assert crash.fired
    assert [entry.reason for entry in ledger] == ["Sign-up bonus"] and result.points_awarded == 100
    assert (stats.steps["signup_bonus"].entered, stats.steps["signup_bonus"].completed) == (1, 1)


async def test_an_input_from_before_the_field_asks_the_patch_and_takes_the_new_branch(
    onboarding: Sandbox, example_plans: dict[str, Plan]
) -> None:
    plan = example_plans["onboarding"]
    await onboarding.store.customers.upsert("ada", TRAITS)
    trigger = CustomerEvent(event_id=uuid.uuid4().hex, customer_id="ada", name="signed_up")
    old_input = JourneyInput(
        plan_ref=PlanRef(journey=plan.journey, version=plan.version), customer_id="ada", trigger=trigger
    )
    handle = await onboarding.client.start_workflow(
        JourneyWorkflow.run,
        old_input,
        id=workflow_id(plan.journey, "ada"),
        task_queue=onboarding.settings.task_queue,
    )
    await onboarding.sleep(timedelta(hours=1))
    history = await handle.fetch_history()
    scheduled = scheduled_activities(history)

    assert marker_names(history)[0] == "core_patch"  # asked, and recorded the answer
    assert scheduled == ["send_email"]  # the patch's new branch: award and set_stage ran locally

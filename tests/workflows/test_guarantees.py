"""The guarantees: nothing sent or awarded twice, events applied once, versions kept, histories bounded."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

from contracts.events import CustomerEvent
from contracts.records import StepRecord
from contracts.visibility import workflow_id
from engine.loader import compile_text
from engine.plan import Plan
from simulate.sandbox import Sandbox
from tests.support.backend_referral import (
    BACKEND_REFERRAL_FILE,
    BACKEND_REFERRAL_TEMPLATES,
    backend_referral_plan,
)
from tests.support.failures import FailOnce
from tests.support.history_events import marker_names
from workflows.journey import JourneyWorkflow
from workflows.models import JourneyInput

DAY = timedelta(days=1)
TRAITS = {"email": "ada@example.com", "first_name": "Ada"}
JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"


async def test_a_crash_after_sending_retries_without_a_second_email(
    example_plans: dict[str, Plan], tmp_path: Path
) -> None:
    crash = FailOnce("send_email")
    async with Sandbox.open([example_plans["onboarding"]], workdir=tmp_path, fail_after=crash) as sandbox:
        await sandbox.event("signed_up", "c1", traits=TRAITS)
        await sandbox.sleep(DAY)
        await sandbox.event("unsubscribed", "c1")
        result = await sandbox.result("onboarding", "c1")

    assert crash.fired
    assert result.reason == "unsubscribed received"
    assert [m.subject for m in sandbox.outbox.messages()] == ["Welcome aboard, Ada!"]


async def test_a_crash_after_awarding_retries_without_a_second_ledger_entry(
    example_plans: dict[str, Plan], tmp_path: Path
) -> None:
    crash = FailOnce("award")
    async with Sandbox.open([example_plans["onboarding"]], workdir=tmp_path, fail_after=crash) as sandbox:
        await sandbox.event("signed_up", "c2", traits=TRAITS)
        await sandbox.sleep(DAY)
        await sandbox.event("unsubscribed", "c2")
        await sandbox.result("onboarding", "c2")
        ledger = await sandbox.store.points.ledger("c2")
        balance = await sandbox.store.points.balance("c2")

    assert crash.fired
    assert [entry.reason for entry in ledger] == ["Sign-up bonus"]
    assert balance == 100


async def test_a_repeated_event_id_is_applied_once(onboarding: Sandbox) -> None:
    await onboarding.event("signed_up", "c3", traits=TRAITS, event_id="signup-c3")
    repeat = await onboarding.event("signed_up", "c3", traits=TRAITS, event_id="signup-c3")
    await onboarding.sleep(DAY)
    first = await onboarding.event("profile_completed", "c3", event_id="profile-c3")
    again = await onboarding.event("profile_completed", "c3", event_id="profile-c3")
    # Even a signal that bypasses the router's check is applied once by the run itself.
    duplicate = CustomerEvent(event_id="profile-c3", customer_id="c3", name="profile_completed")
    await onboarding.handle("onboarding", "c3").signal("event", duplicate)
    await onboarding.sleep(DAY)
    await onboarding.event("unsubscribed", "c3")
    await onboarding.result("onboarding", "c3")

    assert repeat.duplicate and repeat.started == [] and repeat.signalled == []
    assert first.signalled == ["onboarding"] and again.duplicate
    reasons = [entry.reason for entry in await onboarding.store.points.ledger("c3")]
    assert reasons == ["Sign-up bonus", "Profile completed"]


async def test_entry_once_refuses_a_second_entry(onboarding: Sandbox) -> None:
    await onboarding.event("signed_up", "c4", traits=TRAITS)
    await onboarding.event("unsubscribed", "c4")
    await onboarding.result("onboarding", "c4")
    again = await onboarding.event("signed_up", "c4", traits=TRAITS)

    assert again.started == []
    assert [s.reason for s in again.skipped] == ["already entered once (entry: once)"]


async def test_customers_in_flight_finish_on_the_version_they_started(
    example_plans: dict[str, Plan], tmp_path: Path
) -> None:
    source = (JOURNEYS_DIR / "onboarding.yaml").read_text()
    changed = source.replace(
        "{id: nudge_profile, send: {email: complete_your_profile}}", "{id: nudge_profile, exit: no profile}"
    )
    assert changed != source
    version_2 = compile_text(changed, "onboarding.yaml", JOURNEYS_DIR / "templates")
    version_1 = example_plans["onboarding"]
    assert version_2.version != version_1.version

    async with Sandbox.open([version_1], workdir=tmp_path) as sandbox:
        await sandbox.event("signed_up", "early", traits={**TRAITS, "email": "early@example.com"})
        await sandbox.store.deployments.deploy(version_2, source=changed)
        await sandbox.router.reload()
        await sandbox.event("signed_up", "late", traits={**TRAITS, "email": "late@example.com"})
        early = await sandbox.result("onboarding", "early")
        late = await sandbox.result("onboarding", "late")
        early_status = await sandbox.status("onboarding", "early")
        late_status = await sandbox.status("onboarding", "late")

    assert early_status.version == version_1.version and late_status.version == version_2.version
    assert "nudge_profile" in [t.step for t in early.steps] and early.outcome != "exited"
    assert late.outcome == "exited" and late.reason == "no profile"
    early_mail = [m.subject for m in sandbox.outbox.messages() if m.recipients == ["early@example.com"]]
    late_mail = [m.subject for m in sandbox.outbox.messages() if m.recipients == ["late@example.com"]]
    assert "Ada, 50 points are waiting for you" in early_mail
    assert late_mail == ["Welcome aboard, Ada!"]


async def test_a_long_loop_continues_as_new_and_keeps_its_state(
    example_plans: dict[str, Plan], tmp_path: Path
) -> None:
    plan = example_plans["winback"]
    async with Sandbox.open([plan], workdir=tmp_path) as sandbox:
        handle = await start_with_small_history(sandbox, plan, "loyal")
        for _ in range(12):
            await sandbox.sleep(10 * DAY)
            await sandbox.event("purchase_completed", "loyal")
        status = await sandbox.status("winback", "loyal")
        description = await handle.describe()
        first = sandbox.client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
        first_markers = marker_names(await first.fetch_history())
        latest_markers = marker_names(await sandbox.client.get_workflow_handle(handle.id).fetch_history())

    assert description.run_id != handle.first_execution_run_id  # it continued as new
    # Started with an input from before store_steps_local, the first run asked the patch; the runs it
    # continued as new into were told by their input and asked nothing.
    assert "core_patch" in first_markers and "core_patch" not in latest_markers
    assert status.current_step == "watch"
    assert sum(1 for t in status.steps if t.step == "watch") >= 12
    assert sandbox.outbox.messages() == []


async def test_triggers_during_an_entry_queue_up_as_the_next_entries(tmp_path: Path) -> None:
    async with Sandbox.open([backend_referral_plan()], workdir=tmp_path) as sandbox:
        for friend in ("bob", "eve", "joe"):
            await sandbox.event("referral_completed", "ambassador", {"friend": friend}, traits=TRAITS)
        await sandbox.result("referral", "ambassador")
        ledger = await sandbox.store.points.ledger("ambassador")

    assert [entry.delta for entry in ledger] == [250, 250, 250]
    assert len(sandbox.outbox.messages()) == 3


async def test_a_paused_journey_holds_customers_before_their_next_send(onboarding: Sandbox) -> None:
    await onboarding.event("signed_up", "held", traits=TRAITS)
    await onboarding.sleep(timedelta(hours=1))  # welcomed, now waiting for the profile
    await onboarding.store.deployments.set_paused("onboarding", True)
    await onboarding.router.reload()
    refused = await onboarding.event("signed_up", "newcomer", traits=TRAITS)
    await onboarding.sleep(5 * DAY)
    held = await onboarding.status("onboarding", "held")
    counts_while_paused = (await onboarding.store.steps.stats("onboarding")).steps
    sent_while_paused = [m.subject for m in onboarding.outbox.messages()]
    await onboarding.store.deployments.set_paused("onboarding", False)
    await onboarding.sleep(DAY)
    resumed = await onboarding.status("onboarding", "held")

    assert [s.reason for s in refused.skipped] == ["journey is paused"]
    assert held.current_step == "nudge_profile"
    assert held.steps[-1].outcome == "holding: journey paused"
    assert counts_while_paused["nudge_profile"].waiting == 1  # the held send wrote its step records
    assert counts_while_paused["wait_profile"].completed == 1
    assert sent_while_paused == ["Welcome aboard, Ada!"]
    assert resumed.current_step == "wait_purchase"
    assert [m.subject for m in onboarding.outbox.messages()][-1] == "Ada, 50 points are waiting for you"


async def test_a_rejected_address_fails_that_send_only_and_the_journey_goes_on(
    example_plans: dict[str, Plan], tmp_path: Path
) -> None:
    plans = [example_plans["onboarding"]]
    async with Sandbox.open(plans, workdir=tmp_path, refuse=["bounce@example.com"]) as sandbox:
        await sandbox.event("signed_up", "bouncer", traits={**TRAITS, "email": "bounce@example.com"})
        await sandbox.sleep(DAY)
        await sandbox.event("unsubscribed", "bouncer")
        result = await sandbox.result("onboarding", "bouncer")
        balance = await sandbox.store.points.balance("bouncer")
        counts = (await sandbox.store.steps.stats("onboarding")).steps

    outcomes = {taken.step: taken.outcome for taken in result.steps}
    assert outcomes["welcome"].startswith("failed: ")
    assert "bounce@example.com" in outcomes["welcome"]
    assert balance == 100  # the sign-up bonus after the failed welcome was still awarded
    # The failed send could not store the step records it carried; the next write did.
    assert (counts["welcome"].entered, counts["welcome"].completed) == (1, 1)
    assert counts["joined"].completed == 1
    assert result.reason == "unsubscribed received"


async def test_entry_once_holds_even_after_temporal_forgot_the_run(onboarding: Sandbox) -> None:
    # What the store remembers of an entry whose closed run is past Temporal's retention.
    entered = StepRecord(
        journey="onboarding",
        version="old",
        workflow_id=workflow_id("onboarding", "veteran"),
        customer_id="veteran",
        step=None,
        kind="journey_entered",
        at=await onboarding.now() - 400 * DAY,
    )
    await onboarding.store.steps.record([entered])
    again = await onboarding.event("signed_up", "veteran", traits=TRAITS)

    assert again.started == []
    assert [s.reason for s in again.skipped] == ["already entered once (entry: once)"]


async def test_a_queued_entry_starts_on_the_version_current_when_it_begins(tmp_path: Path) -> None:
    source = BACKEND_REFERRAL_FILE.read_text()
    richer = source.replace("points: 250", "points: 300")
    version_1, version_2 = (
        backend_referral_plan(),
        compile_text(richer, "referral.yaml", BACKEND_REFERRAL_TEMPLATES),
    )
    async with Sandbox.open([version_1], workdir=tmp_path) as sandbox:
        await sandbox.store.customers.upsert("fan", TRAITS)
        await sandbox.store.deployments.set_paused("referral", True)  # the first entry holds at its send
        first = CustomerEvent(event_id="ref-1", customer_id="fan", name="referral_completed")
        await sandbox.client.start_workflow(
            JourneyWorkflow.run,
            JourneyInput(plan=version_1, customer_id="fan", trigger=first),
            id=workflow_id("referral", "fan"),
            task_queue=sandbox.settings.task_queue,
        )
        second = CustomerEvent(event_id="ref-2", customer_id="fan", name="referral_completed")
        await sandbox.handle("referral", "fan").signal("event", second)  # queued as the next entry
        await sandbox.store.deployments.deploy(version_2, source=richer)
        await sandbox.store.deployments.set_paused("referral", False)
        await sandbox.result("referral", "fan")
        ledger = await sandbox.store.points.ledger("fan")
        status = await sandbox.status("referral", "fan")

    assert [entry.delta for entry in ledger] == [250, 300]
    assert status.version == version_2.version


async def test_a_new_entry_starts_with_the_customer_the_router_read(onboarding: Sandbox) -> None:
    await onboarding.event("signed_up", "quick", traits={**TRAITS, "first_name": "Quinn"})
    await onboarding.sleep(timedelta(hours=1))
    history = await onboarding.handle("onboarding", "quick").fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    entry = json.loads(started.input.payloads[0].data)

    local_activities = [
        json.loads(event.marker_recorded_event_attributes.details["data"].payloads[0].data)
        for event in history.events
        if event.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]
    assert entry["customer"]["first_name"] == "Quinn"  # the router's read rides in the input
    assert all("load_customer" not in json.dumps(marker) for marker in local_activities)
    assert "Welcome aboard, Quinn!" in [m.subject for m in onboarding.outbox.messages()]


async def test_a_long_pause_across_continue_as_new_counts_the_held_customer_once(
    example_plans: dict[str, Plan], tmp_path: Path
) -> None:
    plan = example_plans["onboarding"]
    async with Sandbox.open([plan], workdir=tmp_path) as sandbox:
        await sandbox.store.customers.upsert("patient", TRAITS)
        handle = await start_with_small_history(sandbox, plan, "patient")
        await sandbox.sleep(timedelta(hours=1))
        await sandbox.store.deployments.set_paused("onboarding", True)
        await sandbox.sleep(5 * DAY)  # the nudge (day 3) is held, re-checked every 15 minutes
        held = (await sandbox.store.steps.stats("onboarding")).steps["nudge_profile"]
        description = await handle.describe()
        await sandbox.store.deployments.set_paused("onboarding", False)
        await sandbox.sleep(DAY)
        after = (await sandbox.store.steps.stats("onboarding")).steps["nudge_profile"]
        nudges = [m for m in sandbox.outbox.messages() if m.subject == "Ada, 50 points are waiting for you"]

    assert description.run_id != handle.first_execution_run_id  # the pause outgrew a history
    assert (held.entered, held.waiting) == (1, 1)
    assert (after.entered, after.completed, after.waiting) == (1, 1, 0)
    assert len(nudges) == 1


async def start_with_small_history(
    sandbox: Sandbox, plan: Plan, customer_id: str
) -> WorkflowHandle[Any, Any]:
    """Start ``customer_id``'s run of ``plan`` directly, continuing as new past 60 history events."""
    trigger = CustomerEvent(event_id=uuid.uuid4().hex, customer_id=customer_id, name=plan.trigger.event)
    return await sandbox.client.start_workflow(
        JourneyWorkflow.run,
        JourneyInput(plan=plan, customer_id=customer_id, trigger=trigger, history_budget=60),
        id=workflow_id(plan.journey, customer_id),
        task_queue=sandbox.settings.task_queue,
    )

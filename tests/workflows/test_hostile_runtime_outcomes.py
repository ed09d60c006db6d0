"""What fails at run time becomes an outcome a journey records, never a 500 or a wedged run.

On the time-skipping server with the real worker, store and Outbox SMTP server: a worker killed
between the SMTP server's acceptance and the delivery log (under both uncertain-send policies),
conditions that raise while evaluated, a template that raises what Jinja never would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from temporalio.api.enums.v1 import EventType

from activities import journey_activities
from activities.journey_activities import EMAIL_ACCEPTED, NOT_RESENT, RESENT
from engine import expressions
from engine.loader import compile_text
from engine.plan import Plan
from simulate.sandbox import Sandbox
from tests.support.failures import FailOnce

JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"
TRAITS = {"email": "ada@example.com", "first_name": "Ada"}
RAISING = "event.properties.total > 100"  # the condition that fails whenever it is evaluated


def plan(text: str) -> Plan:
    return compile_text(text, "hostile.yaml", JOURNEYS_DIR / "templates")


WELCOME = plan(
    """
journey: welcome_only
stage: acquisition
trigger: {event: signed_up}
steps:
  - {id: welcome, send: {email: welcome}}
  - {id: done, exit: welcomed}
"""
)


@pytest.fixture
def raising_condition(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``RAISING`` fails as it is evaluated (every other condition evaluates as usual), as any
    condition might through a bug or an input nobody foresaw."""
    evaluate = expressions.evaluate

    def failing(source: str, context: Any) -> bool:
        if source == RAISING:
            raise RuntimeError("condition exploded")
        return evaluate(source, context)

    monkeypatch.setattr(expressions, "evaluate", failing)
    yield


@pytest.mark.parametrize("policy", ["resend", "skip"])
async def test_a_worker_killed_between_smtp_acceptance_and_the_log(
    tmp_path: Path, policy: Literal["resend", "skip"]
) -> None:
    crash = FailOnce(EMAIL_ACCEPTED)
    settings = {"uncertain_send_policy": policy}
    async with Sandbox.open([WELCOME], workdir=tmp_path, fail_after=crash, settings=settings) as sandbox:
        await sandbox.event("signed_up", "ada", traits=TRAITS, event_id="signup-ada")
        result = await sandbox.result("welcome_only", "ada")
        logged = await sandbox.store.deliveries.get("journey/welcome_only/ada/signup-ada/welcome/1")

    assert crash.fired
    assert (result.outcome, result.reason) == ("exited", "welcomed")
    [welcome] = [step for step in result.steps if step.step == "welcome"]
    messages = sandbox.outbox.messages()
    assert logged is not None
    if policy == "resend":
        assert [m.subject for m in messages] == ["Welcome aboard, Ada!"] * 2
        assert messages[0].message_id == messages[1].message_id == logged.message_id
        assert (logged.status, logged.reason) == ("sent", RESENT)
        assert welcome.outcome == f'sent "Welcome aboard, Ada!" to ada@example.com ({RESENT})'
    else:
        assert [m.message_id for m in messages] == [logged.message_id]
        assert (logged.status, logged.reason) == ("uncertain", NOT_RESENT)
        assert welcome.outcome == f"uncertain: {NOT_RESENT}"


@pytest.mark.usefixtures("raising_condition")
async def test_a_trigger_condition_that_raises_skips_the_journey_and_the_event_is_delivered(
    tmp_path: Path,
) -> None:
    audience = plan(
        f"""
journey: big_spenders
stage: conversion
trigger: {{event: order_placed, where: "{RAISING}"}}
steps:
  - {{id: thanks, send: {{email: welcome}}}}
"""
    )
    async with Sandbox.open([audience, WELCOME], workdir=tmp_path) as sandbox:
        await sandbox.event("signed_up", "bea", traits=TRAITS)
        routed = await sandbox.event("order_placed", "bea", {"total": 500})
        again = await sandbox.event("order_placed", "bea", {"total": 500}, event_id=routed.event_id)

    assert routed.started == [] and not routed.duplicate
    [skipped] = routed.skipped
    assert skipped.journey == "big_spenders"
    assert skipped.reason == "not in the audience: condition failed (RuntimeError: condition exploded)"
    assert again.duplicate  # delivered and acknowledged: a resend changes nothing


@pytest.mark.usefixtures("raising_condition")
async def test_a_wait_for_condition_that_raises_counts_as_false_until_the_timeout(tmp_path: Path) -> None:
    waiting = plan(
        f"""
journey: waiting
stage: conversion
trigger: {{event: signed_up}}
steps:
  - id: wait_order
    wait_for: {{event: order_placed, timeout: 1d, where: "{RAISING}"}}
    on_timeout: gave_up
  - {{id: ordered, exit: ordered}}
  - {{id: gave_up, exit: no big order}}
"""
    )
    async with Sandbox.open([waiting], workdir=tmp_path) as sandbox:
        await sandbox.event("signed_up", "cy", traits=TRAITS)
        routed = await sandbox.event("order_placed", "cy", {"total": 500})
        result = await sandbox.result("waiting", "cy")
        history = await sandbox.handle("waiting", "cy").fetch_history()

    assert routed.signalled == ["waiting"]
    assert (result.outcome, result.reason) == ("exited", "no big order")
    [wait] = [step for step in result.steps if step.step == "wait_order"]
    assert wait.outcome == (
        f"timed out; condition {RAISING!r} failed (RuntimeError: condition exploded), counted as false"
    )
    failed_tasks = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    assert failed_tasks == []


@pytest.fixture
def overflowing_template(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Rendering raises what Jinja never would, as ``range(customer.traits.n)`` once did."""

    def overflow(*_: Any, **__: Any) -> Any:
        raise OverflowError("Python int too large to convert to C ssize_t")

    monkeypatch.setattr(journey_activities, "render_email", overflow)
    yield


@pytest.mark.usefixtures("overflowing_template")
async def test_a_template_that_raises_is_a_failed_send_on_the_step_not_retried(tmp_path: Path) -> None:
    async with Sandbox.open([WELCOME], workdir=tmp_path) as sandbox:
        await sandbox.event("signed_up", "dee", traits=TRAITS)
        result = await sandbox.result("welcome_only", "dee")
        history = await sandbox.handle("welcome_only", "dee").fetch_history()

    assert (result.outcome, result.reason) == ("exited", "welcomed")  # the journey went on
    [welcome] = [step for step in result.steps if step.step == "welcome"]
    assert welcome.outcome == (
        'failed: email template "welcome" failed to render: '
        "OverflowError: Python int too large to convert to C ssize_t"
    )
    started = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    failed = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED]
    assert [e.activity_task_started_event_attributes.attempt for e in started] == [1]
    assert failed[0].activity_task_failed_event_attributes.failure.application_failure_info.non_retryable
    assert sandbox.outbox.messages() == []

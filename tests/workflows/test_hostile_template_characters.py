"""A plan whose template renders a character no email can carry: the send fails once, for good, and
the journey goes on. Before, ``{{ '\\ud800' }}`` in a subject raised UnicodeEncodeError in the SMTP
client on every attempt and the send retried for ever; ``{{ '\\x00' }}`` put a NUL into the Subject.

Validation refuses such templates now (they do not render for the sample customer), so these plans
are made as a plan deployed before that was: compiled, then their templates replaced. On the
time-skipping server with the real worker, store and Outbox SMTP server.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.api.enums.v1 import EventType

from engine.compiler import content_version
from engine.loader import compile_text
from engine.plan import Plan
from simulate.sandbox import Sandbox

TEMPLATES = Path(__file__).resolve().parents[2] / "journeys" / "templates"
TRAITS = {"email": "ada@example.com", "first_name": "Ada"}
SUBJECT = "which an email subject (a header) cannot carry"


def rendering(journey: str, subject: str) -> Plan:
    """A journey that sends ``welcome`` with ``subject`` as its subject template, then exits."""
    text = (
        f"journey: {journey}\nstage: acquisition\ntrigger: {{event: signed_up}}\nsteps:\n"
        "  - {id: welcome, send: {email: welcome}}\n  - {id: done, exit: welcomed}\n"
    )
    compiled = compile_text(text, f"{journey}.yaml", TEMPLATES)
    changed = compiled.model_copy(
        update={"templates": {**compiled.templates, "welcome/subject.txt": subject}}
    )
    return changed.model_copy(update={"version": content_version(changed)})


async def test_a_subject_that_renders_a_lone_surrogate_or_a_nul_fails_the_send_once_and_goes_on(
    tmp_path: Path,
) -> None:
    plans = [
        rendering("surrogate_subject", "Hi {{ '\\ud800' }}"),
        rendering("nul_subject", "Hi {{ '\\x00' }}"),
    ]
    async with Sandbox.open(plans, workdir=tmp_path) as sandbox:
        await sandbox.event("signed_up", "ada", traits=TRAITS)
        results = {}
        for plan in plans:
            # Bounded: a send retried for ever would hold the run, and the test, for ever.
            result = await asyncio.wait_for(sandbox.result(plan.journey, "ada"), timeout=60)
            history = await sandbox.handle(plan.journey, "ada").fetch_history()
            started = [
                e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
            ]
            results[plan.journey] = (
                result,
                [e.activity_task_started_event_attributes.attempt for e in started],
            )
        messages = sandbox.outbox.messages()

    for journey, found in [
        ("surrogate_subject", "lone surrogate U+D800"),
        ("nul_subject", "control character U+0000 (NUL)"),
    ]:
        result, attempts = results[journey]
        assert (result.outcome, result.reason) == ("exited", "welcomed")  # the journey went on
        [welcome] = [step for step in result.steps if step.step == "welcome"]
        assert welcome.outcome == (
            'failed: email template "welcome" failed to render: TemplateRenderError: welcome/subject.txt '
            f"renders {found} at line 1, column 4 of its output, {SUBJECT}"
        )
        assert set(attempts) == {1}  # no activity was attempted twice
    assert messages == []

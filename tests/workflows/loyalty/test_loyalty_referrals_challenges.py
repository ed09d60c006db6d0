"""Referrals and challenges through the event router and the loyalty workflow (time-skipping server):
a referrer rewarded once however the referee's purchases repeat, and ``referral_qualified`` reaching
the referrer's journeys; a self-referral refused with its reason; a challenge completed once; a
challenge window closed by the run's own timer at its end, no event needed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest_asyncio
import sqlalchemy as sa
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from contracts.loyalty_activities import SettleRequest
from engine.loader import compile_text
from engine.loyalty.loader import validate_program_text
from engine.loyalty.program import Program
from simulate.sandbox import Sandbox
from store import challenges, referrals
from store.loyalty_tables import points_lots, referral_attempts
from store.tables import processed_events
from workflows.loyalty import loyalty_workflow_id

DAY = timedelta(days=1)
PROGRAM_TEXT = """
program: social
tiers:
  qualify_on: lifetime
  levels:
    - {name: member, threshold: 0}
earning:
  - id: purchase
    event: purchase_completed
    points: event.properties.total // 100
    reason: Purchase
pending: {days: 14, refund_event: order_refunded, match_on: order_id}
expiry: {after_months: 12, remind_before: 30d}
referrals:
  signup_event: signed_up
  code_property: referral_code
  qualify_event: purchase_completed
  referrer: {points: 500, badge: ambassador}
  referee: {points: 200}
  max_per_referrer: 10
  period: 30d
challenges:
  - id: three_in_thirty
    name: Three purchases in 30 days
    event: purchase_completed
    count: 3
    within: 30d
    reward: {points: 300, badge: regular}
  - id: two_classes
    name: Two classes in a week
    event: class_attended
    count: 2
    within: 7d
    reward: {badge: attendee}
"""
THANKS = """
journey: thank_referrer
stage: loyalty
trigger: {event: referral_qualified}
steps:
  - {id: thanked, set_stage: loyalty}
"""


@pytest_asyncio.fixture(loop_scope="session")
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    program, errors = validate_program_text(PROGRAM_TEXT, "social.yaml")
    assert program is not None, errors
    plan = compile_text(THANKS, "thank_referrer.yaml", tmp_path)
    async with Sandbox.open([plan], workdir=tmp_path) as opened:
        await opened.store.loyalty_programs.deploy(program, PROGRAM_TEXT)
        yield opened


async def active(sandbox: Sandbox) -> Program:
    program = await sandbox.store.loyalty_programs.active()
    assert program is not None
    return program


async def progress_of(sandbox: Sandbox, customer_id: str) -> list[challenges.Progress]:
    program, now = await active(sandbox), await sandbox.now()  # the store's one connection: not held
    async with sandbox.store.engine.connect() as conn:
        return await challenges.progress(conn, program, customer_id, now)


async def code_of(sandbox: Sandbox, customer_id: str) -> str:
    now = await sandbox.now()
    async with sandbox.store.engine.begin() as conn:
        return await referrals.code_for(conn, customer_id, now)


async def emitted(sandbox: Sandbox, name: str) -> list[tuple[str, str]]:
    """(event id, customer) of each event the program emitted that the router took (once each)."""
    async with sandbox.store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(processed_events.c.event_id, processed_events.c.customer_id)
            .where(processed_events.c.event_id.like(f"loyalty/{name}/%"))
            .order_by(processed_events.c.event_id)
        )
        return [(row.event_id, row.customer_id) for row in rows]


async def ledger(sandbox: Sandbox, customer_id: str) -> list[tuple[str, int]]:
    return [(entry.reason, entry.delta) for entry in await sandbox.store.points.ledger(customer_id)]


async def test_a_referrer_is_rewarded_once_however_the_referees_purchases_repeat(sandbox: Sandbox) -> None:
    code = await code_of(sandbox, "rita")
    await sandbox.event("signed_up", "ref", {"referral_code": code}, traits={"email": "ref@example.com"})
    await sandbox.sleep(DAY)
    first = {"total": 5000, "order_id": "o1"}
    await sandbox.event("purchase_completed", "ref", first, event_id="ref-p1")
    await sandbox.event("purchase_completed", "ref", first, event_id="ref-p1")  # sent twice
    await sandbox.sleep(DAY)
    await sandbox.event("purchase_completed", "ref", {"total": 7000, "order_id": "o2"}, event_id="ref-p2")
    await sandbox.sleep(DAY)

    assert await ledger(sandbox, "rita") == [("Referral", 500)]
    assert await ledger(sandbox, "ref") == [("Referred by a friend", 200)]  # purchases still pending
    assert await emitted(sandbox, "referral_qualified") == [("loyalty/referral_qualified/ref", "rita")]
    thanked = await sandbox.result("thank_referrer", "rita")  # the event reached the referrer's journey
    assert [step.step for step in thanked.steps] == ["thanked"]
    async with sandbox.store.engine.connect() as conn:
        status = await conn.scalar(sa.text("SELECT status FROM referrals WHERE referee_id = 'ref'"))
        badges = await conn.scalar(sa.text("SELECT badges FROM customers WHERE id = 'rita'"))
    assert status == "qualified"
    assert "ambassador" in str(badges)
    # The referrer's reward is theirs to keep for 12 months: their own run reminds and expires it.
    run = await sandbox.client.get_workflow_handle(loyalty_workflow_id("rita")).describe()
    assert run.status == WorkflowExecutionStatus.RUNNING
    await sandbox.sleep(12 * 30 * DAY)
    assert len([each for each in await emitted(sandbox, "points_expiring") if each[1] == "rita"]) == 1
    assert await ledger(sandbox, "rita") == [("Referral", 500), ("Points expired", -500)]


async def test_a_self_referral_is_refused_and_recorded_with_its_reason(sandbox: Sandbox) -> None:
    code = await code_of(sandbox, "sam")
    await sandbox.event("signed_up", "sam", {"referral_code": code}, event_id="sam-signup")
    await sandbox.sleep(DAY)
    await sandbox.event("purchase_completed", "sam", {"total": 5000, "order_id": "s1"}, event_id="sam-p1")
    await sandbox.sleep(DAY)

    async with sandbox.store.engine.connect() as conn:
        attempts = (
            await conn.execute(
                sa.select(
                    referral_attempts.c.outcome, referral_attempts.c.reason, referral_attempts.c.code
                ).where(referral_attempts.c.referee_id == "sam")
            )
        ).all()
        view = await referrals.referrals_view(conn, "sam")
    assert [tuple(row) for row in attempts] == [("refused", "self_referral", code)]
    assert [(each.referee_id, each.reason) for each in view.refused] == [("sam", "self_referral")]
    assert view.referred_by is None
    assert await emitted(sandbox, "referral_refused") == [("loyalty/referral_refused/sam/sam-signup", "sam")]
    assert await ledger(sandbox, "sam") == []  # nobody rewarded


async def test_three_purchases_in_thirty_days_complete_the_challenge_once(sandbox: Sandbox) -> None:
    start = await sandbox.now()
    for n, day in enumerate((0, 10, 20, 25)):  # the third completes it; the fourth adds nothing
        await sandbox.sleep_until(start + day * DAY)
        await sandbox.event(
            "purchase_completed", "cleo", {"total": 1000, "order_id": f"c{n}"}, event_id=f"c{n}"
        )
        if n == 2:  # the completing purchase sent again
            await sandbox.event(
                "purchase_completed", "cleo", {"total": 1000, "order_id": "c2"}, event_id="c2"
            )
    await sandbox.sleep(DAY)

    completed = await emitted(sandbox, "challenge_completed")
    assert completed == [("loyalty/challenge_completed/cleo/three_in_thirty/1", "cleo")]
    assert ("Three purchases in 30 days", 300) in await ledger(sandbox, "cleo")
    assert [reason for reason, _ in await ledger(sandbox, "cleo")].count("Three purchases in 30 days") == 1
    [progress, _classes] = await progress_of(sandbox, "cleo")
    assert (progress.status, progress.count, progress.completions) == ("completed", 3, 1)


async def settles(sandbox: Sandbox, customer_id: str) -> list[datetime]:
    """The times of the loyalty_settle activities the customer's runs scheduled (every run)."""
    handle = sandbox.client.get_workflow_handle(loyalty_workflow_id(customer_id))
    history = await handle.fetch_history()
    converter = sandbox.client.data_converter
    found = []
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            continue
        scheduled = event.activity_task_scheduled_event_attributes
        if scheduled.activity_type.name == "loyalty_settle":
            [req] = await converter.decode(scheduled.input.payloads, [SettleRequest])
            found.append(req.at)
    return found


async def test_a_lapsed_challenge_window_closes_at_its_end_by_the_runs_timer(sandbox: Sandbox) -> None:
    await sandbox.event("class_attended", "lia", event_id="lia-c1")
    await sandbox.sleep(DAY)
    [_, opened] = await progress_of(sandbox, "lia")
    assert (opened.status, opened.count) == ("open", 1)
    assert opened.ends_at is not None
    handle = sandbox.client.get_workflow_handle(loyalty_workflow_id("lia"))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING  # waiting for ends_at

    await sandbox.sleep(7 * DAY)  # no event: the run's timer fires at the window's end
    [settled] = await settles(sandbox, "lia")
    assert opened.ends_at <= settled < opened.ends_at + timedelta(seconds=1)  # the timer's, no event
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED  # nothing more due
    [_, lapsed] = await progress_of(sandbox, "lia")
    async with sandbox.store.engine.connect() as conn:
        lots = await conn.scalar(sa.select(sa.func.count()).where(points_lots.c.customer_id == "lia"))
    assert (lapsed.status, lapsed.round, lapsed.completions) == ("lapsed", 1, 0)
    assert lots == 0
    # The next class opens a new round rather than completing the lapsed one.
    await sandbox.event("class_attended", "lia", event_id="lia-c2")
    await sandbox.sleep(DAY)
    [_, second] = await progress_of(sandbox, "lia")
    assert (second.status, second.round, second.count) == ("open", 2, 1)
    assert await emitted(sandbox, "challenge_completed") == []

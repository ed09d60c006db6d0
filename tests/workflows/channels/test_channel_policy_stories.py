"""The channel policy on the time-skipping server, with the real store and SMTP server: a weekly cap
across journeys, quiet hours in the customer's time zone, the global control group."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest_asyncio

from engine.channels.loader import validate_policy_text
from engine.channels.policy import ChannelPolicy
from engine.loader import compile_text
from engine.plan import Plan
from simulate.sandbox import Sandbox
from store.deliveries import LoggedDelivery

REPO = Path(__file__).resolve().parents[3]
TEMPLATES = REPO / "journeys" / "templates"
DAY = timedelta(days=1)


def journey(name: str, event: str, template: str, extra: str = "", goal: str = "") -> Plan:
    """A journey of one email; with a goal, the run waits 3 days after it for the goal."""
    wait = "\n  - {id: linger, wait: 3d}" if goal else ""
    text = f"""
journey: {name}
stage: retention
trigger: {{event: {event}}}
entry: always
{goal}
steps:
  - {{id: mail, send: {{email: {template}{extra}}}}}{wait}
"""
    return compile_text(text, f"{name}.yaml", TEMPLATES)


def policy(text: str) -> tuple[ChannelPolicy, str]:
    found, errors = validate_policy_text(text, "channels.yaml")
    assert found is not None, errors
    return found, text


def traits(name: str, timezone: str = "UTC") -> dict[str, str]:
    return {"email": f"{name}@example.com", "first_name": name.title(), "timezone": timezone}


async def received(sandbox: Sandbox, recipient: str) -> list[str]:
    return [m.subject for m in sandbox.outbox.messages() if recipient in m.recipients]


async def logged(sandbox: Sandbox, customer_id: str) -> list[LoggedDelivery]:
    return list(reversed(await sandbox.store.deliveries.log_for_customer(customer_id)))


CAPS = """policy: main
channels:
  email:
    caps: {per_week: 2}
"""


@pytest_asyncio.fixture(loop_scope="session")
async def capped(tmp_path: Path) -> AsyncIterator[Sandbox]:
    plans = [
        journey("promo_a", "promo_a", "welcome"),
        journey("promo_b", "promo_b", "offer_discount"),
        journey("promo_c", "promo_c", "offer_free_shipping"),
        journey("receipt", "purchase_completed", "first_purchase_thanks", ", class: transactional"),
    ]
    async with Sandbox.open(plans, workdir=tmp_path, policy=policy(CAPS)) as opened:
        yield opened


async def test_a_weekly_cap_of_two_skips_the_third_marketing_email_and_not_a_transactional_one(
    capped: Sandbox,
) -> None:
    sandbox = capped
    # Monday 09:00 UTC of the week to come: three marketing journeys on Monday, Tuesday, Wednesday.
    now = await sandbox.now()
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    await sandbox.sleep_until(monday)
    # (Awaiting a run's result lets the test clock leap ahead: the runs are read after they ended.)
    for name in ("promo_a", "promo_b", "promo_c"):
        await sandbox.event(name, "ada", traits=traits("ada"))
        await sandbox.sleep(DAY)
    await sandbox.event("purchase_completed", "ada", {"order_id": "o-1", "total": 42})
    await sandbox.sleep(timedelta(hours=1))

    entries = await logged(sandbox, "ada")
    assert [(e.journey, e.status, e.reason) for e in entries] == [
        ("promo_a", "sent", None),
        ("promo_b", "sent", None),
        ("promo_c", "skipped", "frequency cap: 2 marketing emails a week"),
        ("receipt", "sent", None),
    ]
    assert [e.at.astimezone(UTC).weekday() for e in entries] == [0, 1, 2, 3]  # Monday to Thursday
    assert await received(sandbox, "ada@example.com") == [
        "Welcome aboard, Ada!",
        "10% off your first order, Ada",
        "Thank you for your first order, Ada",
    ]
    # The run of promo_c shows the reason on its step too.
    status = await sandbox.status("promo_c", "ada")
    assert [taken.outcome for taken in status.steps if taken.step == "mail"] == [
        "skipped: frequency cap: 2 marketing emails a week"
    ]
    # The next week has room again.
    await sandbox.sleep(7 * DAY)
    await sandbox.event("promo_c", "ada", traits=traits("ada"))
    await sandbox.sleep(timedelta(hours=1))
    assert [(e.journey, e.status) for e in await logged(sandbox, "ada")][-2:] == [
        ("receipt", "sent"),
        ("promo_c", "sent"),
    ]


QUIET = """policy: main
channels:
  email:
    quiet_hours: {start: "21:00", end: "08:00"}
"""


EVENING = journey("evening", "browsed", "welcome")


@pytest_asyncio.fixture(loop_scope="session")
async def quiet(tmp_path: Path) -> AsyncIterator[Sandbox]:
    plans = [
        EVENING,
        journey("evening_skip", "browsed_skip", "offer_discount", ", quiet_hours: skip"),
        journey("evening_receipt", "paid", "first_purchase_thanks", ", class: transactional"),
    ]
    async with Sandbox.open(plans, workdir=tmp_path, policy=policy(QUIET)) as opened:
        yield opened


async def test_quiet_hours_in_jakarta_hold_a_send_until_eight_local(quiet: Sandbox) -> None:
    sandbox = quiet
    # 22:00 in Jakarta (UTC+7) is 15:00 UTC: the next one to come.
    now = await sandbox.now()
    evening = now.replace(hour=15, minute=0, second=0, microsecond=0)
    evening += DAY if evening <= now else timedelta(0)
    await sandbox.sleep_until(evening)
    who = traits("dewi", "Asia/Jakarta")
    await sandbox.event("browsed", "dewi", traits=who)
    await sandbox.event("browsed_skip", "dewi", traits=who)
    await sandbox.event("paid", "dewi", {"order_id": "o-2", "total": 10})
    await sandbox.sleep(timedelta(hours=1))
    assert await received(sandbox, "dewi@example.com") == ["Thank you for your first order, Dewi"]
    assert sorted(e.journey for e in await logged(sandbox, "dewi")) == ["evening_receipt", "evening_skip"]
    status = await sandbox.status("evening", "dewi")
    eight_local = (evening + DAY).replace(hour=1)  # 08:00 in Jakarta is 01:00 UTC
    holding = f"holding: quiet hours 21:00-08:00 Asia/Jakarta until {eight_local.isoformat()}"
    assert [taken.outcome for taken in status.steps if taken.step == "mail"] == [holding]

    await sandbox.sleep_until(eight_local + timedelta(hours=1))
    entries = {e.journey: e for e in await logged(sandbox, "dewi")}
    held = entries["evening"]
    # Sent when the timer fired at 08:00 local (plus the workflow task's real milliseconds).
    assert held.status == "sent"
    assert eight_local <= held.at.astimezone(UTC) < eight_local + timedelta(seconds=1)
    assert held.reason == f"held: quiet hours 21:00-08:00 Asia/Jakarta until {eight_local.isoformat()}"
    assert (entries["evening_skip"].status, entries["evening_skip"].reason) == (
        "skipped",
        "quiet hours 21:00-08:00 Asia/Jakarta",
    )
    assert entries["evening_receipt"].at.astimezone(UTC) < eight_local  # transactional: at once
    assert await received(sandbox, "dewi@example.com") == [
        "Thank you for your first order, Dewi",
        "Welcome aboard, Dewi!",
    ]
    [mail] = [m for m in sandbox.outbox.messages() if m.subject == "Welcome aboard, Dewi!"]
    assert datetime.strptime(str(mail.header("Date")), "%a, %d %b %Y %H:%M:%S %z") == eight_local
    assert (await sandbox.result("evening", "dewi")).outcome == "completed"

    # The hold is a durable timer between two sends with the same key (a run of it is kept as
    # tests/workflows/histories/channel-quiet-hold.json, which test_replay replays with every
    # recorded history: a later change to the hold needs a patch).
    history = await sandbox.handle("evening", "dewi").fetch_history()
    kinds = [event.WhichOneof("attributes") for event in history.events]
    scheduled = [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    ]
    assert scheduled == ["send_email", "send_email"]
    assert kinds.count("timer_started_event_attributes") == 1


CONTROL = """policy: main
control_group: {percent: 5, salt: winter-2026}
"""


def customer(control: ChannelPolicy, inside: bool, prefix: str) -> str:
    return next(f"{prefix}-{n}" for n in range(10_000) if control.in_control_group(f"{prefix}-{n}") == inside)


@pytest_asyncio.fixture(loop_scope="session")
async def controlled(tmp_path: Path) -> AsyncIterator[Sandbox]:
    goal = "goal: {event: purchase_completed, within: 14d}"
    plans = [
        journey("nudge", "signed_up", "welcome", goal=goal),
        journey("thanks", "paid", "first_purchase_thanks", ", class: transactional"),
    ]
    async with Sandbox.open(plans, workdir=tmp_path, policy=policy(CONTROL)) as opened:
        yield opened


async def test_the_global_control_group_gets_no_marketing_email_and_its_conversions_count(
    controlled: Sandbox,
) -> None:
    sandbox = controlled
    control = policy(CONTROL)[0]
    member, other = customer(control, True, "cg"), customer(control, False, "cg")
    for customer_id in (member, other):
        await sandbox.event("signed_up", customer_id, traits=traits(customer_id))
        await sandbox.event("paid", customer_id, {"order_id": f"p-{customer_id}", "total": 5})
    await sandbox.sleep(DAY)
    for customer_id in (member, other):
        await sandbox.event("purchase_completed", customer_id, {"order_id": f"o-{customer_id}", "total": 30})
    results = {customer_id: await sandbox.result("nudge", customer_id) for customer_id in (member, other)}

    # The member: no marketing email, the transactional one still; the other: both.
    assert await received(sandbox, f"{member}@example.com") == [
        f"Thank you for your first order, {member.title()}"
    ]
    assert sorted(await received(sandbox, f"{other}@example.com")) == sorted(
        [f"Welcome aboard, {other.title()}!", f"Thank you for your first order, {other.title()}"]
    )
    skipped = [e for e in await logged(sandbox, member) if e.journey == "nudge"]
    assert [(e.status, e.reason) for e in skipped] == [("skipped", "global control group")]
    # Both runs went on to their goal: the control group's conversion is counted like any other.
    assert results[member].goal_reached and results[other].goal_reached

"""Incrementality against the global control group, over HTTP, on a forecast whose truth the test
knows: customers enter a journey with a goal on the time-skipping server; the control group (by the
policy's salt and percent) gets no marketing email; the test makes every 2nd treated customer and
every 3rd control customer buy inside the goal's window. GET /v1/journeys/nudge/results must count
each side exactly, compare them as ``measurement.significance`` does, and count the withheld sends
as skipped by their reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest_asyncio

from api.app import create_app
from engine.channels.loader import validate_policy_text
from engine.channels.policy import ChannelPolicy
from engine.loader import compile_text
from measurement.significance import compare
from simulate.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[3]
KEY = "incrementality-test-key"
CUSTOMERS = 60
DAY = timedelta(days=1)
POLICY = "policy: main\ncontrol_group: {percent: 20, salt: forecast}\n"
JOURNEY = """
journey: nudge
stage: retention
trigger: {event: signed_up}
entry: once
goal: {event: purchase_completed, within: 14d}
steps:
  - {id: mail, send: {email: welcome}}
  - {id: linger, wait: 20d}
"""


def loaded(text: str) -> ChannelPolicy:
    policy, errors = validate_policy_text(text, "channels.yaml")
    assert policy is not None, errors
    return policy


@pytest_asyncio.fixture(loop_scope="session")
async def forecast(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Sandbox, dict[str, list[str]]]]:
    plan = compile_text(JOURNEY, "nudge.yaml", REPO / "journeys" / "templates")
    policy = loaded(POLICY)
    ids = [f"inc-{n:03d}" for n in range(CUSTOMERS)]
    sides = {
        "control": [cid for cid in ids if policy.in_control_group(cid)],
        "treated": [cid for cid in ids if not policy.in_control_group(cid)],
    }
    async with Sandbox.open(
        [plan], workdir=tmp_path, settings={"api_keys": [KEY]}, policy=(policy, POLICY)
    ) as sandbox:
        for cid in ids:
            await sandbox.event("signed_up", cid, traits={"email": f"{cid}@example.com", "first_name": "C"})
        await sandbox.sleep(2 * DAY)
        for side, every in (("treated", 2), ("control", 3)):
            for cid in sides[side][::every]:
                await sandbox.event("purchase_completed", cid, {"order_id": f"o-{cid}", "total": 20})
        await sandbox.sleep(25 * DAY)  # the runs end (their step records are written by then)
        app = create_app(sandbox.settings, client=sandbox.client, store=sandbox.store, router=sandbox.router)
        headers = {"Authorization": f"Bearer {KEY}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test", headers=headers) as api:
            yield api, sandbox, sides


async def test_control_and_treated_conversions_and_their_comparison(
    forecast: tuple[httpx.AsyncClient, Sandbox, dict[str, list[str]]],
) -> None:
    api, sandbox, sides = forecast
    control, treated = sides["control"], sides["treated"]
    assert 5 <= len(control) <= 20  # 20 % of 60, give or take: both sides have customers
    control_converted, treated_converted = len(control[::3]), len(treated[::2])

    response = await api.get("/v1/journeys/nudge/results")
    assert response.status_code == 200
    body = response.json()
    found = body["incrementality"]
    assert (found["policy"], found["percent"]) == ("main", 20.0)
    assert (found["control"]["customers"], found["control"]["converted"]) == (len(control), control_converted)
    assert (found["treated"]["customers"], found["treated"]["converted"]) == (len(treated), treated_converted)
    assert found["control"]["conversion_rate"] == control_converted / len(control)
    expected = compare(treated_converted, len(treated), control_converted, len(control), alpha=0.05)
    comparison = found["comparison"]
    assert comparison["against"] == "control"
    assert comparison["absolute_uplift"] == expected.absolute_uplift
    assert comparison["p_value"] == expected.p_value
    assert comparison["verdict"] == expected.verdict
    # The withheld emails: skipped, by their reason, on the step and in the totals.
    [mail] = [step for step in body["steps"] if step["step"] == "mail"]
    assert mail["skipped"] == len(control) and mail["delivered"] == len(treated)
    assert mail["skipped_reasons"] == {"global control group": len(control)}
    assert body["totals"]["skipped_reasons"] == {"global control group": len(control)}
    assert body["totals"]["converted"] == control_converted + treated_converted
    received = {recipient for message in sandbox.outbox.messages() for recipient in message.recipients}
    assert received == {f"{cid}@example.com" for cid in treated}

    # A policy without a control group: no incrementality (null), the rest as before.
    plain = "policy: main\n"
    await sandbox.store.channel_policies.deploy(loaded(plain), plain)
    again = (await api.get("/v1/journeys/nudge/results")).json()
    assert again["incrementality"] is None
    assert again["steps"] == body["steps"]

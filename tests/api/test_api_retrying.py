"""Trouble made visible: while the SMTP server is down, the customer view shows the send retrying and
why; once it is back, the email goes out and the step shows it sent."""

from __future__ import annotations

from typing import Any

import httpx

from simulate.sandbox import Sandbox
from tests.api.support import event, eventually


async def _welcome_outcome(api: httpx.AsyncClient, customer_id: str) -> str | None:
    for run in (await api.get(f"/v1/customers/{customer_id}")).json().get("journeys", []):
        for step in run["steps"]:
            if step["step"] == "welcome" and step["outcome"]:
                outcome: str = step["outcome"]
                return outcome
    return None


async def test_a_send_waiting_on_a_down_smtp_server_shows_retrying_with_the_reason(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.outbox.stop()
    try:
        await api.post("/v1/events", json=event("signed_up", "uma", traits={"email": "uma@example.com"}))
        retrying = await eventually(lambda: _welcome_outcome(api, "uma"))
        during = (await api.get("/v1/journeys/onboarding/stats")).json()
    finally:
        sandbox.outbox.start()

    async def sent() -> Any:
        outcome = await _welcome_outcome(api, "uma")
        return outcome if outcome and not outcome.startswith("retrying") else None

    assert retrying.startswith("retrying: ") and "attempt 2" in retrying, retrying
    assert "SMTP server 127.0.0.1" in retrying and "unavailable" in retrying, retrying
    assert (await eventually(sent, seconds=30)).startswith("sent ")
    after = (await api.get("/v1/journeys/onboarding/stats")).json()
    [welcome] = sandbox.outbox.messages()
    assert welcome.recipients == ["uma@example.com"]

    assert during["retrying"] == 1
    assert [(s["retrying"], s["waiting"]) for s in during["steps"] if s["step"] == "welcome"] == [(1, 1)]
    assert after["retrying"] == 0

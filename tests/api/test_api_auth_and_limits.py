"""API keys, body size limits, health, readiness and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from simulate.sandbox import Sandbox
from tests.api.conftest import MAX_BODY
from tests.api.support import event


async def test_a_missing_or_wrong_key_gets_401_and_no_detail(anonymous: httpx.AsyncClient) -> None:
    missing = await anonymous.post("/v1/events", json=event("signed_up", "x"))
    wrong = await anonymous.get("/v1/journeys", headers={"Authorization": "Bearer not-a-key"})
    basic = await anonymous.get("/v1/journeys", headers={"Authorization": "Basic dGVzdDp0ZXN0"})

    for response in (missing, wrong, basic):
        assert response.status_code == 401
        assert response.json() == {"detail": "unauthorized"}
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_any_configured_key_is_accepted(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/v1/journeys", headers={"Authorization": "Bearer second-key"})
    assert response.status_code == 200


async def test_a_huge_body_gets_413_by_content_length(api: httpx.AsyncClient) -> None:
    payload = event("signed_up", "big", properties={"blob": "x" * (MAX_BODY + 1)})
    response = await api.post("/v1/events", json=payload)
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


async def test_a_huge_streamed_body_without_content_length_gets_413(api: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"event_id": "e", "customer_id": "c", "name": "n", "properties": {"blob": "'
        for _ in range(MAX_BODY // 1000 + 1):
            yield b"x" * 1000
        yield b'"}}'

    response = await api.post("/v1/events", content=chunks(), headers={"Content-Type": "application/json"})

    assert response.status_code == 413


async def test_health_readiness_and_metrics(api: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    await api.post("/v1/events", json=event("signed_up", "metered", traits={"email": "m@example.com"}))
    await anonymous.post("/v1/events", json=event("signed_up", "metered"))

    assert (await anonymous.get("/healthz")).json() == {"status": "ok"}
    ready = await anonymous.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"temporal": "ok", "store": "ok", "smtp": "ok"}}
    metrics = (await anonymous.get("/metrics")).text
    assert 'journeys_events_accepted_total{outcome="new"} 1.0' in metrics
    assert 'journeys_events_rejected_total{status="401"} 1.0' in metrics
    assert 'journeys_started_total{journey="onboarding"} 1.0' in metrics
    assert (
        'journeys_http_request_duration_seconds_count{method="POST",route="/v1/events",status="202"} 1.0'
        in metrics
    )


async def test_readiness_is_degraded_not_down_while_only_smtp_is_unreachable(
    anonymous: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.outbox.stop()
    try:
        ready = await anonymous.get("/readyz")
    finally:
        sandbox.outbox.start()
    back = await anonymous.get("/readyz")

    assert ready.status_code == 200
    assert ready.json() == {
        "status": "degraded",
        "checks": {"temporal": "ok", "store": "ok", "smtp": "unreachable: ConnectionRefusedError"},
    }
    assert back.json()["status"] == "ready"

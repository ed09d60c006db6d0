"""Event ingestion over HTTP, on real Temporal (time-skipping), the real store and SMTP outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.app import create_app
from ingest.router import EventRouter
from simulate.sandbox import Sandbox, free_port
from tests.api.support import at_step, event, eventually

ADA = {"email": "ada@example.com", "first_name": "Ada"}


async def test_signed_up_starts_onboarding_and_the_welcome_email_arrives(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    response = await api.post("/v1/events", json=event("signed_up", "ada", traits=ADA))

    assert response.status_code == 202
    body = response.json()
    assert body["duplicate"] is False
    assert body["started"] == ["onboarding"]
    welcome = await eventually(
        lambda: _first([m for m in sandbox.outbox.messages() if "ada@example.com" in m.recipients])
    )
    assert welcome.subject == "Welcome aboard, Ada!"
    await eventually(lambda: at_step(api, "ada", "onboarding", "wait_profile"))


async def test_a_repeated_event_id_changes_nothing(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    payload = event("signed_up", "bob", traits={"email": "bob@example.com", "first_name": "Bob"})
    first = await api.post("/v1/events", json=payload)
    await eventually(lambda: at_step(api, "bob", "onboarding", "wait_profile"))
    await eventually(lambda: _first(sandbox.outbox.messages()))
    points_before = (await api.get("/v1/customers/bob/points")).json()

    again = await api.post("/v1/events", json={**payload, "traits": {"first_name": "Robert"}})

    assert first.json()["started"] == ["onboarding"]
    assert again.status_code == 202
    assert again.json() == {
        "event_id": payload["event_id"],
        "duplicate": True,
        "started": [],
        "signalled": [],
        "skipped": [],
    }
    customer = (await api.get("/v1/customers/bob")).json()
    assert customer["first_name"] == "Bob"  # the repeat's traits were not applied
    assert (await api.get("/v1/customers/bob/points")).json() == points_before
    assert len(sandbox.outbox.messages()) == 1


async def test_a_repeat_while_the_first_attempt_is_delivering_is_told_to_retry(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    payload = event("signed_up", "cleo", traits={"email": "cleo@example.com", "first_name": "Cleo"})
    # Another API replica has claimed this event id and is delivering it right now.
    claim = [(payload["event_id"], "cleo", "signed_up", None)]
    assert await sandbox.store.events.claim(claim, stale_after=timedelta(minutes=2)) == {
        payload["event_id"]: "new"
    }

    busy = await api.post("/v1/events", json=payload)
    assert busy.status_code == 409
    assert busy.headers["Retry-After"] == "1"

    await sandbox.store.events.release(payload["event_id"])  # that attempt failed: nothing acknowledged
    retried = await api.post("/v1/events", json=payload)
    assert retried.status_code == 202 and retried.json()["started"] == ["onboarding"]


async def test_an_unsubscribed_event_ends_the_journey_mid_wait(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await api.post("/v1/events", json=event("signed_up", "cleo", traits={"email": "cleo@example.com"}))
    await eventually(lambda: at_step(api, "cleo", "onboarding", "wait_profile"))

    response = await api.post("/v1/events", json=event("unsubscribed", "cleo"))

    assert response.status_code == 202
    assert "onboarding" in response.json()["signalled"]
    result = await sandbox.result("onboarding", "cleo")
    assert (result.outcome, result.reason) == ("exited", "unsubscribed received")
    customer = (await api.get("/v1/customers/cleo")).json()
    assert customer["subscribed"] is False
    assert customer["journeys"] == []


async def test_a_batch_routes_every_event_in_order_per_customer(api: httpx.AsyncClient) -> None:
    events = [event("signed_up", f"batch-{n}", traits={"email": f"b{n}@example.com"}) for n in range(5)]
    events.append(event("profile_completed", "batch-0"))
    events.append(events[1])  # a repeat inside the batch

    response = await api.post("/v1/events/batch", json={"events": events})

    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (6, 1)
    assert [r["event_id"] for r in body["results"]] == [e["event_id"] for e in events]
    assert all(r["started"] == ["onboarding"] for r in body["results"][:5])
    assert body["results"][6]["duplicate"] is True


async def test_a_batch_over_1000_events_is_refused(api: httpx.AsyncClient) -> None:
    one = event("page_viewed", "x")
    response = await api.post("/v1/events/batch", json={"events": [one] * 1001})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body.events"


async def test_a_bad_payload_gets_422_with_every_field_path(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/events/batch",
        json={
            "events": [event("signed_up", "ok"), {"event_id": "e2", "customer_id": "", "name": "Signed Up!"}]
        },
    )

    assert response.status_code == 422
    paths = {problem["path"] for problem in response.json()["errors"]}
    assert paths == {"body.events[1].customer_id", "body.events[1].name"}


async def test_malformed_json_gets_422(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/events", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "json_invalid"


async def test_temporal_down_gets_503_with_retry_after_and_the_event_is_not_acknowledged(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    unreachable = await Client.connect(
        f"127.0.0.1:{free_port()}", lazy=True, data_converter=pydantic_data_converter
    )
    router = EventRouter(unreachable, sandbox.store, sandbox.settings.task_queue)
    down = create_app(sandbox.settings, client=unreachable, store=sandbox.store, router=router)
    payload = event("signed_up", "dora", traits={"email": "dora@example.com"})

    async with down.router.lifespan_context(down):
        transport = httpx.ASGITransport(app=down)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api.test", headers=api.headers
        ) as client:
            response = await client.post("/v1/events", json=payload)
            ready = await client.get("/readyz")

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert ready.status_code == 503
    assert ready.json()["checks"]["store"] == "ok"
    retried = await api.post("/v1/events", json=payload)  # not acknowledged: the retry delivers it
    assert retried.json()["started"] == ["onboarding"]


async def _first(items: list[Any]) -> Any:
    return items[0] if items else None

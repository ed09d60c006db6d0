"""Customers and points over HTTP: merge traits, journeys in flight, forget, redeem."""

from __future__ import annotations

import httpx

from simulate.sandbox import Sandbox
from tests.api.support import at_step, event, eventually


async def test_put_merges_traits_and_get_reads_them_back(api: httpx.AsyncClient) -> None:
    created = await api.put("/v1/customers/eve", json={"email": "eve@example.com", "plan": "pro"})
    merged = await api.put("/v1/customers/eve", json={"first_name": "Eve", "timezone": "Asia/Jakarta"})

    assert created.status_code == merged.status_code == 200
    customer = (await api.get("/v1/customers/eve")).json()
    assert customer["email"] == "eve@example.com"
    assert customer["first_name"] == "Eve"
    assert customer["timezone"] == "Asia/Jakarta"
    assert customer["traits"] == {"plan": "pro"}
    assert customer["subscribed"] is True
    assert customer["journeys"] == []


async def test_bad_traits_get_422_with_their_paths(api: httpx.AsyncClient) -> None:
    response = await api.put(
        "/v1/customers/eve", json={"email": "not-an-address", "timezone": "Mars/Olympus"}
    )
    assert response.status_code == 422
    assert {p["path"] for p in response.json()["errors"]} == {"body.email", "body.timezone"}


async def test_an_unknown_customer_gets_404(api: httpx.AsyncClient) -> None:
    for response in (
        await api.get("/v1/customers/nobody"),
        await api.get("/v1/customers/nobody/points"),
        await api.delete("/v1/customers/nobody"),
        await api.post("/v1/customers/nobody/points/redeem", json={"key": "k", "points": 1, "reason": "r"}),
    ):
        assert response.status_code == 404
        assert "nobody" in response.json()["detail"]


async def test_get_shows_journeys_in_flight_with_their_step(api: httpx.AsyncClient) -> None:
    await api.post("/v1/events", json=event("signed_up", "finn", traits={"email": "finn@example.com"}))
    await eventually(lambda: at_step(api, "finn", "onboarding", "wait_profile"))

    customer = (await api.get("/v1/customers/finn")).json()

    [run] = customer["journeys"]
    assert run["workflow_id"] == "journey/onboarding/finn"
    assert run["current_step"] == "wait_profile"
    assert [step["step"] for step in run["steps"]][:3] == ["joined", "welcome", "signup_bonus"]
    assert customer["points"] == 100
    assert customer["stage"] == "acquisition"


async def test_delete_ends_journeys_and_forgets_the_customer(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await api.post("/v1/events", json=event("signed_up", "gus", traits={"email": "gus@example.com"}))
    await eventually(lambda: at_step(api, "gus", "onboarding", "wait_profile"))

    response = await api.delete("/v1/customers/gus")

    assert response.status_code == 200
    assert response.json() == {"customer_id": "gus", "journeys_ended": ["onboarding"]}
    assert (await api.get("/v1/customers/gus")).status_code == 404
    description = await sandbox.handle("onboarding", "gus").describe()
    assert description.status is not None and description.status.name == "TERMINATED"
    stats = await sandbox.store.steps.stats("onboarding")
    assert stats.active == 0  # the terminated run is no longer counted in flight
    assert stats.steps["wait_profile"].waiting == 0


async def test_points_redeem_refuses_to_overdraw_and_is_idempotent(api: httpx.AsyncClient) -> None:
    await api.post("/v1/events", json=event("signed_up", "hana", traits={"email": "hana@example.com"}))
    await eventually(lambda: _balance(api, "hana"))  # the sign-up bonus: 100 points

    overdraw = await api.post(
        "/v1/customers/hana/points/redeem", json={"key": "r-1", "points": 500, "reason": "Gift card"}
    )
    spent = await api.post(
        "/v1/customers/hana/points/redeem", json={"key": "r-2", "points": 30, "reason": "Mug"}
    )
    again = await api.post(
        "/v1/customers/hana/points/redeem", json={"key": "r-2", "points": 30, "reason": "Mug"}
    )

    assert overdraw.status_code == 409
    assert overdraw.json()["balance"] == 100 and overdraw.json()["requested"] == 500
    assert spent.status_code == again.status_code == 200
    assert spent.json()["balance"] == again.json()["balance"] == 70
    points = (await api.get("/v1/customers/hana/points")).json()
    assert points["balance"] == 70
    assert [(e["delta"], e["reason"]) for e in points["ledger"]] == [(100, "Sign-up bonus"), (-30, "Mug")]


async def test_a_redeem_of_zero_points_gets_422(api: httpx.AsyncClient) -> None:
    await api.put("/v1/customers/ivy", json={})
    response = await api.post(
        "/v1/customers/ivy/points/redeem", json={"key": "k", "points": 0, "reason": "r"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body.points"


async def _balance(api: httpx.AsyncClient, customer_id: str) -> int:
    response = await api.get(f"/v1/customers/{customer_id}/points")
    return int(response.json()["balance"]) if response.status_code == 200 else 0

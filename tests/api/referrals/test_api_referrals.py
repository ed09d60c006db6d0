"""Referral codes, referrals, challenge progress and leaderboards over HTTP."""

from __future__ import annotations

import httpx

from simulate.sandbox import Sandbox
from store import challenges, leaderboards, referrals
from store.types import utcnow
from tests.store.referrals.programs import PROGRAM, event, program

LOADED = program()


async def deploy(sandbox: Sandbox) -> None:
    await sandbox.store.loyalty_programs.deploy(LOADED, PROGRAM)


async def apply(sandbox: Sandbox, customer_id: str, name: str, event_id: str, **properties: object) -> None:
    now = utcnow()
    happened = event(event_id, customer_id, name, now, **properties)
    async with sandbox.store.engine.begin() as conn:
        for feature in (referrals, challenges):
            await feature.on_event(conn, LOADED, customer_id, happened, now)


async def test_code_referees_and_refusals(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await deploy(sandbox)
    for who in ("ada", "bob", "cy"):
        assert (
            await api.put(f"/v1/customers/{who}", json={"email": f"{who}@example.com"})
        ).status_code == 200
    first = await api.get("/v1/customers/ada/referral-code")
    again = await api.get("/v1/customers/ada/referral-code")
    assert first.status_code == 200 and first.json() == again.json()
    code = first.json()["code"]
    assert len(code) == 9
    await apply(sandbox, "bob", "signed_up", "s-bob", referral_code=code.lower())
    await apply(sandbox, "bob", "purchase_completed", "p-bob", total=5000)
    await apply(sandbox, "ada", "signed_up", "s-ada", referral_code=code)
    await apply(sandbox, "cy", "signed_up", "s-cy", referral_code="NOSUCHCOD")
    body = (await api.get("/v1/customers/ada/referrals")).json()
    assert body["code"] == code and body["referred_by"] is None
    assert [(r["customer_id"], r["status"]) for r in body["referees"]] == [("bob", "qualified")]
    assert [(a["referee_id"], a["reason"]) for a in body["refused"]] == [("ada", "self_referral")]
    assert (await api.get("/v1/customers/bob/referrals")).json()["referred_by"] == "ada"
    points = (await api.get("/v1/customers/ada/points")).json()
    assert points["balance"] == 500


async def test_challenge_progress(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await api.put("/v1/customers/ada", json={"email": "ada@example.com"})
    assert (await api.get("/v1/customers/ada/challenges")).json() == {"customer_id": "ada", "challenges": []}
    await deploy(sandbox)
    await apply(sandbox, "ada", "purchase_completed", "p1", total=10)
    found = {c["challenge"]: c for c in (await api.get("/v1/customers/ada/challenges")).json()["challenges"]}
    assert (found["three_in_thirty"]["count"], found["three_in_thirty"]["needed"]) == (1, 3)
    assert found["three_in_thirty"]["status"] == "open"
    assert found["big_spender"]["status"] is None


async def test_leaderboards_with_ties_and_opt_out(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    assert (await api.get("/v1/leaderboards")).json() == {"leaderboards": []}
    assert (await api.get("/v1/leaderboards/weekly")).status_code == 404
    await deploy(sandbox)
    listed = (await api.get("/v1/leaderboards")).json()["leaderboards"]
    assert [(b["id"], b["period"], b["top"]) for b in listed] == [
        ("weekly", "week", 3),
        ("monthly", "month", 10),
    ]
    now = utcnow()
    async with sandbox.store.engine.begin() as conn:
        for who, points in (("ada", 30), ("bob", 30), ("cy", 10), ("dee", 40)):
            await leaderboards.add_period_points(conn, who, points, now)
    for who in ("ada", "bob", "cy", "dee"):
        await api.put(f"/v1/customers/{who}", json={})
    board = (await api.get("/v1/leaderboards/weekly", params={"top": 10})).json()
    assert [(s["rank"], s["customer_id"], s["points"]) for s in board["standings"]] == [
        (1, "dee", 40),
        (2, "ada", 30),
        (2, "bob", 30),
        (4, "cy", 10),
    ]
    assert board["period"] == leaderboards.period_key("week", now)
    opted = await api.put("/v1/customers/dee/leaderboard-opt-out", json={"opt_out": True})
    assert opted.status_code == 200 and opted.json() == {"customer_id": "dee", "opt_out": True}
    board = (await api.get("/v1/leaderboards/weekly")).json()
    assert [(s["rank"], s["customer_id"]) for s in board["standings"]] == [(1, "ada"), (1, "bob"), (3, "cy")]
    previous = (await api.get("/v1/leaderboards/monthly", params={"period": "previous"})).json()
    assert previous["standings"] == []


async def test_bad_input_gets_a_clear_4xx(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await deploy(sandbox)
    await api.put("/v1/customers/ada", json={})
    for path in ("referral-code", "referrals", "challenges"):
        assert (await api.get(f"/v1/customers/nobody/{path}")).status_code == 404
    assert (
        await api.put("/v1/customers/nobody/leaderboard-opt-out", json={"opt_out": True})
    ).status_code == 404
    unknown = await api.get("/v1/leaderboards/nope")
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
    checks = {
        "/v1/leaderboards/weekly?period=last": "query.period",
        "/v1/leaderboards/weekly?top=0": "query.top",
        "/v1/leaderboards/weekly?top=1001": "query.top",
        "/v1/leaderboards/Not-A-Board": "path.board_id",
    }
    for url, where in checks.items():
        response = await api.get(url)
        assert response.status_code == 422, url
        assert [p["path"] for p in response.json()["errors"]] == [where], url
    for body in ({}, {"opt_out": "maybe"}, {"opt_out": True, "extra": 1}):
        response = await api.put("/v1/customers/ada/leaderboard-opt-out", json=body)
        assert response.status_code == 422, body


async def test_the_routes_need_a_key(anonymous: httpx.AsyncClient) -> None:
    for url in ("/v1/leaderboards", "/v1/leaderboards/weekly", "/v1/customers/ada/referral-code"):
        assert (await anonymous.get(url)).status_code == 401

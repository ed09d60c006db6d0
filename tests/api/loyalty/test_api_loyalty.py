"""The loyalty routes over HTTP: the program, the catalog, redeeming (200, 409 with the reason, 404,
the idempotent repeat, concurrent redemptions), the wallet, the ledger's pages, voucher uploads."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import sqlalchemy as sa

from engine.loyalty.loader import load_program
from simulate.sandbox import Sandbox
from store.tables import processed_events
from tests.api.conftest import JOURNEYS_DIR
from tests.store.rewards.programs import PROGRAM_TEXT, program

LOADED = program()
YAML = {"Content-Type": "application/yaml"}


async def deploy(sandbox: Sandbox) -> None:
    await sandbox.store.loyalty_programs.deploy(LOADED, PROGRAM_TEXT)


async def member(api: httpx.AsyncClient, sandbox: Sandbox, customer_id: str, points: int) -> None:
    assert (
        await api.put(f"/v1/customers/{customer_id}", json={"email": f"{customer_id}@example.com"})
    ).is_success
    if points:
        await sandbox.store.points.award(f"grant/{customer_id}", customer_id, points, "Grant")


def redeem(
    api: httpx.AsyncClient, customer_id: str, reward_id: str, key: str
) -> asyncio.Future[httpx.Response]:
    return asyncio.ensure_future(
        api.post(f"/v1/customers/{customer_id}/rewards/{reward_id}/redeem", json={"key": key})
    )


async def test_the_program_is_read_and_deployed(api: httpx.AsyncClient) -> None:
    assert (await api.get("/v1/loyalty/program")).status_code == 404
    assert (await api.get("/v1/loyalty/rewards")).json() == []
    text = (JOURNEYS_DIR / "loyalty.yaml").read_text("utf-8")
    first = await api.put("/v1/loyalty/program", content=text, headers=YAML)
    again = await api.put("/v1/loyalty/program", content=text, headers=YAML)
    assert first.status_code == 200 and first.json()["new"] is True and again.json()["new"] is False
    body = (await api.get("/v1/loyalty/program")).json()
    assert (body["program"], body["version"], body["source"]) == ("rewards", first.json()["version"], text)
    example = load_program(JOURNEYS_DIR / "loyalty.yaml")
    assert [tier["name"] for tier in body["tiers"]] == [tier.name for tier in example.source.tiers.levels]
    assert body["definition"] == example.source.model_dump(mode="json")
    broken = await api.put("/v1/loyalty/program", content=text + "\nrewardz: []\n", headers=YAML)
    assert broken.status_code == 422
    [error] = broken.json()["errors"]
    assert (error["file"], error["path"]) == ("loyalty.yaml", "rewardz") and error["line"] > 1
    assert 'did you mean "rewards"?' in error["message"]
    assert (await api.get("/v1/loyalty/program")).json()["version"] == first.json()["version"]


async def test_redeem_answers_the_voucher_then_the_same_again(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await deploy(sandbox)
    await member(api, sandbox, "ada", 250)
    first = await redeem(api, "ada", "coffee", "order-1")
    again = await redeem(api, "ada", "coffee", "order-1")
    assert first.status_code == 200 == again.status_code, first.text
    body = first.json()
    assert (body["reward"], body["cost"], body["balance"], body["duplicate"]) == ("coffee", 100, 150, False)
    assert body["voucher"].startswith("COFFEE-")
    assert again.json() == {**body, "duplicate": True}
    async with sandbox.store.engine.connect() as conn:
        sent = await conn.scalar(
            sa.select(processed_events.c.name).where(
                processed_events.c.event_id == "loyalty/reward_redeemed/reward/ada/order-1"
            )
        )
    assert sent == "reward_redeemed"
    wallet = (await api.get("/v1/customers/ada/wallet")).json()
    assert (wallet["available"], wallet["lifetime"], wallet["tier"], wallet["next_tier"]) == (
        150,
        250,
        "member",
        "gold",
    )
    assert [entry["delta"] for entry in (await api.get("/v1/customers/ada/ledger")).json()["entries"]] == [
        -100,
        250,
    ]


async def test_refusals_are_409_with_the_reason_or_404(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await deploy(sandbox)
    await member(api, sandbox, "bo", 50)
    points = await redeem(api, "bo", "coffee", "k1")
    assert points.status_code == 409
    assert points.json() == {
        "detail": "coffee costs 100 points and the customer has 50",
        "reason": "points",
        "balance": 50,
        "cost": 100,
    }
    await sandbox.store.points.award("grant2/bo", "bo", 2000, "Grant")
    tier = await redeem(api, "bo", "dinner", "k2")
    assert (tier.status_code, tier.json()["reason"], tier.json()["required_tier"]) == (409, "tier", "gold")
    for _ in range(2):
        assert (await redeem(api, "bo", "coffee", f"c{_}")).status_code == 200
    limit = await redeem(api, "bo", "coffee", "c2")
    assert (limit.status_code, limit.json()["reason"], limit.json()["limit"]) == (409, "limit", 2)
    pool = await redeem(api, "bo", "ticket", "t1")
    assert (pool.status_code, pool.json()["reason"]) == (409, "pool_empty")
    assert (await redeem(api, "bo", "yacht", "y")).status_code == 404
    assert (await redeem(api, "nobody", "coffee", "n")).status_code == 404
    assert (await api.post("/v1/customers/bo/rewards/coffee/redeem", json={})).status_code == 422
    assert (await api.post("/v1/customers/bo/rewards/Bad-Id/redeem", json={"key": "x"})).status_code == 422
    assert (await api.get("/v1/customers/bo/wallet")).json()["available"] == 1850


async def test_two_redemptions_over_the_balance_at_once_one_is_409(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await deploy(sandbox)
    await member(api, sandbox, "cy", 150)
    answers = await asyncio.gather(redeem(api, "cy", "coffee", "a"), redeem(api, "cy", "tote", "b"))
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    refused = next(answer for answer in answers if answer.status_code == 409)
    assert refused.json()["reason"] == "points"
    assert (await api.get("/v1/customers/cy/wallet")).json()["available"] == 50


async def test_two_redemptions_of_the_last_in_stock_at_once_one_is_409(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await deploy(sandbox)
    await member(api, sandbox, "dee", 500)
    await member(api, sandbox, "eve", 500)
    answers = await asyncio.gather(redeem(api, "dee", "tote", "t"), redeem(api, "eve", "tote", "t"))
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    refused = next(answer for answer in answers if answer.status_code == 409)
    assert (refused.json()["reason"], refused.json()["stock"], refused.json()["redeemed"]) == ("stock", 1, 1)
    tote = next(item for item in (await api.get("/v1/loyalty/rewards")).json() if item["id"] == "tote")
    assert (tote["stock"], tote["stock_left"], tote["redeemed"]) == (1, 0, 1)


async def test_the_ledger_pages_and_its_bounds(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await deploy(sandbox)
    await member(api, sandbox, "fay", 0)
    for n in range(5):
        await sandbox.store.points.award(f"g{n}/fay", "fay", n + 1, "Grant")
    first = (await api.get("/v1/customers/fay/ledger", params={"limit": 2})).json()
    second = (await api.get("/v1/customers/fay/ledger", params={"limit": 2, "after": first["next"]})).json()
    third = (await api.get("/v1/customers/fay/ledger", params={"limit": 2, "after": second["next"]})).json()
    assert [[e["delta"] for e in page["entries"]] for page in (first, second, third)] == [[5, 4], [3, 2], [1]]
    assert third["next"] is None
    for params in ({"limit": 0}, {"limit": 201}, {"after": 0}, {"after": "x"}):
        assert (await api.get("/v1/customers/fay/ledger", params=params)).status_code == 422, params
    assert (await api.get("/v1/customers/nobody/ledger")).status_code == 404
    assert (await api.get("/v1/customers/nobody/wallet")).status_code == 404


async def test_voucher_pools_are_uploaded_used_and_run_out(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await deploy(sandbox)
    await member(api, sandbox, "gil", 100)
    url = "/v1/loyalty/rewards/ticket/vouchers"
    added = await api.post(url, json={"codes": ["TICKET-0001", "TICKET-0002", "TICKET-0001"]})
    assert added.json() == {
        "reward": "ticket",
        "added": 2,
        "duplicates": ["TICKET-0001"],
        "pool_available": 2,
    }
    assert (await api.post(url, json={"codes": ["TICKET-0002"]})).json()["duplicates"] == ["TICKET-0002"]
    codes = [(await redeem(api, "gil", "ticket", f"k{n}")).json()["voucher"] for n in range(2)]
    assert codes == ["TICKET-0001", "TICKET-0002"]
    assert (await redeem(api, "gil", "ticket", "k3")).json()["reason"] == "pool_empty"
    assert (
        await api.post("/v1/loyalty/rewards/coffee/vouchers", json={"codes": ["ABCD"]})
    ).status_code == 409
    assert (await api.post("/v1/loyalty/rewards/yacht/vouchers", json={"codes": ["ABCD"]})).status_code == 404
    for codes_sent in ([], ["no"], ["has space"], ["-lead"], ["X" * 65], ["A1B2"] * 1_001):
        answer = await api.post(url, json={"codes": codes_sent})
        assert answer.status_code in (413, 422), (codes_sent[:2], answer.status_code)


async def test_a_viewer_may_read_but_not_redeem(app: object, sandbox: Sandbox, tmp_path: Path) -> None:
    from tests.api.conftest import VIEWER_KEY, http_client

    await deploy(sandbox)
    async with http_client(app, {"Authorization": f"Bearer {VIEWER_KEY}"}) as viewer:  # type: ignore[arg-type]
        assert (await viewer.get("/v1/loyalty/rewards")).status_code == 200
        answer = await viewer.post("/v1/customers/ada/rewards/coffee/redeem", json={"key": "k"})
        assert answer.status_code == 403

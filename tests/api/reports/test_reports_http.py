"""Lifecycle, CLV and acquisition over HTTP on data the test writes through the store (customers at
known times, stage changes through ``set_stage``, purchases through the intake), SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest_asyncio

from api.app import create_app
from config.settings import Settings
from store import Store
from store.customers import ensure_customer
from store.events import Claim

KEY = "reports-key"


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest_asyncio.fixture(loop_scope="session")
async def api(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(_env_file=None, api_keys=[KEY]), store=store)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test", headers=headers) as client:
        yield client


async def write_customers(store: Store) -> None:
    created = {"a": "2026-02-27", "b": "2026-03-01", "c": "2026-03-03", "d": "2026-03-02", "e": "2026-03-06"}
    async with store.engine.begin() as conn:
        for cid, day in created.items():
            await ensure_customer(conn, cid, at(day, 8))
    for cid, source in {"a": "ads", "b": "ads", "c": "newsletter", "e": "newsletter"}.items():
        await store.customers.upsert(cid, {"utm_source": source})
    for cid, stage, day in [
        ("a", "acquisition", "2026-02-28"),
        ("b", "acquisition", "2026-03-02"),
        ("d", "acquisition", "2026-03-02"),
        ("a", "acquisition", "2026-03-03"),  # already there: no change
        ("b", "conversion", "2026-03-04"),
        ("d", "at_risk", "2026-03-05"),
    ]:
        await store.customers.set_stage(cid, stage, at=at(day))
    purchases = [("a", 10.00), ("a", 5.50), ("b", 20.25), ("d", 7.00), ("e", 3.10)]
    claims = [
        Claim(f"p{n}", cid, "purchase_completed", at("2026-03-07"), properties={"total": amount})
        for n, (cid, amount) in enumerate(purchases)
    ]
    claims.append(
        Claim("v1", "c", "page_viewed", at("2026-03-07"), properties={"total": 99.0})
    )  # not a purchase
    await store.events.intake(claims, stale_after=timedelta(minutes=2))
    await store.events.intake(claims[:1], stale_after=timedelta(minutes=2))  # claimed again: counted once


async def test_lifecycle_per_day_and_transitions(store: Store, api: httpx.AsyncClient) -> None:
    await write_customers(store)
    response = await api.get("/v1/reports/lifecycle", params={"from": "2026-03-01", "to": "2026-03-05"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["first_day"] == "2026-03-01" and body["last_day"] == "2026-03-05"
    assert body["stages"][:2] == ["reach", "acquisition"]
    days = {day["date"]: {k: v for k, v in day["stages"].items() if v} for day in body["days"]}
    assert days == {
        "2026-03-01": {"reach": 1, "acquisition": 1},
        "2026-03-02": {"acquisition": 3},
        "2026-03-03": {"reach": 1, "acquisition": 3},
        "2026-03-04": {"reach": 1, "acquisition": 2, "conversion": 1},
        "2026-03-05": {"reach": 1, "acquisition": 1, "conversion": 1, "at_risk": 1},
    }
    transitions = {(t["from_stage"], t["to_stage"]): t["changes"] for t in body["transitions"]}
    assert transitions == {
        ("reach", "acquisition"): 2,
        ("acquisition", "conversion"): 1,
        ("acquisition", "at_risk"): 1,
    }
    await store.customers.forget("d")  # erased: gone from the history too
    after = (await api.get("/v1/reports/lifecycle", params={"from": "2026-03-05", "to": "2026-03-05"})).json()
    assert {k: v for k, v in after["days"][0]["stages"].items() if v} == {
        "reach": 1,
        "acquisition": 1,
        "conversion": 1,
    }


async def test_lifecycle_ranges_are_bounded(api: httpx.AsyncClient) -> None:
    for params in (
        {"from": "2026-03-05", "to": "2026-03-01"},
        {"from": "2025-01-01", "to": "2026-01-02"},
        {"from": "yesterday"},
        {"to": "2026-02-30"},
    ):
        for path in ("/v1/reports/lifecycle", "/v1/reports/acquisition"):
            response = await api.get(path, params=params)
            assert response.status_code == 422, (path, params, response.text)
            assert response.headers["content-type"].startswith("application/problem+json") or response.json()
    full_year = await api.get("/v1/reports/lifecycle", params={"from": "2025-03-01", "to": "2026-03-01"})
    assert full_year.status_code == 200 and len(full_year.json()["days"]) == 366
    default = (await api.get("/v1/reports/lifecycle")).json()
    assert len(default["days"]) == 30 and default["last_day"] == datetime.now(UTC).date().isoformat()


async def test_clv_overall_by_source_and_pages(store: Store, api: httpx.AsyncClient) -> None:
    await write_customers(store)
    body = (await api.get("/v1/reports/clv", params={"limit": 2})).json()
    assert body["overall"] == {
        "source": None,
        "customers": 5,
        "purchasers": 4,
        "purchases": 5,
        "revenue": 45.85,
        "average_per_customer": 9.17,
        "average_per_purchaser": 11.46,
    }
    by_source = [
        (s["source"], s["customers"], s["purchasers"], s["purchases"], s["revenue"])
        for s in body["by_source"]
    ]
    assert by_source == [("ads", 2, 2, 3, 35.75), (None, 1, 1, 1, 7.0), ("newsletter", 2, 1, 1, 3.1)]
    assert body["more_sources"] is False
    assert [(c["customer_id"], c["revenue"], c["purchases"]) for c in body["customers"]] == [
        ("b", 20.25, 1),
        ("a", 15.5, 2),
    ]
    assert body["next_offset"] == 2
    last = (await api.get("/v1/reports/clv", params={"limit": 2, "offset": 4})).json()
    assert [c["customer_id"] for c in last["customers"]] == ["c"] and last["next_offset"] is None
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}):
        assert (await api.get("/v1/reports/clv", params=params)).status_code == 422


async def test_acquisition_by_source(store: Store, api: httpx.AsyncClient) -> None:
    await write_customers(store)
    body = (
        await api.get("/v1/reports/acquisition", params={"from": "2026-03-01", "to": "2026-03-05"})
    ).json()
    assert body["total"] == {"source": None, "signups": 3, "purchasers": 2, "purchaser_share": 2 / 3}
    found = {s["source"]: (s["signups"], s["purchasers"], s["purchaser_share"]) for s in body["by_source"]}
    assert found == {"ads": (1, 1, 1.0), "newsletter": (1, 0, 0.0), None: (1, 1, 1.0)}
    empty = (
        await api.get("/v1/reports/acquisition", params={"from": "2026-04-01", "to": "2026-04-02"})
    ).json()
    assert (
        empty["total"]["signups"] == 0
        and empty["total"]["purchaser_share"] == 0.0
        and empty["by_source"] == []
    )
    assert date.fromisoformat(empty["first_day"]) == date(2026, 4, 1)

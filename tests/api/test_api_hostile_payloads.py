"""Hostile payloads: timestamps out of bounds or not date-times, data nested too deep or too large,
traits that PUT /v1/customers would refuse, bodies that are not JSON; each gets 422 naming its
path before anything is stored. And a customer stored before these bounds still reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from contracts.events import DATA_MAX_BYTES, DATA_MAX_DEPTH, DATA_MAX_KEYS
from simulate.sandbox import Sandbox
from tests.api.support import event

YAML = {"Content-Type": "application/yaml"}
COOLDOWN_JOURNEY = """\
journey: comeback
description: re-enters at most every 12 hours
stage: retention
trigger: {event: came_back}
entry: {cooldown: 12h}
steps:
  - {id: mark, set_stage: retention}
"""


def problems(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return [(p["path"], p["type"]) for p in response.json()["errors"]]


def nested(depth: int) -> dict[str, Any]:
    """``{"a": {"a": ... {}}}`` with ``depth`` objects in all (iteratively: 900 is fine)."""
    root: dict[str, Any] = {}
    inner = root
    for _ in range(depth - 1):
        inner["a"] = {}
        inner = inner["a"]
    return root


def at(now: datetime, **delta: float) -> str:
    return (now + timedelta(**delta)).isoformat()


# ------------------------------------------------------------------ timestamps


@pytest.mark.parametrize(
    ("timestamp", "kind"),
    [
        ("9999-12-31T23:59:59-14:00", "timestamp_out_of_window"),  # answered 500 (SQL overflow) before
        ("0001-01-01T00:00:00Z", "timestamp_out_of_window"),
        (0, "datetime_format"),
        (1767225600, "datetime_format"),
        ("1767225600", "datetime_format"),
        ("2026-05-01", "datetime_format"),
        ("2026-05-01T10:00:00", "datetime_format"),  # no time zone
        ("yesterday", "datetime_format"),
        (True, "datetime_format"),
    ],
)
async def test_a_timestamp_that_is_no_date_time_in_the_window_gets_422(
    api: httpx.AsyncClient, sandbox: Sandbox, timestamp: Any, kind: str
) -> None:
    response = await api.post("/v1/events", json=event("signed_up", "tim", timestamp=timestamp))

    assert problems(response) == [("body.timestamp", kind)]
    assert await sandbox.store.customers.get("tim") is None


async def test_the_window_is_a_year_back_and_a_day_ahead_of_the_server_clock(api: httpx.AsyncClient) -> None:
    now = datetime.now(UTC)
    inside = [at(now, days=-364), at(now, hours=23), now.astimezone().isoformat(), at(now, minutes=-1)]
    for timestamp in inside:
        accepted = await api.post("/v1/events", json=event("page_viewed", "win", timestamp=timestamp))
        assert accepted.status_code == 202, (timestamp, accepted.text)

    events = [
        event("page_viewed", "win", timestamp=at(now, days=-366)),
        event("page_viewed", "win", timestamp=at(now, hours=-1)),
        event("page_viewed", "win", timestamp=at(now, days=2)),
    ]
    response = await api.post("/v1/events/batch", json={"events": events})

    assert problems(response) == [
        ("body.events[0].timestamp", "timestamp_out_of_window"),
        ("body.events[2].timestamp", "timestamp_out_of_window"),
    ]
    assert "one day after" in response.json()["errors"][0]["message"]


async def test_a_cooldown_is_measured_on_the_server_clock_not_the_senders(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    deployed = await api.put("/v1/journeys/comeback", content=COOLDOWN_JOURNEY, headers=YAML)
    assert deployed.status_code == 200, deployed.text
    now = datetime.now(UTC)
    first = await api.post("/v1/events", json=event("came_back", "cal", timestamp=now.isoformat()))
    assert first.json()["started"] == ["comeback"]
    await sandbox.result("comeback", "cal")  # the entry is over: the next trigger meets the cooldown

    # 23 hours on by the sender's clock, past the 12-hour cooldown; seconds later by the server's.
    again = await api.post("/v1/events", json=event("came_back", "cal", timestamp=at(now, hours=23)))

    assert again.status_code == 202
    assert again.json()["started"] == []
    assert again.json()["skipped"] == [{"journey": "comeback", "reason": "cooling down since the last entry"}]


# ------------------------------------------------------------------ properties and traits


async def test_properties_nested_900_deep_get_422_with_the_path_and_nothing_is_stored(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    payload = event("page_viewed", "deep", properties=nested(900), traits={"first_name": "Dee"})

    response = await api.post("/v1/events", json=payload)

    path = "body.properties" + ".a" * DATA_MAX_DEPTH  # the first object below the 8th level
    assert problems(response) == [(path, "data_too_deep")]
    assert await sandbox.store.customers.get("deep") is None


async def test_event_traits_nested_900_deep_get_422_and_the_customer_is_not_stored(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    response = await api.post("/v1/events", json=event("signed_up", "deeper", traits={"x": nested(900)}))

    assert problems(response) == [("body.traits.x" + ".a" * (DATA_MAX_DEPTH - 1), "data_too_deep")]
    assert await sandbox.store.customers.get("deeper") is None
    assert (await api.get("/v1/customers/deeper")).status_code == 404


async def test_put_traits_nested_900_deep_get_422_and_the_customer_is_not_stored(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    response = await api.put("/v1/customers/dora", json={"prefs": nested(900)})

    assert problems(response) == [("body.prefs" + ".a" * (DATA_MAX_DEPTH - 1), "data_too_deep")]
    assert await sandbox.store.customers.get("dora") is None


async def test_eight_levels_are_fine(api: httpx.AsyncClient) -> None:
    deepest = event("page_viewed", "eight", properties=nested(DATA_MAX_DEPTH), traits={"x": nested(7)})
    assert (await api.post("/v1/events", json=deepest)).status_code == 202
    assert (await api.put("/v1/customers/eight", json={"y": nested(7)})).status_code == 200
    lists: dict[str, Any] = {"l": [[[[[[[1]]]]]]]}  # lists count as levels too: 8 in all
    assert (
        await api.post("/v1/events", json=event("page_viewed", "eight", properties=lists))
    ).status_code == 202
    lists = {"l": [[[[[[[[1]]]]]]]]}
    response = await api.post("/v1/events", json=event("page_viewed", "eight", properties=lists))
    assert problems(response) == [("body.properties.l[0][0][0][0][0][0][0]", "data_too_deep")]


async def test_too_many_keys_too_many_bytes_and_non_finite_numbers_get_422(api: httpx.AsyncClient) -> None:
    wide = {f"k{n}": n for n in range(DATA_MAX_KEYS + 1)}
    big = {"text": "x" * DATA_MAX_BYTES}
    for properties, expected in (
        (wide, [("body.properties", "data_too_many_keys")]),
        ({"inner": wide}, [("body.properties.inner", "data_too_many_keys")]),
        (big, [("body.properties", "data_too_large")]),
    ):
        response = await api.post("/v1/events", json=event("page_viewed", "wide", properties=properties))
        assert problems(response) == expected

    traits = await api.put("/v1/customers/wide", json={f"t{n}": n for n in range(DATA_MAX_KEYS + 1)})
    assert problems(traits) == [("body", "data_too_many_keys")]

    # JSON has no NaN, but Python's parser takes it: refused before it reaches a JSON column.
    body = json.dumps(event("page_viewed", "nan", properties={"n": 1})).replace('"n": 1', '"n": NaN')
    response = await api.post("/v1/events", content=body, headers={"Content-Type": "application/json"})
    assert problems(response) == [("body.properties.n", "data_number")]


async def test_a_lone_surrogate_in_data_gets_422(api: httpx.AsyncClient) -> None:
    body = json.dumps(event("page_viewed", "sur", properties={"t": "x"})).replace('"x"', '"\\ud800"')
    response = await api.post("/v1/events", content=body, headers={"Content-Type": "application/json"})
    assert problems(response) == [("body.properties.t", "data_text")]


async def test_a_nul_in_data_text_or_keys_gets_422_naming_its_place(api: httpx.AsyncClient) -> None:
    # PostgreSQL refuses NUL in text and JSON: accepted, it would break every later step of the event.
    for properties, expected in (
        ({"referral_code": "AB\x00C"}, [("body.properties.referral_code", "data_text")]),
        ({"items": [{"sku": "\x00"}]}, [("body.properties.items[0].sku", "data_text")]),
        ({"inner": {"k\x00": 1}}, [("body.properties.inner", "data_key")]),
    ):
        response = await api.post("/v1/events", json=event("page_viewed", "nul", properties=properties))
        assert problems(response) == expected
    traits = await api.put("/v1/customers/nul", json={"nick": "a\x00b"})
    assert problems(traits) == [("body.nick", "data_text")]


async def test_an_integer_beyond_64_bits_gets_422_and_one_within_is_taken(api: httpx.AsyncClient) -> None:
    huge = int("9" * 400)
    for value in (huge, -huge, 2**63):
        response = await api.post("/v1/events", json=event("page_viewed", "big", properties={"n": value}))
        assert problems(response) == [("body.properties.n", "data_number")]
    within = await api.post("/v1/events", json=event("page_viewed", "big", properties={"n": 2**63 - 1}))
    assert within.status_code == 202, within.text


async def test_event_traits_are_checked_as_put_checks_them_and_nothing_is_mailed(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    bad = {"email": "not an email", "timezone": "Mars/Olympus", "first_name": "Ada\x00"}

    put = await api.put("/v1/customers/mallory", json=bad)
    sent = await api.post("/v1/events", json=event("signed_up", "mallory", traits=bad))

    assert problems(put) == [
        ("body.email", "string_pattern_mismatch"),
        ("body.first_name", "string_pattern_mismatch"),
        ("body.timezone", "timezone"),
    ]
    assert problems(sent) == [(path.replace("body.", "body.traits."), kind) for path, kind in problems(put)]
    assert await sandbox.store.customers.get("mallory") is None
    assert sandbox.outbox.messages() == []


async def test_a_customer_stored_before_the_bounds_still_reads_updates_and_erases(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    # Written past the API, as the store held it before: 900 levels and a lone surrogate.
    await sandbox.store.customers.upsert(
        "legacy", {"first_name": "Old", "prefs": nested(900), "t": "\ud800!"}
    )

    read = await api.get("/v1/customers/legacy")
    updated = await api.put("/v1/customers/legacy", json={"last_name": "Timer"})
    erased = await api.delete("/v1/customers/legacy")

    assert read.status_code == 200, read.text
    traits = read.json()["traits"]
    assert traits["t"] == "\ufffd!"
    cut: Any = None  # prefs is level 2 of the traits: its objects down to level 8 stay, deeper is null
    for _ in range(DATA_MAX_DEPTH - 1):
        cut = {"a": cut}
    assert traits["prefs"] == cut
    assert updated.status_code == 200 and updated.json()["last_name"] == "Timer"
    assert erased.status_code == 200


# ------------------------------------------------------------------ malformed bodies, methods


@pytest.mark.parametrize("body", [b"{not json", b"\xff{M\x0e\xff]", b'{"event_id": "e", "name": "x"'])
async def test_a_body_that_is_not_json_gets_422_json_invalid(api: httpx.AsyncClient, body: bytes) -> None:
    for path in ("/v1/events", "/v1/events/batch", "/v1/customers/ann", "/v1/customers/ann/points/redeem"):
        method = api.put if path == "/v1/customers/ann" else api.post
        response = await method(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, (path, response.text)
        assert [p["type"] for p in response.json()["errors"]] == ["json_invalid"]


async def test_a_method_a_path_does_not_have_gets_405_listing_every_method_it_has(
    api: httpx.AsyncClient,
) -> None:
    customer = await api.options("/v1/customers/ann")
    journey = await api.request("PATCH", "/v1/journeys/onboarding")
    validate = await api.options("/v1/journeys/validate")  # concrete, before /v1/journeys/{name}

    assert customer.status_code == journey.status_code == validate.status_code == 405
    assert customer.headers["Allow"] == "DELETE, GET, HEAD, PUT"
    assert journey.headers["Allow"] == "GET, HEAD, PUT"
    assert validate.headers["Allow"] == "POST"

"""Hostile ids: every id entrance of the API refuses what docs/ids.md forbids, with 422 naming the
field, and an id of the maximum length works end to end (onboarding awards points and a badge)."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from contracts.ids import ID_MAX_LENGTH, check_id, derived_id, id_problem, is_id
from simulate.sandbox import Sandbox
from tests.api.conftest import deploy_example_program
from tests.api.support import at_step, event, eventually

SLASH = 'an id must not contain "/"'
EDGE_SPACE = "an id must not start or end with a space"
DOTS = 'an id must not be "." or ".."'


def control(char: str, position: int) -> str:
    found = f"U+{ord(char):04X} at position {position}"
    return f"an id must not contain control characters, line separators or lone surrogates ({found})"


# (id, the message its 422 carries)
HOSTILE = [
    ("a/b", SLASH),
    ("/", SLASH),
    (" ", EDGE_SPACE),
    ("   ", EDGE_SPACE),
    (" ada", EDGE_SPACE),
    ("ada ", EDGE_SPACE),
    ("ada\u00a0", EDGE_SPACE),
    ("\ufeffada", EDGE_SPACE),
    ("a\nb", control("\n", 1)),
    ("ada\r\n", control("\r", 3)),
    ("a\x00b", control("\x00", 1)),
    ("\x1b[31mred", control("\x1b", 0)),
    ("a\x85b", control("\x85", 1)),
    ("a\u2028b", control("\u2028", 1)),
    (".", DOTS),
    ("..", DOTS),
]


def problems(response: httpx.Response) -> list[tuple[str, str, str]]:
    assert response.status_code == 422, response.text
    return [(p["path"], p["type"], p["message"]) for p in response.json()["errors"]]


@pytest.mark.parametrize(("customer_id", "message"), HOSTILE)
async def test_an_event_with_a_hostile_customer_id_gets_422_and_stores_nothing(
    api: httpx.AsyncClient, sandbox: Sandbox, customer_id: str, message: str
) -> None:
    response = await api.post("/v1/events", json=event("signed_up", customer_id, traits={"first_name": "X"}))

    assert problems(response) == [("body.customer_id", "id_syntax", message)]
    assert await sandbox.store.customers.get(customer_id) is None


@pytest.mark.parametrize(("event_id", "message"), HOSTILE)
async def test_a_hostile_event_id_gets_422(api: httpx.AsyncClient, event_id: str, message: str) -> None:
    response = await api.post("/v1/events", json={**event("page_viewed", "ada"), "event_id": event_id})

    assert problems(response) == [("body.event_id", "id_syntax", message)]


async def test_every_hostile_id_of_a_batch_is_named_with_its_index(api: httpx.AsyncClient) -> None:
    events = [event("page_viewed", "ok"), event("page_viewed", "a/b"), {**event("x", "c"), "event_id": " "}]

    response = await api.post("/v1/events/batch", json={"events": events})

    assert problems(response) == [
        ("body.events[1].customer_id", "id_syntax", SLASH),
        ("body.events[2].event_id", "id_syntax", EDGE_SPACE),
    ]


async def test_empty_and_too_long_ids_get_422(api: httpx.AsyncClient) -> None:
    too_long = "x" * (ID_MAX_LENGTH + 1)

    response = await api.post("/v1/events", json={**event("page_viewed", ""), "event_id": too_long})

    assert [(path, kind) for path, kind, _ in problems(response)] == [
        ("body.event_id", "string_too_long"),
        ("body.customer_id", "string_too_short"),
    ]


@pytest.mark.parametrize(
    ("customer_id", "message"), [(c, m) for c, m in HOSTILE if "/" not in c and c not in (".", "..")]
)
async def test_every_customer_route_refuses_a_hostile_id_in_its_path(
    api: httpx.AsyncClient, sandbox: Sandbox, customer_id: str, message: str
) -> None:
    path = f"/v1/customers/{quote(customer_id, safe='')}"
    redeem = {"key": "k", "points": 1, "reason": "r"}

    for response in (
        await api.put(path, json={"first_name": "X"}),
        await api.get(path),
        await api.delete(path),
        await api.get(f"{path}/points"),
        await api.post(f"{path}/points/redeem", json=redeem),
    ):
        assert problems(response) == [("path.customer_id", "id_syntax", message)]
    assert await sandbox.store.customers.get(customer_id) is None


async def test_a_slash_or_dots_never_reach_a_customer_route(api: httpx.AsyncClient) -> None:
    # Such ids are refused when given (above), so no customer has one; in a URL they are no one id.
    assert (await api.get("/v1/customers/a%2Fb")).status_code == 404
    assert (await api.put("/v1/customers/a%2Fb", json={})).status_code == 404
    assert (await api.get("/v1/customers/..")).status_code == 404


async def test_a_hostile_redemption_key_gets_422(api: httpx.AsyncClient) -> None:
    await api.put("/v1/customers/ida", json={"first_name": "Ida"})

    response = await api.post(
        "/v1/customers/ida/points/redeem", json={"key": "a\nb", "points": 1, "reason": "r"}
    )

    assert problems(response) == [("body.key", "id_syntax", control("\n", 1))]


def test_the_id_syntax_for_other_entrances() -> None:
    """What simulate/story.py (and any other entrance) calls on the ids it is given."""
    assert check_id("Ada Lovelace", "customer id") == "Ada Lovelace"
    with pytest.raises(ValueError, match="customer id 'a/b' must not contain \"/\""):
        check_id("a/b", "customer id")
    assert id_problem("ada ") == "must not start or end with a space"
    assert id_problem("a\ud800") is not None  # a lone surrogate is no text (and not in ID_PATTERN)
    assert all(is_id(ok) for ok in ("ada@example.com", "user:42", "Ada Lovelace", "...", ".a", "é😀"))
    assert not any(is_id(bad) for bad, _ in HOSTILE)


def test_a_derived_id_fits_its_column_readably_and_stays_the_same() -> None:
    short = derived_id("journey/onboarding/ada/evt-1/signup_bonus/1", "badge_awarded")
    assert short == "journey/onboarding/ada/evt-1/signup_bonus/1/badge_awarded"  # as before: nothing changes
    base = f"journey/onboarding/{'c' * 200}/{'e' * 200}/signup_bonus/1"
    long = derived_id(base, "badge_awarded")
    assert len(long) == ID_MAX_LENGTH
    assert long.startswith("journey/onboarding/ccc") and long.endswith("/badge_awarded")
    assert long == derived_id(base, "badge_awarded")
    assert long != derived_id(base + "2", "badge_awarded")
    digest = long.rsplit("~", 1)[1].split("/")[0]
    assert len(digest) == 16 and f"~{digest}/tier_changed" in derived_id(base, "tier_changed")


async def test_a_customer_id_of_the_maximum_length_goes_through_onboarding(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    """The award's follow-up events (tier_changed, badge_awarded) get ids derived from the award key,
    which holds the customer id and the trigger's event id: they must still fit (200 characters)."""
    await deploy_example_program(sandbox)
    customer_id = ("Ada Lovelace ü 😀 " * 20)[: ID_MAX_LENGTH - 1] + "!"
    assert len(customer_id) == ID_MAX_LENGTH and is_id(customer_id)
    trigger = {**event("signed_up", customer_id, traits={"email": "ada@example.com"}), "event_id": "e" * 200}
    path = f"/v1/customers/{quote(customer_id, safe='')}"

    response = await api.post("/v1/events", json=trigger)

    assert response.status_code == 202 and response.json()["started"] == ["onboarding"]
    await eventually(lambda: at_step(api, quote(customer_id, safe=""), "onboarding", "wait_profile"))
    customer = (await api.get(path)).json()
    assert customer["id"] == customer_id
    assert (customer["points"], customer["tier"], customer["badges"]) == (100, "bronze", ["newcomer"])
    [run] = customer["journeys"]
    assert [step["step"] for step in run["steps"]][:3] == ["joined", "welcome", "signup_bonus"]
    assert (await api.get(f"{path}/points")).json()["balance"] == 100
    erased = await api.delete(path)
    assert erased.status_code == 200 and erased.json()["journeys_ended"] == ["onboarding"]

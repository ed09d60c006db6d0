"""POST /v1/journeys/edit over HTTP: a canvas edit answered with the new YAML, its problems and its
plan; refusals as 422 with positions; editors only; hostile sources and operations get the same
clear 4xx as POST /v1/journeys/validate, nothing is stored."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from api.routes import journeys as journey_routes
from engine.limits import MAX_DEPTH
from engine.source import ANCHORS_MESSAGE, format_path
from tests.api.conftest import EDITOR_KEY, JOURNEYS_DIR, MAX_BODY, VIEWER_KEY

YAML = {"Content-Type": "application/yaml"}
ONBOARDING = (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8")
WAIT_AFTER_WELCOME = {
    "op": "insert_step",
    "edge": "welcome>signup_bonus#0",
    "kind": "wait",
    "fields": {"wait": "2d"},
}
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def problems(response: httpx.Response) -> list[tuple[str, int, int, str, str]]:
    assert response.status_code == 422, response.text
    return [(e["file"], e["line"], e["column"], e["path"], e["message"]) for e in response.json()["errors"]]


async def edit(api: httpx.AsyncClient, source: str, operation: dict[str, Any]) -> httpx.Response:
    return await api.post("/v1/journeys/edit", json={"source": source, "operation": operation})


async def test_inserting_a_wait_answers_the_new_yaml_and_its_plan(api: httpx.AsyncClient) -> None:
    response = await edit(api, ONBOARDING, WAIT_AFTER_WELCOME)
    body = response.json()
    assert response.status_code == 200, body
    assert body["source"] == ONBOARDING.replace(
        "  - {id: welcome, send: {email: welcome}}\n",
        "  - {id: welcome, send: {email: welcome}}\n  - {id: wait_1, wait: 2d}\n",
    )
    assert (body["valid"], body["problems"]) == (True, [])
    nodes = {node["id"]: node for node in body["plan"]["nodes"]}
    assert nodes["welcome"]["next"] == "wait_1"
    assert (nodes["wait_1"]["kind"], nodes["wait_1"]["seconds"], nodes["wait_1"]["next"]) == (
        "wait",
        172800,
        "signup_bonus",
    )
    # Stateless: nothing was deployed.
    current = (await api.get("/v1/journeys/onboarding")).json()
    assert "wait_1" not in {node["id"] for node in current["plan"]["nodes"]}


async def test_every_operation_by_way_name_and_by_edge_id(api: httpx.AsyncClient) -> None:
    deleted = (await edit(api, ONBOARDING, {"op": "delete_step", "step": "nudge_profile"})).json()
    assert "on_timeout: wait_purchase" in deleted["source"] and "nudge_profile" not in deleted["source"]
    assert deleted["valid"]
    retargeted = await edit(
        api,
        ONBOARDING,
        {"op": "retarget_edge", "edge": {"step": "profile_bonus", "way": "next"}, "target": "pick_offer"},
    )
    assert "Profile completed}, next: pick_offer}" in retargeted.json()["source"]
    fields = await edit(
        api,
        ONBOARDING,
        {"op": "set_fields", "step": "wait_profile", "fields": {"wait_for": {"timeout": "5d"}}},
    )
    assert "{event: profile_completed, timeout: 5d}" in fields.json()["source"]
    nodes = {node["id"]: node for node in fields.json()["plan"]["nodes"]}
    assert nodes["wait_profile"]["timeout_seconds"] == 5 * 86400


async def test_an_edit_that_leaves_the_journey_invalid_is_answered_with_its_problems(
    api: httpx.AsyncClient,
) -> None:
    response = await edit(
        api, ONBOARDING, {"op": "retarget_edge", "edge": "wait_offer>not_activated#1", "target": "activated"}
    )
    body = response.json()
    assert response.status_code == 200
    assert (body["valid"], body["plan"]) == (False, None)
    assert "    on_timeout: activated\n" in body["source"]
    assert [(p["line"], p["path"], p["message"]) for p in body["problems"]] == [
        (39, "steps[14].id", 'step "not_activated" is never reached: no path from the first step leads to it')
    ]


async def test_an_edit_that_cannot_be_made_gets_422_saying_why_and_where(api: httpx.AsyncClient) -> None:
    response = await edit(api, ONBOARDING, {"op": "delete_step", "step": "pick_offer"})
    assert response.json()["detail"] == "the edit cannot be made: 1 problem(s)"
    assert problems(response) == [
        (
            "journey.yaml",
            26,
            5,
            "steps[10]",
            '"pick_offer" has several ways out ("__end", "offer_discount", "offer_free_shipping"); say where '
            "the edges into it go instead (reconnect_to: a step, or __end)",
        )
    ]
    stale = await edit(
        api, ONBOARDING, {"op": "retarget_edge", "edge": "welcome>done#0", "target": "activated"}
    )
    [(_, _, _, path, message)] = problems(stale)
    assert (path, message) == (
        "steps[1]",
        '"welcome>done#0" is out of date: the next way out of "welcome" goes to "signup_bonus" now; '
        "draw the journey again",
    )


async def test_a_malformed_operation_gets_422_naming_the_field(api: httpx.AsyncClient) -> None:
    response = await edit(api, ONBOARDING, {"op": "insert_step", "edge": "welcome", "kind": "nap"})
    assert response.status_code == 422
    paths = {error["path"] for error in response.json()["errors"]}
    assert {"body.operation.insert_step.kind"} <= paths
    assert any(path.startswith("body.operation.insert_step.edge") for path in paths)


async def test_only_editors_edit(anonymous: httpx.AsyncClient) -> None:
    body = {"source": ONBOARDING, "operation": WAIT_AFTER_WELCOME}
    viewer = await anonymous.post("/v1/journeys/edit", json=body, headers=bearer(VIEWER_KEY))
    editor = await anonymous.post("/v1/journeys/edit", json=body, headers=bearer(EDITOR_KEY))
    nobody = await anonymous.post("/v1/journeys/edit", json=body)
    assert (viewer.status_code, viewer.json()["detail"]) == (
        403,
        "Vera Viewer is a viewer: viewers may only read",
    )
    assert editor.status_code == 200 and editor.json()["valid"]
    assert nobody.status_code == 401


# --------------------------------------------------------------------------- hostile input, as validate


async def test_an_alias_bomb_gets_the_same_422_as_validate(api: httpx.AsyncClient) -> None:
    validated = await api.post("/v1/journeys/validate", content=LAUGHS, headers=YAML)
    edited = await edit(api, LAUGHS, WAIT_AFTER_WELCOME)
    assert problems(edited) == problems(validated) == [("journey.yaml", 1, 4, "a", ANCHORS_MESSAGE)]


async def test_a_deep_source_gets_the_same_422_as_validate(api: httpx.AsyncClient) -> None:
    deep = "[" * 900 + "]" * 900
    validated = await api.post("/v1/journeys/validate", content=deep, headers=YAML)
    edited = await edit(api, deep, {"op": "delete_step", "step": "welcome"})
    message = f"nesting deeper than {MAX_DEPTH} levels is not allowed in journey files"
    assert (
        problems(edited)
        == problems(validated)
        == [("journey.yaml", 1, 33, format_path((0,) * MAX_DEPTH), message)]
    )


async def test_a_control_character_gets_the_same_422_as_validate(api: httpx.AsyncClient) -> None:
    source = ONBOARDING.replace("journey: onboarding", "journey: on\x00boarding")
    validated = await api.post("/v1/journeys/validate", content=source.encode(), headers=YAML)
    edited = await edit(api, source, WAIT_AFTER_WELCOME)
    assert problems(edited) == problems(validated)
    assert problems(edited)[0][4] == "control character U+0000 is not allowed in a journey file"


@pytest.mark.parametrize("size", [MAX_BODY + 1, 3 * MAX_BODY])
async def test_a_body_past_the_limit_gets_the_same_413_as_validate(api: httpx.AsyncClient, size: int) -> None:
    huge = ONBOARDING + "#" * size
    validated = await api.post("/v1/journeys/validate", content=huge, headers=YAML)
    edited = await edit(api, huge, WAIT_AFTER_WELCOME)
    assert (edited.status_code, edited.json()) == (validated.status_code, validated.json())
    assert edited.status_code == 413


async def test_deep_or_large_fields_get_422_naming_the_limit(api: httpx.AsyncClient) -> None:
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(900):
        inner["a"] = {}
        inner = inner["a"]
    response = await edit(api, ONBOARDING, {"op": "set_fields", "step": "welcome", "fields": deep})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["path"] == "body.operation.set_fields.fields"
    assert error["message"].endswith(f"nesting deeper than {MAX_DEPTH} levels is not allowed")
    many = {"award": [0] * 21_000}  # small as JSON, more values than a journey file may hold
    response = await edit(api, ONBOARDING, {"op": "set_fields", "step": "welcome", "fields": many})
    assert response.status_code == 422
    assert "the operation holds more than 20,000 values" in response.json()["errors"][0]["message"]


async def test_an_edit_past_the_time_budget_gets_the_same_422_as_validate(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journey_routes, "VALIDATION_SECONDS", 0.001)
    response = await edit(api, ONBOARDING, WAIT_AFTER_WELCOME)
    message = "the journey could not be validated within 0.001 s; try again, or simplify it"
    assert problems(response) == [("journey.yaml", 1, 1, "", message)]


async def test_healthz_answers_while_edits_run(api: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    edits = [asyncio.create_task(edit(api, ONBOARDING, WAIT_AFTER_WELCOME)) for _ in range(4)]
    health = await anonymous.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert all(response.status_code == 200 for response in await asyncio.gather(*edits))

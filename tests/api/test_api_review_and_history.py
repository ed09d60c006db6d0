"""Review before deploy, the deploy history, diffs between versions and rollback, over HTTP on the
real store and the time-skipping Temporal server, with customers really waiting at a step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from api import deploying
from api.app import create_app
from api.routes import journeys as journey_routes
from engine.limits import MAX_DEPTH
from engine.plan import Plan
from simulate.sandbox import Sandbox
from tests.api.conftest import EDITOR_KEY, JOURNEYS_DIR, MAX_BODY, VIEWER_KEY, http_client
from tests.api.support import at_step, event, eventually
from tests.support.ui_session import sign_in

YAML = {"Content-Type": "application/yaml"}
ONBOARDING = (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8")
PROFILE_STEPS = """  - id: wait_profile
    wait_for: {event: profile_completed, timeout: 3d}
    on_timeout: nudge_profile
  - {id: profile_bonus, award: {points: 50, reason: Profile completed}, next: wait_purchase}
  - {id: nudge_profile, send: {email: complete_your_profile}}
"""
# Version 2 asks for no profile: after the sign-up bonus it waits for a purchase at once.
WITHOUT_PROFILE = ONBOARDING.replace(PROFILE_STEPS, "")
# Version 3 (on top of 2) gives the first purchase 5 days instead of 7.
SHORTER_WAIT = WITHOUT_PROFILE.replace(
    "timeout: 7d}\n    on_timeout: pick_offer", "timeout: 5d}\n    on_timeout: pick_offer"
)
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def sign_up(api: httpx.AsyncClient, names: list[str], step: str) -> None:
    for name in names:
        sent = await api.post(
            "/v1/events", json=event("signed_up", name, traits={"email": f"{name}@example.com"})
        )
        assert sent.status_code == 202, sent.text
    for name in names:
        await eventually(partial(at_step, api, name, "onboarding", step), seconds=30)


async def waiting(api: httpx.AsyncClient, step: str, n: int) -> None:
    """Until the live counts (what the review reads) show ``n`` customers at ``step``."""

    async def counted() -> bool:
        stats = (await api.get("/v1/journeys/onboarding/stats")).json()
        return any(row["step"] == step and row["waiting"] == n for row in stats["steps"])

    await eventually(counted, seconds=30)


async def put(api: httpx.AsyncClient, text: str, key: str | None = None) -> dict[str, Any]:
    headers = {**YAML, **(bearer(key) if key else {})}
    response = await api.put("/v1/journeys/onboarding", content=text, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_review_counts_the_customers_waiting_at_a_step_the_change_removes(
    api: httpx.AsyncClient,
) -> None:
    v1 = (await put(api, ONBOARDING))["version"]  # the same version the sandbox deployed, now with its YAML
    await sign_up(api, ["amy", "ben", "cal"], "wait_profile")
    await waiting(api, "wait_profile", 3)

    response = await api.post("/v1/journeys/onboarding/review", content=WITHOUT_PROFILE, headers=YAML)

    assert response.status_code == 200, response.text
    review = response.json()
    assert (review["journey"], review["current"], review["changed"]) == ("onboarding", v1, True)
    assert review["version"] != v1
    assert review["valid"] is True
    assert review["plan_diff"]["steps_removed"] == ["wait_profile", "profile_bonus", "nudge_profile"]
    assert [c["step"] for c in review["plan_diff"]["steps_changed"]] == ["signup_bonus"]
    assert review["plan_diff"]["summary"] == [
        "removes step `wait_profile`",
        "removes step `profile_bonus`",
        "removes step `nudge_profile`",
        "changes step `signup_bonus`: next wait_profile → wait_purchase",
    ]
    assert review["yaml_diff"].startswith(f"--- onboarding.yaml@{v1}\n+++ onboarding.yaml\n")
    assert "-  - id: wait_profile\n" in review["yaml_diff"]
    sentence = (
        f"removes `wait_profile`, where 3 customers wait: they finish on version {v1}; "
        "new entrants get the new version"
    )
    impact = review["impact"]
    assert impact["sentences"] == [sentence]
    assert (impact["in_flight"], impact["affected"]) == (3, 3)
    assert impact["versions"] == [
        {
            "version": v1,
            "is_current": True,
            "in_flight": 3,
            "waiting": {"wait_profile": 3},
            "affected": [
                {
                    "step": "wait_profile",
                    "change": "removed",
                    "fields": [],
                    "waiting": 3,
                    "sentence": sentence,
                }
            ],
        }
    ]
    assert impact["summary"] == (
        "3 customers are in flight; 3 of them wait at steps this change removes or changes. Each finishes "
        f"on the version they entered on; new entrants get the new version ({review['version']})."
    )
    # A review deploys nothing.
    assert (await api.get("/v1/journeys/onboarding")).json()["version"] == v1


async def test_a_review_sees_every_live_version_and_what_a_change_does_to_each(
    api: httpx.AsyncClient,
) -> None:
    v1 = (await put(api, ONBOARDING))["version"]
    await sign_up(api, ["amy", "ben"], "wait_profile")
    v2 = (await put(api, WITHOUT_PROFILE, EDITOR_KEY))["version"]
    await sign_up(api, ["dan"], "wait_purchase")
    await waiting(api, "wait_purchase", 1)
    await waiting(api, "wait_profile", 2)

    review = (await api.post("/v1/journeys/onboarding/review", content=SHORTER_WAIT, headers=YAML)).json()

    impact = review["impact"]
    assert review["current"] == v2
    assert [(v["version"], v["is_current"], v["waiting"]) for v in impact["versions"]] == [
        (v2, True, {"wait_purchase": 1}),
        (v1, False, {"wait_profile": 2}),
    ]
    sentence = (
        "changes `wait_purchase` (timeout_seconds), where 1 customer waits: they finish on version "
        f"{v2} as it was; new entrants get the new version"
    )
    assert impact["sentences"] == [sentence]  # wait_profile is not in version 2: this change leaves it be
    assert impact["versions"][1]["affected"] == []
    assert (impact["in_flight"], impact["affected"]) == (3, 1)
    [change] = review["plan_diff"]["steps_changed"]
    assert change == {
        "step": "wait_purchase",
        "kind": "wait_for",
        "fields": [{"field": "timeout_seconds", "before": 7 * 86400, "after": 5 * 86400}],
        "template_files": [],
    }


async def test_reviewing_the_current_version_or_a_new_journey(api: httpx.AsyncClient) -> None:
    same = (await api.post("/v1/journeys/onboarding/review", content=ONBOARDING, headers=YAML)).json()
    fresh_text = ONBOARDING.replace("journey: onboarding", "journey: onboarding_two")
    fresh = (await api.post("/v1/journeys/onboarding_two/review", content=fresh_text, headers=YAML)).json()

    assert (same["changed"], same["plan_diff"]["steps_removed"], same["impact"]["sentences"]) == (
        False,
        [],
        [],
    )
    assert same["impact"]["summary"] == f"No change: this is the current version ({same['version']})."
    assert (fresh["current"], fresh["changed"]) == (None, True)
    assert len(fresh["plan_diff"]["steps_added"]) == 15
    assert fresh["yaml_diff"].startswith("--- /dev/null\n+++ onboarding_two.yaml\n@@ -0,0 +1,")
    assert fresh["impact"]["summary"].startswith("A new journey: everyone who enters from now on gets")
    assert (await api.get("/v1/journeys/onboarding_two")).status_code == 404


async def test_rollback_makes_the_older_version_current_and_the_history_shows_who(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    v1 = (await api.get("/v1/journeys/onboarding")).json()["version"]
    deployed = await put(api, WITHOUT_PROFILE, EDITOR_KEY)
    v2 = deployed["version"]
    assert (deployed["deployed_by"], deployed["action"], deployed["previous"]) == (
        "Eddie Editor",
        "deploy",
        v1,
    )

    rolled = await anonymous.post(
        "/v1/journeys/onboarding/rollback", json={"version": v1}, headers=bearer(EDITOR_KEY)
    )

    assert rolled.status_code == 200, rolled.text
    body = rolled.json()
    assert (body["version"], body["new_version"], body["action"], body["previous"]) == (
        v1,
        False,
        "rollback",
        v2,
    )
    assert body["deployed_by"] == "Eddie Editor"
    assert (await api.get("/v1/journeys/onboarding")).json()["version"] == v1
    history = (await api.get("/v1/journeys/onboarding/versions")).json()
    assert (history["name"], history["current"], history["ui_edit"]) == ("onboarding", v1, True)
    rows = [(r["version"], r["deployed_by"], r["action"], r["is_current"]) for r in history["history"]]
    assert rows == [
        (v1, "Eddie Editor", "rollback", True),
        (v2, "Eddie Editor", "deploy", False),
        (v1, None, "deploy", True),  # the sandbox deployed it, naming nobody
    ]
    # A rollback to the version already current changes nothing and records nothing.
    again = await api.post("/v1/journeys/onboarding/rollback", json={"version": v1})
    assert (again.status_code, again.json()["action"]) == (200, None)
    assert len((await api.get("/v1/journeys/onboarding/versions")).json()["history"]) == 3
    # New customers enter on the version rolled back to.
    await sign_up(api, ["eve"], "wait_profile")


async def test_a_deploy_by_a_plain_key_is_recorded_under_its_name(api: httpx.AsyncClient) -> None:
    deployed = await put(api, WITHOUT_PROFILE)
    history = (await api.get("/v1/journeys/onboarding/versions?limit=1")).json()["history"]

    assert deployed["deployed_by"] == "key test…"
    assert [(r["version"], r["deployed_by"]) for r in history] == [(deployed["version"], "key test…")]


async def test_a_viewer_reads_the_history_but_cannot_roll_back_or_review(
    anonymous: httpx.AsyncClient,
) -> None:
    v1 = (await anonymous.get("/v1/journeys/onboarding", headers=bearer(VIEWER_KEY))).json()["version"]
    await put(anonymous, WITHOUT_PROFILE, EDITOR_KEY)
    viewer = bearer(VIEWER_KEY)

    history = await anonymous.get("/v1/journeys/onboarding/versions", headers=viewer)
    refused = await anonymous.post("/v1/journeys/onboarding/rollback", json={"version": v1}, headers=viewer)
    review = await anonymous.post(
        "/v1/journeys/onboarding/review", content=ONBOARDING, headers={**YAML, **viewer}
    )
    deploy = await anonymous.put("/v1/journeys/onboarding", content=ONBOARDING, headers={**YAML, **viewer})

    assert history.status_code == 200 and len(history.json()["history"]) == 2
    assert (refused.status_code, refused.json()["detail"]) == (
        403,
        "Vera Viewer is a viewer: viewers may only read",
    )
    assert review.status_code == deploy.status_code == 403
    after = (await anonymous.get("/v1/journeys/onboarding/versions", headers=viewer)).json()
    assert after["current"] != v1 and len(after["history"]) == 2


async def test_unknown_versions_and_journeys_get_404(api: httpx.AsyncClient) -> None:
    v1 = (await api.get("/v1/journeys/onboarding")).json()["version"]

    rollback = await api.post("/v1/journeys/onboarding/rollback", json={"version": "0123456789ab"})
    elsewhere = await api.post("/v1/journeys/nothing_here/rollback", json={"version": v1})
    history = await api.get("/v1/journeys/nothing_here/versions")
    diff = await api.get(f"/v1/journeys/onboarding/versions/{v1}/diff/0123456789ab")
    malformed = await api.post("/v1/journeys/onboarding/rollback", json={"version": "../etc", "extra": 1})

    assert (rollback.status_code, rollback.json()["detail"]) == (
        404,
        "journey 'onboarding' has no version '0123456789ab'",
    )
    assert elsewhere.status_code == history.status_code == 404
    assert (diff.status_code, diff.json()["detail"]) == (
        404,
        "journey 'onboarding' has no version '0123456789ab'",
    )
    assert malformed.status_code == 422
    assert {e["path"] for e in malformed.json()["errors"]} == {"body.version", "body.extra"}
    assert (await api.get("/v1/journeys/onboarding")).json()["version"] == v1


async def test_the_diff_between_two_stored_versions(api: httpx.AsyncClient) -> None:
    v1 = (await put(api, ONBOARDING))["version"]
    v2 = (await put(api, SHORTER_WAIT))["version"]

    response = await api.get(f"/v1/journeys/onboarding/versions/{v1}/diff/{v2}")
    backwards = (await api.get(f"/v1/journeys/onboarding/versions/{v2}/diff/{v1}")).json()
    itself = (await api.get(f"/v1/journeys/onboarding/versions/{v1}/diff/{v1}")).json()

    assert response.status_code == 200, response.text
    diff = response.json()
    assert (diff["before"], diff["after"]) == (v1, v2)
    assert diff["yaml_diff"].startswith(f"--- onboarding.yaml@{v1}\n+++ onboarding.yaml@{v2}\n")
    assert "+    wait_for: {event: purchase_completed, timeout: 5d}\n" in diff["yaml_diff"]
    assert diff["plan_diff"]["steps_removed"] == ["wait_profile", "profile_bonus", "nudge_profile"]
    assert backwards["plan_diff"]["steps_added"] == ["wait_profile", "profile_bonus", "nudge_profile"]
    assert (itself["yaml_diff"], itself["plan_diff"]["steps_changed"]) == ("", [])


async def test_review_refuses_what_validate_refuses_with_the_same_answer(api: httpx.AsyncClient) -> None:
    bodies: list[bytes] = [
        LAUGHS.encode(),
        ("[" * 900 + "]" * 900).encode(),
        b"journey: on\x00boarding\n",
        b"journey: onboarding\nstage: caf\xe9\n",
        bytes(range(256)) * 4,
        b"journey: onboarding\n" + b"#" * (MAX_BODY + 1),
    ]
    for body in bodies:
        validated = await api.post("/v1/journeys/validate", content=body, headers=YAML)
        reviewed = await api.post("/v1/journeys/onboarding/review", content=body, headers=YAML)
        deployed = await api.put("/v1/journeys/onboarding", content=body, headers=YAML)

        assert validated.status_code in (413, 422), validated.text
        assert reviewed.status_code == deployed.status_code == validated.status_code, body[:40]
        answer = validated.text.replace("journey.yaml", "onboarding.yaml")
        assert reviewed.text == deployed.text == answer
    deep = (
        await api.post("/v1/journeys/onboarding/review", content="[" * 900 + "]" * 900, headers=YAML)
    ).json()
    assert (
        deep["errors"][0]["message"]
        == f"nesting deeper than {MAX_DEPTH} levels is not allowed in journey files"
    )
    assert len((await api.get("/v1/journeys/onboarding/versions")).json()["history"]) == 1


async def test_review_of_yaml_that_names_another_journey(api: httpx.AsyncClient) -> None:
    text = ONBOARDING.replace("journey: onboarding", "journey: winback_two")
    response = await api.post("/v1/journeys/onboarding/review", content=text, headers=YAML)

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["file"], error["line"], error["path"]) == ("onboarding.yaml", 2, "journey")
    assert error["message"] == "journey is 'winback_two' but the URL names 'onboarding'"


async def test_a_review_past_its_time_budget_gets_the_422_validate_gives(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = journey_routes.compile_body  # the function api.deploying calls

    def slow(data: bytes, file: str, journeys_dir: Path) -> tuple[str, Plan]:
        import time

        time.sleep(0.5)  # longer than the budget below; the thread then finishes on its own
        return real(data, file, journeys_dir)

    monkeypatch.setattr(deploying, "compile_body", slow)
    monkeypatch.setattr(journey_routes, "VALIDATION_SECONDS", 0.1)

    response = await api.post("/v1/journeys/onboarding/review", content=ONBOARDING, headers=YAML)

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "file": "onboarding.yaml",
            "line": 1,
            "column": 1,
            "path": "",
            "message": "the journey could not be validated within 0.1 s; try again, or simplify it",
        }
    ]


@pytest_asyncio.fixture(loop_scope="session")
async def saving(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Path]]:
    """The API with JOURNEYS_SAVE_DIR set (as journeys up sets it) and JOURNEYS_UI_EDIT off."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    (folder / "onboarding.yaml").write_text(ONBOARDING, "utf-8")
    (folder / "onboarding.yaml").chmod(0o640)
    settings = sandbox.settings.model_copy(update={"journeys_save_dir": folder, "ui_edit": False})
    app: FastAPI = create_app(settings, client=sandbox.client, store=sandbox.store, router=sandbox.router)
    async with app.router.lifespan_context(app), http_client(app, bearer(EDITOR_KEY)) as client:
        yield client, folder


async def test_a_deploy_and_a_rollback_write_the_file_into_the_save_folder(
    saving: tuple[httpx.AsyncClient, Path],
) -> None:
    api, folder = saving
    file = folder / "onboarding.yaml"
    v1 = (await put(api, ONBOARDING))["version"]

    deployed = await put(api, SHORTER_WAIT)
    written = file.read_text("utf-8")
    rolled = (await api.post("/v1/journeys/onboarding/rollback", json={"version": v1})).json()

    assert (deployed["saved_to"], deployed["save_error"]) == (str(file), None)
    assert written == SHORTER_WAIT
    assert rolled["saved_to"] == str(file) and file.read_text("utf-8") == ONBOARDING
    assert oct(file.stat().st_mode & 0o777) == oct(0o640)  # the file keeps its mode
    assert sorted(p.name for p in folder.iterdir()) == ["onboarding.yaml"]  # no temporary file is left
    assert (await api.get("/v1/journeys/onboarding/versions")).json()["ui_edit"] is False


async def test_an_invalid_deploy_writes_no_file_and_a_folder_gone_does_not_undo_the_deploy(
    saving: tuple[httpx.AsyncClient, Path],
) -> None:
    api, folder = saving
    refused = await api.put("/v1/journeys/onboarding", content="journey: onboarding\n", headers=YAML)
    assert refused.status_code == 422 and (folder / "onboarding.yaml").read_text("utf-8") == ONBOARDING

    (folder / "onboarding.yaml").unlink()
    folder.rmdir()
    deployed = await put(api, SHORTER_WAIT)

    assert deployed["saved_to"] is None
    assert deployed["save_error"].startswith(f"could not write onboarding.yaml to {folder}: ")
    assert (await api.get("/v1/journeys/onboarding")).json()["version"] == deployed["version"]


async def test_with_ui_edit_off_a_browser_session_deploys_nothing_but_a_key_still_does(
    sandbox: Sandbox, saving: tuple[httpx.AsyncClient, Path]
) -> None:
    api, _ = saving
    v1 = (await put(api, ONBOARDING))["version"]
    settings = sandbox.settings.model_copy(update={"ui_edit": False})
    app: FastAPI = create_app(settings, client=sandbox.client, store=sandbox.store, router=sandbox.router)
    async with app.router.lifespan_context(app), http_client(app, {}) as browser:
        token = await sign_in(browser, EDITOR_KEY)
        headers = {"X-CSRF-Token": token}
        put_answer = await browser.put(
            "/v1/journeys/onboarding",
            content=SHORTER_WAIT,
            headers={**headers, "Content-Type": "application/yaml"},
        )
        rolled = await browser.post("/v1/journeys/onboarding/rollback", json={"version": v1}, headers=headers)
        saved = await browser.post(
            "/ui/journeys/onboarding/save", json={"source": SHORTER_WAIT}, headers=headers
        )

    for answer in (put_answer, rolled, saved):
        assert answer.status_code == 403, answer.text
        assert "JOURNEYS_UI_EDIT=false" in answer.json()["detail"]
    assert (await api.get("/v1/journeys/onboarding")).json()["version"] == v1
    assert (await put(api, SHORTER_WAIT))["version"] != v1  # the API key still deploys

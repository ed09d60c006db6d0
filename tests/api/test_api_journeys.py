"""Journeys over HTTP: list, read, deploy (valid and invalid), validate, pause and resume, stats."""

from __future__ import annotations

from functools import partial

import httpx

from engine.loader import journey_files
from tests.api.conftest import JOURNEYS_DIR
from tests.api.support import at_step, event, eventually

YAML = {"Content-Type": "application/yaml"}
BROKEN = """\
journey: onboarding
stage: acquisition
trigger: {event: signed_up}
entry: once
steps:
  - {id: welcome, send: {email: no_such_template}}
  - id: wait_profile
    wait_for: {event: profile_completed, timeout: 3 parsecs}
"""


def onboarding_source() -> str:
    return (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8")


async def test_list_shows_every_deployed_journey(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/journeys")

    assert response.status_code == 200
    journeys = {j["name"]: j for j in response.json()}
    assert set(journeys) == {path.stem for path in journey_files(JOURNEYS_DIR)}
    assert {"engagement", "onboarding", "referral_native", "winback"} <= set(journeys)
    assert journeys["onboarding"]["trigger"] == "signed_up"
    assert journeys["onboarding"]["paused"] is False


async def test_get_shows_the_plan_versions_and_a_diagram_with_live_counts(api: httpx.AsyncClient) -> None:
    await api.post("/v1/events", json=event("signed_up", "kai", traits={"email": "kai@example.com"}))
    await eventually(lambda: at_step(api, "kai", "onboarding", "wait_profile"))

    journey = (await api.get("/v1/journeys/onboarding")).json()

    assert journey["plan"]["journey"] == "onboarding"
    assert [v["is_current"] for v in journey["versions"]] == [True]
    assert journey["diagram"].startswith("flowchart TD")
    assert "welcome<br/>email: welcome<br/><b>1</b>" in journey["diagram"]


async def test_an_unknown_journey_gets_404(api: httpx.AsyncClient) -> None:
    for response in (
        await api.get("/v1/journeys/nope"),
        await api.get("/v1/journeys/nope/stats"),
        await api.post("/v1/journeys/nope/pause"),
        await api.post("/v1/journeys/nope/resume"),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "no journey 'nope'"}


async def test_deploying_invalid_yaml_gets_422_with_every_problem_positioned(api: httpx.AsyncClient) -> None:
    response = await api.put("/v1/journeys/onboarding", content=BROKEN, headers=YAML)

    assert response.status_code == 422
    problems = [(e["file"], e["line"], e["column"], e["path"]) for e in response.json()["errors"]]
    assert problems == [
        ("onboarding.yaml", 6, 33, "steps[0].send.email"),
        ("onboarding.yaml", 8, 51, "steps[1].wait_for.timeout"),
    ]
    assert "no_such_template" in response.json()["errors"][0]["message"]
    versions = (await api.get("/v1/journeys/onboarding")).json()["versions"]
    assert len(versions) == 1


async def test_a_yaml_syntax_error_is_positioned_too(api: httpx.AsyncClient) -> None:
    response = await api.put("/v1/journeys/onboarding", content="journey: [onboarding\n", headers=YAML)
    assert response.status_code == 422
    [problem] = response.json()["errors"]
    assert problem["line"] >= 1 and problem["column"] >= 1


async def test_the_journey_id_must_match_the_url(api: httpx.AsyncClient) -> None:
    response = await api.put("/v1/journeys/welcome_series", content=onboarding_source(), headers=YAML)

    assert response.status_code == 422
    [problem] = response.json()["errors"]
    assert problem["path"] == "journey"
    assert problem["line"] == 2
    assert "welcome_series" in problem["message"]


async def test_deploying_a_valid_journey_lists_a_new_current_version(api: httpx.AsyncClient) -> None:
    before = (await api.get("/v1/journeys/onboarding")).json()
    changed = onboarding_source().replace("timeout: 3d}", "timeout: 4d}")

    deployed = await api.put("/v1/journeys/onboarding", content=changed, headers=YAML)
    again = await api.put("/v1/journeys/onboarding", content=changed, headers=YAML)

    assert deployed.status_code == 200
    assert deployed.json()["new_version"] is True
    assert again.json()["new_version"] is False
    after = (await api.get("/v1/journeys/onboarding")).json()
    assert after["version"] == deployed.json()["version"] != before["version"]
    assert [(v["version"], v["is_current"]) for v in after["versions"]] == [
        (after["version"], True),
        (before["version"], False),
    ]
    assert after["plan"]["nodes"][3]["timeout_seconds"] == 4 * 86400
    assert after["source"] == changed


async def test_validate_answers_like_a_deploy_without_deploying(api: httpx.AsyncClient) -> None:
    valid = await api.post("/v1/journeys/validate", content=onboarding_source(), headers=YAML)
    invalid = await api.post("/v1/journeys/validate", content=BROKEN, headers=YAML)

    assert valid.status_code == 200
    assert valid.json()["journey"] == "onboarding" and valid.json()["valid"] is True
    assert invalid.status_code == 422
    assert len(invalid.json()["errors"]) == 2
    assert len((await api.get("/v1/journeys/onboarding")).json()["versions"]) == 1


async def test_pause_stops_new_entries_and_resume_lets_them_in(api: httpx.AsyncClient) -> None:
    paused = await api.post("/v1/journeys/onboarding/pause")
    listed = {j["name"]: j["paused"] for j in (await api.get("/v1/journeys")).json()}
    blocked = await api.post(
        "/v1/events", json=event("signed_up", "lou", traits={"email": "lou@example.com"})
    )
    resumed = await api.post("/v1/journeys/onboarding/resume")
    let_in = await api.post("/v1/events", json=event("signed_up", "mia", traits={"email": "mia@example.com"}))

    assert paused.json() == {"name": "onboarding", "paused": True}
    assert listed["onboarding"] is True
    assert "onboarding" not in blocked.json()["started"]
    assert (await api.get("/v1/customers/lou")).json()["journeys"] == []
    assert resumed.json() == {"name": "onboarding", "paused": False}
    assert let_in.json()["started"] == ["onboarding"]


async def test_stats_count_each_step(api: httpx.AsyncClient) -> None:
    for name in ("nia", "oto"):
        await api.post("/v1/events", json=event("signed_up", name, traits={"email": f"{name}@example.com"}))
        await eventually(partial(at_step, api, name, "onboarding", "wait_profile"))

    stats = (await api.get("/v1/journeys/onboarding/stats")).json()

    assert (stats["entered"], stats["active"], stats["conversions"]) == (2, 2, 0)
    steps = {s["step"]: s for s in stats["steps"]}
    assert [s["step"] for s in stats["steps"]][:4] == ["joined", "welcome", "signup_bonus", "wait_profile"]
    assert steps["welcome"]["sends"] == 2
    assert steps["signup_bonus"]["points_awarded"] == 200
    assert steps["wait_profile"]["waiting"] == 2
    assert steps["welcome"]["conversion_rate"] == 0.0

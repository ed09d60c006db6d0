"""The journey page's live counts: one request answers every number of the diagram, the same as
/v1/journeys/{name}/stats for the current version, and an earlier version keeps its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import httpx
import pytest_asyncio
from fastapi import FastAPI

from tests.api.conftest import EDITOR_KEY, JOURNEYS_DIR, http_client
from tests.api.support import at_step, event, eventually
from tests.support.ui_session import sign_in

YAML = {"Content-Type": "application/yaml"}


@pytest_asyncio.fixture(loop_scope="session")
async def editor(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as browser:
        await sign_in(browser, EDITOR_KEY)
        yield browser


async def test_counts_equal_the_journey_stats_and_edges_carry_their_share(
    api: httpx.AsyncClient, editor: httpx.AsyncClient
) -> None:
    for name in ("uma", "vic", "wes"):
        await api.post("/v1/events", json=event("signed_up", name, traits={"email": f"{name}@example.com"}))
    for name in ("uma", "vic", "wes"):
        await eventually(partial(at_step, api, name, "onboarding", "wait_profile"))
    await api.post("/v1/events", json=event("profile_completed", "uma"))
    await eventually(partial(at_step, api, "uma", "onboarding", "wait_purchase"))

    counts = (await editor.get("/ui/journeys/onboarding/counts")).json()
    stats = (await api.get("/v1/journeys/onboarding/stats")).json()

    assert (counts["entered"], counts["in_flight"]) == (stats["entered"], stats["active"]) == (3, 3)
    for step in stats["steps"]:
        node = counts["nodes"][step["step"]]
        assert (node["entered"], node["waiting"], node["completed"]) == (
            step["entered"],
            step["waiting"],
            step["completed"],
        ), step["step"]
        logged = node["sent"] + node["skipped"] + node["failed"] + node["uncertain"]
        assert logged == step["sends"] + step["skips"]
        assert node["retrying"] == step["retrying"]
        assert node["points"] == step["points_awarded"]
    assert counts["nodes"]["wait_profile"]["waiting"] == 2
    assert counts["nodes"]["welcome"]["sent"] == 3
    assert counts["nodes"]["signup_bonus"]["points"] == 300
    assert counts["edges"]["wait_profile>profile_bonus#0"] == {"count": 1, "share": 0.3333}
    assert counts["edges"]["wait_profile>nudge_profile#1"] == {"count": 0, "share": 0.0}
    assert counts["edges"]["welcome>signup_bonus#0"] == {"count": 3, "share": 1.0}


async def test_an_earlier_version_is_drawn_with_its_own_counts(
    api: httpx.AsyncClient, editor: httpx.AsyncClient
) -> None:
    first = (await api.get("/v1/journeys/onboarding")).json()["version"]
    await api.post("/v1/events", json=event("signed_up", "xan", traits={"email": "xan@example.com"}))
    await eventually(partial(at_step, api, "xan", "onboarding", "wait_profile"))
    changed = (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8").replace("timeout: 3d}", "timeout: 4d}")
    second = (await api.put("/v1/journeys/onboarding", content=changed, headers=YAML)).json()["version"]

    earlier = (await editor.get(f"/ui/journeys/onboarding/counts?version={first}")).json()
    newest = (await editor.get("/ui/journeys/onboarding/counts")).json()
    page = await editor.get(f"/ui/journeys/onboarding?version={first}")

    assert (earlier["version"], earlier["entered"]) == (first, 1)
    assert (newest["version"], newest["entered"]) == (second, 0)
    # Sends are counted per version too: the welcome email went out under the first one.
    assert (earlier["nodes"]["welcome"]["sent"], newest["nodes"]["welcome"]["sent"]) == (1, 0)
    assert "an earlier version" in page.text and f'<option value="{second}">' in page.text
    assert "timeout 4d" in (await editor.get("/ui/journeys/onboarding")).text

"""The /ui pages over HTTP: they need sign-in, carry the CSRF token and a strict content policy, and
the journey page embeds the diagram drawn from the plan with its counts."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI

from tests.api.conftest import EDITOR_KEY, VIEWER_KEY, http_client
from tests.support.ui_session import sign_in


@pytest_asyncio.fixture(loop_scope="session")
async def editor(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as browser:
        await sign_in(browser, EDITOR_KEY)
        yield browser


def embedded(html: str, element_id: str) -> Any:
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert found, f"no #{element_id} in the page"
    return json.loads(found.group(1))


async def test_pages_need_sign_in_and_send_you_back_after(anonymous: httpx.AsyncClient) -> None:
    for path in ("/ui/journeys", "/ui/journeys/onboarding", "/ui/journeys/onboarding/counts"):
        answer = await anonymous.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == f"/ui/sign-in?next={path}"


async def test_ui_leads_to_the_journeys_page(editor: httpx.AsyncClient) -> None:
    answer = await editor.get("/ui")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/journeys"


async def test_the_journeys_page_lists_every_journey_with_pause_buttons_for_editors(
    editor: httpx.AsyncClient,
) -> None:
    page = await editor.get("/ui/journeys")

    assert page.status_code == 200
    for name in ("engagement", "onboarding", "referral_native", "winback"):
        assert f'<tr data-journey="{name}">' in page.text
        assert f'data-action="pause" data-journey="{name}"' in page.text
    token = (await editor.get("/ui/session")).json()["csrf_token"]
    assert f'<meta name="csrf-token" content="{token}">' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


async def test_viewers_see_no_pause_buttons(app: FastAPI) -> None:
    async with http_client(app) as viewer:
        await sign_in(viewer, VIEWER_KEY)
        page = await viewer.get("/ui/journeys")

    assert page.status_code == 200
    assert 'data-action="pause"' not in page.text
    assert "signed in as a viewer" in page.text


async def test_the_journey_page_embeds_one_node_per_step_and_every_way_out(editor: httpx.AsyncClient) -> None:
    page = await editor.get("/ui/journeys/onboarding")

    assert page.status_code == 200
    drawn = embedded(page.text, "diagram-data")
    steps = [n["id"] for n in drawn["nodes"] if n["kind"] not in ("trigger", "end")]
    assert steps[:4] == ["joined", "welcome", "signup_bonus", "wait_profile"] and len(steps) == 15
    edges = {(e["source"], e["target"]): e for e in drawn["edges"]}
    assert edges[("wait_profile", "profile_bonus")]["kind"] == "event"
    assert edges[("wait_profile", "nudge_profile")]["label"] == "timeout 3d"
    assert edges[("pick_offer", "offer_discount")]["label"] == "discount 45%"
    assert edges[("pick_offer", "__end")]["label"] == "control 10%"
    counts = embedded(page.text, "counts-data")
    assert set(counts["nodes"]) == {"__entry", *steps}
    assert '<ol id="step-list">' in page.text  # the text alternative


async def test_the_step_list_reads_as_a_sentence_for_sends_and_awards(editor: httpx.AsyncClient) -> None:
    page = await editor.get("/ui/journeys/onboarding")

    def step_text(step: str) -> str:
        found = re.search(
            rf'<li data-list-step="{step}">.*?<span class="list-counts">(.*?)</span>\s*</li>', page.text, re.S
        )
        assert found, step
        return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())

    assert (
        step_text("welcome") == "0 waiting, 0 entered, 0 completed; 0 sent, 0 skipped, 0 failed, 0 retrying"
    )
    assert step_text("signup_bonus") == "0 waiting, 0 entered, 0 completed; 0 points given"
    assert step_text("wait_profile") == "0 waiting, 0 entered, 0 completed"


async def test_an_unknown_journey_or_version_is_404(editor: httpx.AsyncClient) -> None:
    assert (await editor.get("/ui/journeys/nope")).status_code == 404
    assert (await editor.get("/ui/journeys/onboarding?version=0000")).status_code == 404
    assert (await editor.get("/ui/journeys/onboarding/steps/nope")).status_code == 404


async def test_the_mermaid_export_is_the_flowchart_of_the_version_shown(editor: httpx.AsyncClient) -> None:
    answer = await editor.get("/ui/journeys/onboarding/mermaid")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text.startswith("flowchart TD")
    assert "welcome<br/>email: welcome<br/><b>0</b>" in answer.text


async def test_static_assets_are_served_locally(anonymous: httpx.AsyncClient) -> None:
    for path in ("ui.css", "journey-page.js", "vendor/elk.bundled.js"):
        answer = await anonymous.get(f"/ui/static/{path}")
        assert answer.status_code == 200, path

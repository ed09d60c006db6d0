"""A step's side panel: its YAML and description, the email rendered for the sample customer in
each locale (framed with a sandboxing policy), and the customers waiting there, page by page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from api.ui import steps
from tests.api.conftest import EDITOR_KEY, JOURNEYS_DIR, http_client
from tests.api.support import at_step, event, eventually
from tests.support.ui_session import sign_in

YAML = {"Content-Type": "application/yaml"}


@pytest_asyncio.fixture(loop_scope="session")
async def editor(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as browser:
        await sign_in(browser, EDITOR_KEY)
        yield browser


async def test_an_email_step_shows_the_email_for_the_sample_customer_in_each_locale(
    editor: httpx.AsyncClient,
) -> None:
    panel = await editor.get("/ui/journeys/onboarding/steps/welcome")

    assert panel.status_code == 200
    assert "Welcome aboard, Ada!" in panel.text
    assert 'data-locale="default"' in panel.text and 'data-locale="id"' in panel.text
    assert 'sandbox=""' in panel.text
    framed = await editor.get("/ui/journeys/onboarding/steps/welcome/email?locale=id")
    assert framed.status_code == 200
    assert "sandbox" in framed.headers["content-security-policy"]
    assert "Ada" in framed.text
    assert (await editor.get("/ui/journeys/onboarding/steps/welcome/email?locale=fr")).status_code == 404
    assert (await editor.get("/ui/journeys/onboarding/steps/joined/email")).status_code == 404


async def test_the_panel_shows_the_step_as_written_with_its_description(
    api: httpx.AsyncClient, editor: httpx.AsyncClient
) -> None:
    compiled = await editor.get("/ui/journeys/onboarding/steps/pick_offer")
    source = (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8")
    source = source.replace("weight: 50, next: offer_d", "weight: 60, next: offer_d")
    await api.put("/v1/journeys/onboarding", content=source, headers=YAML)
    written = await editor.get("/ui/journeys/onboarding/steps/pick_offer")

    assert "The step as compiled" in compiled.text  # the sandbox deployed plans without their files
    assert "The step as written" in written.text
    assert "A/B test of the first-purchase incentive" in written.text
    assert "weight: 60" in written.text


async def test_the_customers_waiting_at_a_step_come_page_by_page(
    api: httpx.AsyncClient, editor: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["amy", "ben", "cal"]
    for name in names:
        await api.post("/v1/events", json=event("signed_up", name, traits={"email": f"{name}@example.com"}))
    for name in names:
        await eventually(partial(at_step, api, name, "onboarding", "wait_profile"))
    monkeypatch.setattr(steps, "PAGE_SIZE", 2)

    first = await editor.get("/ui/journeys/onboarding/steps/wait_profile")
    second = await editor.get("/ui/journeys/onboarding/steps/wait_profile/customers?after=ben")
    nobody = await editor.get("/ui/journeys/onboarding/steps/welcome")

    assert '<a href="/ui/customers/amy">amy</a>' in first.text
    assert '<a href="/ui/customers/ben">ben</a>' in first.text
    assert "cal" not in first.text and 'data-more="ben"' in first.text
    assert '<a href="/ui/customers/cal">cal</a>' in second.text and "data-more" not in second.text
    assert "Nobody is waiting here now." in nobody.text

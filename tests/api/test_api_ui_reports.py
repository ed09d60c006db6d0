"""The reports page over HTTP on a store with no customers: sign-in needed, each part says what to
do to get numbers, and a refused range answers the page with the reason (422), never JSON or a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from fastapi import FastAPI

from tests.api.conftest import EDITOR_KEY, http_client
from tests.support.ui_session import sign_in


@pytest_asyncio.fixture(loop_scope="session")
async def editor(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as browser:
        await sign_in(browser, EDITOR_KEY)
        yield browser


async def test_the_reports_page_needs_sign_in(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.get("/ui/reports")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/sign-in?next=/ui/reports"


async def test_an_empty_store_says_what_to_do_in_every_part(editor: httpx.AsyncClient) -> None:
    answer = await editor.get("/ui/reports")

    assert answer.status_code == 200
    for part in ("lifecycle", "transitions", "acquisition", "value"):
        assert f'data-empty="{part}"' in answer.text, part
    assert "No purchases yet" in answer.text and "purchase_completed" in answer.text
    assert 'data-chart="' not in answer.text  # nothing to draw
    assert '<a href="/ui/reports" aria-current="page">Reports</a>' in answer.text
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")


async def test_a_refused_range_is_the_page_with_the_reason(editor: httpx.AsyncClient) -> None:
    cases = {
        ("2026-03-05", "2026-03-01"): "from (2026-03-05) is after to (2026-03-01)",
        ("2025-01-01", "2026-03-01"): "a range is at most 366 days",
        ("2026-02-30", ""): "“From” is not a date (YYYY-MM-DD): 2026-02-30",
        ("0001-01-01", "0001-01-02"): "0001-01-01 is outside 1970-01-01 to 2999-12-31",
        ("+2026-03-01", ""): "“From” is not a date",
    }
    for (first, last), reason in cases.items():
        answer = await editor.get("/ui/reports", params={"from": first, "to": last})
        assert answer.status_code == 422, (first, last)
        assert answer.headers["content-type"].startswith("text/html")
        assert reason in answer.text, (first, last, answer.text[-2000:])
    too_long = await editor.get("/ui/reports", params={"from": "2" * 41})
    assert too_long.status_code == 422  # the parameter's own bound


async def test_the_results_panel_of_a_journey_nobody_entered_and_of_no_journey(
    editor: httpx.AsyncClient,
) -> None:
    answer = await editor.get("/ui/journeys/onboarding/results")
    assert answer.status_code == 200
    assert 'data-empty="results"' in answer.text and "<code>signed_up</code>" in answer.text
    assert (await editor.get("/ui/journeys/nope/results")).status_code == 404
    assert (
        await editor.get("/ui/journeys/onboarding/results", params={"window_days": 91})
    ).status_code == 422

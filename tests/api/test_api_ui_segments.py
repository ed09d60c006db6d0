"""The segments page over HTTP: sign-in first (viewers may read); without segments it says so; with
the example segments it lists each one's condition as written and the size ``GET /v1/segments`` gives."""

from __future__ import annotations

import re
from html import unescape

import httpx

from engine.segments.loader import load_segments
from simulate.sandbox import Sandbox
from tests.api.conftest import JOURNEYS_DIR

ROW = re.compile(r'<tr data-segment="([^"]+)">.*?data-size="(\d+)"', re.S)


async def test_the_page_needs_sign_in(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.get("/ui/segments")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/ui/sign-in?next=/ui/segments")


async def test_without_segments_the_page_says_so(viewer: httpx.AsyncClient) -> None:
    answer = await viewer.get("/ui/segments")
    assert answer.status_code == 200
    assert "data-no-segments" in answer.text and "data-segment=" not in answer.text
    assert 'aria-current="page">Segments</a>' in answer.text


async def test_the_page_lists_what_the_api_lists(
    sandbox: Sandbox, api: httpx.AsyncClient, viewer: httpx.AsyncClient
) -> None:
    sandbox.router.segments.use(load_segments(JOURNEYS_DIR))
    for customer in ("ada", "bob"):
        for _ in range(3):
            await sandbox.event("purchase_completed", customer, {"total": 10}, traits={"plan": "pro"})
    await sandbox.event("purchase_completed", "cyd", {"total": 10}, traits={"plan": "pro"})  # once: no vip

    answer = await viewer.get("/ui/segments")
    listed = (await api.get("/v1/segments")).json()["segments"]

    assert answer.status_code == 200
    shown = [(name, int(size)) for name, size in ROW.findall(answer.text)]
    assert shown == [(s["name"], s["size"]) for s in listed]
    assert ("vip", 2) in shown
    text = unescape(answer.text)
    assert "behaviour.purchase_completed.count_90d >= 3" in text
    assert "Bought at least 3 times in the last 90 days" in text

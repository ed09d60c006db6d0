"""The segments page in Chromium: before any segment is loaded it says there are none; with the
example segments and customers seeded through the API (two bought 3 times, one once), the vip row
shows its condition as written and 2 customers, as ``GET /v1/segments/vip`` does; axe-core finds no
serious violation; the nav leads there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from engine.segments.loader import load_segments
from simulate.sandbox import Sandbox
from tests.ui.live_server import LiveServer
from tests.ui.reading import until
from tests.ui.test_ui_accessibility import serious

PURCHASES = {"ada": 3, "bea": 3, "cyd": 1}  # vip: at least 3 in 90 days


def load_example_segments(server: LiveServer) -> None:
    async def work(sandbox: Sandbox) -> None:
        sandbox.router.segments.use(load_segments(server.journeys_dir))

    server.call(work)


def vip_size(server: LiveServer, size: int) -> dict[str, Any] | None:
    found: dict[str, Any] = server.api.get("/v1/segments/vip").json()
    return found if found.get("size") == size else None


def test_the_page_shows_each_segment_and_its_size(page: Page, server: LiveServer, artifacts: Path) -> None:
    page.goto("/ui/segments")
    expect(page.locator("[data-no-segments]")).to_contain_text("There are no segments")

    load_example_segments(server)
    for customer_id, purchases in PURCHASES.items():
        answer = server.api.put(f"/v1/customers/{customer_id}", json={"email": f"{customer_id}@example.com"})
        assert answer.is_success, answer.text
        for _ in range(purchases):
            server.event("purchase_completed", customer_id, properties={"total": 10})
    until(lambda: vip_size(server, 2), what="the vip segment to hold 2 customers")

    page.goto("/ui/customers")
    page.locator("nav[aria-label=Main] a", has_text="Segments").click()
    page.wait_for_url("**/ui/segments")
    expect(page.locator("nav[aria-label=Main] a[aria-current=page]")).to_have_text("Segments")
    vip = page.locator("tr[data-segment=vip]")
    expect(vip.locator("td.num")).to_have_text("2")
    expect(vip.locator(".segment-where")).to_have_text("behaviour.purchase_completed.count_90d >= 3")
    expect(vip).to_contain_text("Bought at least 3 times in the last 90 days")
    expect(page.locator("tr[data-segment=inactive_30d] td.num")).to_have_text("0")
    expect(page.locator("tbody tr")).to_have_count(3)
    assert serious(page) == []
    page.screenshot(path=artifacts / "segments.png")

"""GET /v1/segments and /v1/segments/{name}: each segment of the router with how many are in it now."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from engine.segments.loader import load_segments
from simulate.sandbox import Sandbox
from tests.api.conftest import AUTH, JOURNEYS_DIR, http_client


async def test_segments_and_their_sizes(sandbox: Sandbox, api: httpx.AsyncClient) -> None:
    sandbox.router.segments.use(load_segments(JOURNEYS_DIR))
    for customer in ("ada", "bob"):
        for _ in range(3):
            await sandbox.event("purchase_completed", customer, {"total": 10}, traits={"plan": "pro"})
    listed = (await api.get("/v1/segments")).json()["segments"]
    assert [(s["name"], s["size"]) for s in listed] == [("inactive_30d", 0), ("shoe_browsers", 0), ("vip", 2)]
    vip = (await api.get("/v1/segments/vip")).json()
    assert vip["where"] == "behaviour.purchase_completed.count_90d >= 3" and vip["size"] == 2
    assert vip["description"].startswith("Bought at least 3 times")


async def test_an_unknown_or_malformed_name_is_a_clear_4xx(sandbox: Sandbox, api: httpx.AsyncClient) -> None:
    sandbox.router.segments.use(load_segments(JOURNEYS_DIR))
    missing = await api.get("/v1/segments/nope")
    assert missing.status_code == 404 and missing.json()["detail"] == 'there is no segment "nope"'
    assert (await api.get("/v1/segments/" + "x" * 300)).status_code == 422
    assert (await api.get("/v1/segments/Not-A-Name")).status_code == 422


async def test_the_api_starts_with_a_broken_segment_file_and_names_it(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS_DIR / "segments", folder / "segments")
    (folder / "segments" / "vip.yaml").write_text("segment: vip\nwhere: behaviour.order.count_9d > 1\n")
    settings = sandbox.settings.model_copy(update={"journeys_dir": folder})
    application = create_app(settings, client=sandbox.client, store=sandbox.store)
    with caplog.at_level(logging.ERROR, logger="journeys.segments"):
        async with application.router.lifespan_context(application), http_client(application, AUTH) as api:
            listed = (await api.get("/v1/segments")).json()["segments"]
    assert [s["name"] for s in listed] == ["inactive_30d", "shoe_browsers"]  # the valid ones
    logged = [record.getMessage() for record in caplog.records]
    assert logged[0].startswith(f"segment file not loaded: {folder / 'segments' / 'vip.yaml'}:2:8 where:")
    assert 'did you mean "count_90d"?' in logged[0]
    assert logged[1].startswith(f"1 problem(s) in {folder / 'segments'}")

"""Events over real HTTP, served as ``journeys api`` serves them (``api.server.server_config``), with
each HTTP/1.1 parser uvicorn can use: httptools (what "auto" picks, as it is installed) and the h11
fallback. Both must give the same answers, byte for byte."""

from __future__ import annotations

from typing import Literal

import httpx
import pytest
from fastapi import FastAPI

from api.schemas import EventAccepted, EventBatchAccepted
from api.server import HeadBoundH11Protocol, HeadBoundHttpToolsProtocol
from simulate.sandbox import Sandbox
from tests.api.conftest import AUTH
from tests.api.serving import serving
from tests.api.support import event

Parser = Literal["auto", "httptools", "h11"]
PROTOCOLS = {
    "auto": HeadBoundHttpToolsProtocol,
    "httptools": HeadBoundHttpToolsProtocol,
    "h11": HeadBoundH11Protocol,
}


@pytest.mark.parametrize("parser", ["auto", "httptools", "h11"])
async def test_every_parser_serves_events_with_the_documented_answers(
    app: FastAPI, sandbox: Sandbox, parser: Parser
) -> None:
    async with serving(app, sandbox, parser) as server:
        assert server.config.http_protocol_class is PROTOCOLS[parser]
        url = f"http://127.0.0.1:{server.config.port}"
        async with httpx.AsyncClient(base_url=url, headers=AUTH) as http:
            one = event("signed_up", f"http-{parser}", traits={"email": f"{parser}@example.com"})
            first = await http.post("/v1/events", json=one)
            again = await http.post("/v1/events", json=one)
            batch = await http.post(
                "/v1/events/batch", json={"events": [one, event("signed_up", f"http-{parser}-2")]}
            )
            invalid = await http.post("/v1/events", json={**one, "name": "Signed Up!"})

    assert first.status_code == again.status_code == batch.status_code == 202
    assert first.headers["content-type"] == "application/json"
    assert first.headers["content-length"] == str(len(first.content))
    answer = EventAccepted.model_validate_json(first.content)
    assert (answer.event_id, answer.duplicate, answer.started) == (one["event_id"], False, ["onboarding"])
    assert again.json() == {
        "event_id": one["event_id"],
        "duplicate": True,
        "started": [],
        "signalled": [],
        "skipped": [],
    }
    batched = EventBatchAccepted.model_validate_json(batch.content)
    assert (batched.accepted, batched.duplicates) == (1, 1)
    assert [r.started for r in batched.results] == [[], ["onboarding"]]
    assert invalid.status_code == 422
    assert [e["path"] for e in invalid.json()["errors"]] == ["body.name"]

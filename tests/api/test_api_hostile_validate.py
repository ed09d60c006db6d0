"""Hostile journeys over HTTP: each gets a 422 with positioned errors, and none delays the others.

Validation runs on threads of its own (api.routes.journeys.off_loop): /healthz answers while one
is still running, and one that runs past its time budget answers 422 instead of waiting on.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.routes import journeys as routes
from engine.limits import MAX_DEPTH
from engine.plan import Plan
from engine.source import format_path
from tests.api.conftest import JOURNEYS_DIR

YAML = {"Content-Type": "application/yaml"}
ANCHORS = "anchors and aliases (&, *) are not allowed in journey files"
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


def problems(response: httpx.Response) -> list[tuple[str, int, int, str, str]]:
    assert response.status_code == 422, response.text
    return [(e["file"], e["line"], e["column"], e["path"], e["message"]) for e in response.json()["errors"]]


async def test_an_alias_bomb_gets_422_at_its_first_anchor(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/journeys/validate", content=LAUGHS, headers=YAML)
    assert problems(response) == [("journey.yaml", 1, 4, "a", ANCHORS)]


async def test_deploying_an_alias_bomb_gets_422_and_deploys_nothing(api: httpx.AsyncClient) -> None:
    before = (await api.get("/v1/journeys/onboarding")).json()["versions"]
    response = await api.put("/v1/journeys/onboarding", content=LAUGHS, headers=YAML)
    assert problems(response) == [("onboarding.yaml", 1, 4, "a", ANCHORS)]
    assert (await api.get("/v1/journeys/onboarding")).json()["versions"] == before


async def test_deep_nesting_gets_422_at_the_level_past_the_limit(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/journeys/validate", content="[" * 900 + "]" * 900, headers=YAML)
    message = f"nesting deeper than {MAX_DEPTH} levels is not allowed in journey files"
    assert problems(response) == [("journey.yaml", 1, 33, format_path((0,) * MAX_DEPTH), message)]


@pytest.mark.parametrize(
    ("body", "line", "column", "message"),
    [
        (b"journey: on\x00boarding\n", 1, 12, "control character U+0000 is not allowed in a journey file"),
        (
            b"journey: onboarding\nstage: caf\xe9\n",
            2,
            11,
            "the file is not valid UTF-8: byte 0xe9 cannot start or continue a character",
        ),
    ],
)
async def test_bad_characters_and_sizes_get_positioned_422(
    api: httpx.AsyncClient, body: bytes, line: int, column: int, message: str
) -> None:
    response = await api.post("/v1/journeys/validate", content=body, headers=YAML)
    assert problems(response) == [("journey.yaml", line, column, "", message)]


async def test_a_template_name_that_is_a_path_gets_422(api: httpx.AsyncClient) -> None:
    text = (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8").replace("email: welcome}", "email: /etc}", 1)
    response = await api.post("/v1/journeys/validate", content=text, headers=YAML)
    [(file, _, _, path, message)] = problems(response)
    assert (file, path) == ("journey.yaml", "steps[1].send.email")
    assert message.startswith('"/etc" is not a template name')
    assert str(JOURNEYS_DIR) not in response.text


@pytest.fixture
def slow_compile(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Validation that waits, on its thread, until the test lets it go: (started, release)."""
    started, release = threading.Event(), threading.Event()
    real = routes.compile_body

    def slow(data: bytes, file: str, journeys_dir: Path) -> tuple[str, Plan]:
        started.set()
        release.wait(timeout=30)
        return real(data, file, journeys_dir)

    monkeypatch.setattr(routes, "compile_body", slow)
    try:
        yield started, release
    finally:
        release.set()


async def test_healthz_answers_while_a_slow_validation_runs(
    api: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    slow_compile: tuple[threading.Event, threading.Event],
) -> None:
    started, release = slow_compile
    source = (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8")
    validation = asyncio.create_task(api.post("/v1/journeys/validate", content=source, headers=YAML))
    assert await asyncio.to_thread(started.wait, 10)

    health = await anonymous.get("/healthz")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert not validation.done()
    release.set()
    response = await validation
    assert response.status_code == 200
    assert response.json()["journey"] == "onboarding"


async def test_a_validation_past_its_time_budget_gets_422(
    api: httpx.AsyncClient,
    slow_compile: tuple[threading.Event, threading.Event],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(routes, "VALIDATION_SECONDS", 0.2)
    source = (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8")

    response = await api.post("/v1/journeys/validate", content=source, headers=YAML)

    message = "the journey could not be validated within 0.2 s; try again, or simplify it"
    assert problems(response) == [("journey.yaml", 1, 1, "", message)]
    started, _ = slow_compile
    assert started.is_set()


async def test_validation_answers_as_before_for_a_good_journey(api: httpx.AsyncClient) -> None:
    source = (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8")
    response = await api.post("/v1/journeys/validate", content=source, headers=YAML)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200
    assert (body["journey"], body["steps"]) == ("onboarding", 15)

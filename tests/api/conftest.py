"""Fixtures for the API tests: the app over HTTP (httpx, ASGI) on a Sandbox with real Temporal
(time-skipping test server), the real store and the real SMTP outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from api.app import create_app
from engine.loader import load_directory
from engine.loyalty.loader import load_program_in
from engine.plan import Plan
from simulate.sandbox import Sandbox
from tests.support.ui_session import sign_in

JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"
API_KEY = "test-api-key"
VIEWER_KEY = "test-viewer-key"
EDITOR_KEY = "test-editor-key"
MAX_BODY = 200_000
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="session")
def plans() -> list[Plan]:
    return load_directory(JOURNEYS_DIR)


@pytest_asyncio.fixture(loop_scope="session")
async def sandbox(plans: list[Plan], tmp_path: Path) -> AsyncIterator[Sandbox]:
    settings = {
        "api_keys": [
            API_KEY,
            "second-key",
            {"key": VIEWER_KEY, "name": "Vera Viewer", "role": "viewer"},
            {"key": EDITOR_KEY, "name": "Eddie Editor", "role": "editor"},
        ],
        "journeys_dir": JOURNEYS_DIR,
        "max_body_bytes": MAX_BODY,
        "unsubscribe_secret": "api-test-unsubscribe-secret-0123",
        "public_base_url": "https://journeys.test",
    }
    async with Sandbox.open(plans, workdir=tmp_path, settings=settings) as opened:
        yield opened


async def deploy_example_program(sandbox: Sandbox) -> None:
    """Deploy journeys/loyalty.yaml, as `journeys deploy` does (its tiers: bronze 100, silver 500)."""
    path = JOURNEYS_DIR / "loyalty.yaml"
    program = load_program_in(JOURNEYS_DIR)
    assert program is not None
    await sandbox.store.loyalty_programs.deploy(program, path.read_text("utf-8"))


def app_for(sandbox: Sandbox) -> FastAPI:
    return create_app(sandbox.settings, client=sandbox.client, store=sandbox.store, router=sandbox.router)


@pytest_asyncio.fixture(loop_scope="session")
async def app(sandbox: Sandbox) -> AsyncIterator[FastAPI]:
    application = app_for(sandbox)
    async with application.router.lifespan_context(application):
        yield application


def http_client(app: FastAPI, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test", headers=headers
    )


@pytest_asyncio.fixture(loop_scope="session")
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with a valid API key."""
    async with http_client(app, AUTH) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client without credentials."""
    async with http_client(app) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def viewer(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in to the pages with the viewer's key."""
    async with http_client(app) as browser:
        await sign_in(browser, VIEWER_KEY)
        yield browser

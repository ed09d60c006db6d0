"""``Store``: one engine, its migrations and the repositories the rest of Journeys calls."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from store import (
    loyalty_tables,  # noqa: F401  the loyalty tables join the metadata
    policy_tables,  # noqa: F401  and the channel policy's
)
from store.channel_policies import ChannelPolicyRepository
from store.customers import CustomerRepository
from store.deliveries import DeliveryRepository
from store.deployments import DeploymentRepository
from store.events import ProcessedEventRepository
from store.loyalty_programs import LoyaltyProgramRepository
from store.migrate import upgrade
from store.points import PointsRepository
from store.retries import RetryRepository
from store.sending import BeforeSend, before_send
from store.sqlite_inline import inline_creator
from store.sqlite_thread import on_a_file, serialise_sqlite_writes
from store.steps import StepRepository
from store.tables import metadata


class Store:
    """The database of Journeys. ``Store(url)``, then ``await store.migrate()`` once per process.

    ``schema`` (PostgreSQL only) puts every table in that schema, which tests use for isolation.
    ``inline`` (a SQLite file only) runs each statement on the event loop's thread instead of
    aiosqlite's (``store.sqlite_inline``): for a throwaway store that nothing else shares, such as a
    simulation's.
    """

    def __init__(
        self, url: str, *, schema: str | None = None, echo: bool = False, inline: bool = False
    ) -> None:
        self.url = make_url(url)
        self.schema = schema
        self.engine = _create_engine(url, schema=schema, echo=echo, inline=inline)
        self.customers = CustomerRepository(self.engine)
        self.deliveries = DeliveryRepository(self.engine)
        self.retries = RetryRepository(self.engine)
        self.steps = StepRepository(self.engine)
        self.events = ProcessedEventRepository(self.engine)
        self.deployments = DeploymentRepository(self.engine)
        self.loyalty_programs = LoyaltyProgramRepository(self.engine)
        self.channel_policies = ChannelPolicyRepository(self.engine)
        self.points = PointsRepository(self.engine, self.loyalty_programs)

    async def before_send(self, key: str, customer_id: str, journey: str | None, at: datetime) -> BeforeSend:
        """Delivery already logged, customer, and pause of ``journey``, in one read."""
        return await before_send(self.engine, key, customer_id, journey, at)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (``alembic upgrade head``)."""
        async with self.engine.begin() as conn:
            if self.schema and self.dialect == "postgresql":
                await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            await conn.run_sync(upgrade)

    async def create_schema(self) -> None:
        """Create the tables straight from their definitions, for a throwaway store (simulations).

        The same schema ``migrate`` builds (a test keeps the two equal), without loading Alembic;
        the store is not stamped with a migration version, so never use this for one that lasts.
        """
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def truncate(self) -> None:
        """Delete every row of every table (tests and demos); keeps the schema."""
        async with self.engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(table.delete())

    async def close(self) -> None:
        await self.events.close()  # its thread's connection (a store on a SQLite file)
        await self.steps.close()  # and that of the step records
        await self.engine.dispose()


def _create_engine(url: str, *, schema: str | None, echo: bool, inline: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    if inline and not on_a_file(parsed):
        raise ValueError(f"an inline store is a SQLite file; {parsed.render_as_string()} is not")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        connecting: dict[str, Any] = (
            {"async_creator": inline_creator(str(database))} if inline else {"connect_args": {"timeout": 30}}
        )
        # One connection per process: SQLite has one writer anyway, and queueing in the pool is
        # cheaper than many connections polling for the lock (about 2x on 1,000 simulated stories).
        engine = create_async_engine(
            url, echo=echo, pool_size=1, max_overflow=0, pool_timeout=60, **connecting
        )
        serialise_sqlite_writes(engine.sync_engine)
        return engine
    connect_args: dict[str, Any] = {}
    if schema and parsed.get_backend_name() == "postgresql":
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args)

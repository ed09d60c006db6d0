"""Deployed journeys: every compiled version with its YAML source, which one is current, paused."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.plan import Plan
from store.inserts import insert_ignore
from store.reading import reading
from store.tables import journey_state, journey_versions
from store.types import utcnow


class JourneyVersion(BaseModel):
    name: str
    version: str
    deployed_at: datetime
    is_current: bool
    source: str


class DeploymentRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def deploy(self, plan: Plan, source: str) -> bool:
        """Make ``plan`` the current version of its journey; True if this version is new.

        Deploying an older version again makes it current once more (a rollback).
        """
        name = plan.journey
        async with self._engine.begin() as conn:
            # Lock the journey's state row so concurrent deploys of one journey queue up.
            await insert_ignore(conn, journey_state, {"name": name, "paused": False})
            await conn.execute(
                sa.select(journey_state.c.name).where(journey_state.c.name == name).with_for_update()
            )
            created = await insert_ignore(
                conn,
                journey_versions,
                {
                    "name": name,
                    "version": plan.version,
                    "source": source,
                    "plan": plan.model_dump(mode="json"),
                    "deployed_at": utcnow(),
                    "is_current": False,
                },
            )
            await conn.execute(
                journey_versions.update()
                .where(journey_versions.c.name == name)
                .values(is_current=journey_versions.c.version == plan.version)
            )
        return created

    async def current(self, name: str) -> Plan | None:
        async with reading(self._engine).connect() as conn:
            value = await conn.scalar(
                sa.select(journey_versions.c.plan).where(
                    journey_versions.c.name == name, journey_versions.c.is_current.is_(True)
                )
            )
        return None if value is None else Plan.model_validate(value)

    async def names(self) -> list[str]:
        """Every journey ever deployed, paused or not."""
        async with reading(self._engine).connect() as conn:
            query = sa.select(journey_versions.c.name).distinct().order_by(journey_versions.c.name)
            return list(await conn.scalars(query))

    async def versions(self, name: str) -> list[JourneyVersion]:
        """Every deployed version of ``name``, newest first."""
        query = (
            sa.select(
                journey_versions.c.name,
                journey_versions.c.version,
                journey_versions.c.deployed_at,
                journey_versions.c.is_current,
                journey_versions.c.source,
            )
            .where(journey_versions.c.name == name)
            .order_by(journey_versions.c.deployed_at.desc(), journey_versions.c.id.desc())
        )
        async with reading(self._engine).connect() as conn:
            rows = (await conn.execute(query)).mappings()
            return [JourneyVersion.model_validate(dict(row)) for row in rows]

    async def set_paused(self, name: str, paused: bool) -> None:
        """Pause (no new customers enter; those inside are held before their next send) or resume."""
        async with self._engine.begin() as conn:
            if not await insert_ignore(conn, journey_state, {"name": name, "paused": paused}):
                await conn.execute(
                    journey_state.update().where(journey_state.c.name == name).values(paused=paused)
                )

    async def is_paused(self, name: str) -> bool:
        async with reading(self._engine).connect() as conn:
            value = await conn.scalar(sa.select(journey_state.c.paused).where(journey_state.c.name == name))
        return bool(value)

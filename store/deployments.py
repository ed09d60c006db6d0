"""Deployed journeys: every compiled version with its YAML source, which one is current, who made it
current and when (the deploy history), paused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from engine.plan import Plan
from store.inserts import insert_ignore
from store.reading import reading
from store.tables import deploy_history, journey_state, journey_versions
from store.types import utcnow

Action = Literal["deploy", "rollback"]


class JourneyVersion(BaseModel):
    name: str
    version: str
    deployed_at: datetime
    is_current: bool
    source: str


class StoredVersion(JourneyVersion):
    """One deployed version with its compiled plan."""

    plan: Plan


class DeployRecord(BaseModel):
    """One row of the deploy history: ``version`` became current by ``action`` of ``deployed_by``."""

    journey: str
    version: str
    deployed_by: str | None  # None: deployed before the history named anyone (migration 0007)
    action: Action
    at: datetime
    is_current: bool  # this row's version is the journey's current version


@dataclass(frozen=True)
class Deployment:
    """What a deploy or a rollback did."""

    journey: str
    version: str
    new_version: bool  # this version had never been deployed
    previous: str | None  # the version current before (None: the journey is new)
    action: Action | None  # None: the version was current already, nothing changed or was recorded
    at: datetime


class DeploymentRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def deploy(self, plan: Plan, source: str, deployed_by: str | None = None) -> bool:
        """Make ``plan`` the current version of its journey; True if this version is new.

        Deploying an older version again makes it current once more, recorded as a rollback;
        ``publish`` answers everything that happened.
        """
        return (await self.publish(plan, source, deployed_by=deployed_by)).new_version

    async def publish(self, plan: Plan, source: str, *, deployed_by: str | None) -> Deployment:
        """Make ``plan`` current, storing it (and ``source``) if it is new, and record who did it:
        a ``deploy`` for a new version, a ``rollback`` for an earlier one, nothing for the current one."""
        name = plan.journey
        async with self._engine.begin() as conn:
            previous = await _lock(conn, name)
            at = utcnow()
            created = await insert_ignore(
                conn,
                journey_versions,
                {
                    "name": name,
                    "version": plan.version,
                    "source": source,
                    "plan": plan.model_dump(mode="json"),
                    "deployed_at": at,
                    "is_current": False,
                },
            )
            if not created and source:  # a version deployed without its YAML (simulations) gets it now
                await conn.execute(
                    journey_versions.update()
                    .where(
                        journey_versions.c.name == name,
                        journey_versions.c.version == plan.version,
                        journey_versions.c.source == "",
                    )
                    .values(source=source)
                )
            action: Action = "deploy" if created else "rollback"
            return await _make_current(conn, name, plan.version, previous, action, deployed_by, at, created)

    async def rollback(self, name: str, version: str, *, deployed_by: str | None) -> Deployment | None:
        """Make the stored ``version`` of ``name`` current again, recorded as a rollback; None if
        there is no such version."""
        async with self._engine.begin() as conn:
            previous = await _lock(conn, name)
            known = await conn.scalar(
                sa.select(journey_versions.c.id).where(
                    journey_versions.c.name == name, journey_versions.c.version == version
                )
            )
            if known is None:
                return None
            return await _make_current(
                conn, name, version, previous, "rollback", deployed_by, utcnow(), False
            )

    async def current(self, name: str) -> Plan | None:
        async with reading(self._engine).connect() as conn:
            value = await conn.scalar(
                sa.select(journey_versions.c.plan).where(
                    journey_versions.c.name == name, journey_versions.c.is_current.is_(True)
                )
            )
        return None if value is None else Plan.model_validate(value)

    async def get(self, name: str, version: str | None = None) -> StoredVersion | None:
        """One stored version of ``name`` with its plan and source (the current one when ``version``
        is None), or None."""
        v = journey_versions.c
        query = sa.select(v.name, v.version, v.deployed_at, v.is_current, v.source, v.plan).where(
            v.name == name
        )
        query = query.where(v.is_current.is_(True) if version is None else v.version == version)
        async with reading(self._engine).connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else StoredVersion.model_validate(dict(row))

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

    async def history(self, name: str, *, limit: int | None = None) -> list[DeployRecord]:
        """Who made which version of ``name`` current, and when: newest first, ``limit`` rows at most."""
        h, v = deploy_history.c, journey_versions.c
        current = sa.select(v.version).where(v.name == name, v.is_current.is_(True)).scalar_subquery()
        query = (
            sa.select(
                h.journey,
                h.version,
                h.deployed_by,
                h.action,
                h.at,
                (h.version == current).label("is_current"),
            )
            .where(h.journey == name)
            .order_by(h.at.desc(), h.id.desc())
            .limit(limit)
        )
        async with reading(self._engine).connect() as conn:
            rows = (await conn.execute(query)).mappings()
            return [
                DeployRecord.model_validate({**row, "is_current": bool(row["is_current"])}) for row in rows
            ]

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


async def _lock(conn: AsyncConnection, name: str) -> str | None:
    """Lock the journey's state row, so deploys and rollbacks of one journey queue up; the current
    version as of then."""
    await insert_ignore(conn, journey_state, {"name": name, "paused": False})
    await conn.execute(sa.select(journey_state.c.name).where(journey_state.c.name == name).with_for_update())
    current: str | None = await conn.scalar(
        sa.select(journey_versions.c.version).where(
            journey_versions.c.name == name, journey_versions.c.is_current.is_(True)
        )
    )
    return current


async def _make_current(
    conn: AsyncConnection,
    name: str,
    version: str,
    previous: str | None,
    action: Action,
    deployed_by: str | None,
    at: datetime,
    created: bool,
) -> Deployment:
    if previous == version:
        return Deployment(name, version, created, previous, None, at)
    await conn.execute(
        journey_versions.update()
        .where(journey_versions.c.name == name)
        .values(is_current=journey_versions.c.version == version)
    )
    await conn.execute(
        deploy_history.insert().values(
            journey=name, version=version, deployed_by=deployed_by, action=action, at=at
        )
    )
    return Deployment(name, version, created, previous, action, at)

"""Which version of a journey a page shows: the current one, or an earlier one asked for by name.

``plan_of`` reads a stored plan by version; it belongs with ``store.deployments`` (which has no such
read yet) and should move there.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import HTTPException

from engine.plan import Plan
from store.database import Store
from store.deployments import JourneyVersion
from store.reading import reading
from store.tables import journey_versions


@dataclass(frozen=True)
class Shown:
    plan: Plan
    version: JourneyVersion  # the one shown
    versions: list[JourneyVersion]  # every deployed version, newest first

    @property
    def is_current(self) -> bool:
        return self.version.is_current


async def plan_of(store: Store, name: str, version: str) -> Plan | None:
    query = sa.select(journey_versions.c.plan).where(
        journey_versions.c.name == name, journey_versions.c.version == version
    )
    async with reading(store.engine).connect() as conn:
        value = await conn.scalar(query)
    return None if value is None else Plan.model_validate(value)


async def shown(store: Store, name: str, version: str | None) -> Shown:
    """The version ``version`` of journey ``name`` (the current one when None); 404 if none."""
    versions = await store.deployments.versions(name)
    wanted = next((v for v in versions if v.version == version or (version is None and v.is_current)), None)
    plan = await plan_of(store, name, wanted.version) if wanted else None
    if wanted is None or plan is None:
        detail = f"no journey {name!r}" if not versions else f"journey {name!r} has no version {version!r}"
        raise HTTPException(404, detail=detail)
    return Shown(plan=plan, version=wanted, versions=versions)

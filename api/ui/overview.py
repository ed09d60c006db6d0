"""The rows of the journeys page: every deployed journey with how it is doing, all versions counted."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from api.stats import rate
from store.database import Store

RECENT = timedelta(days=7)


class JourneyRow(BaseModel):
    name: str
    description: str
    stage: str
    paused: bool
    version: str
    deployed_at: datetime
    versions: int
    has_goal: bool
    in_flight: int
    entered_recently: int  # the last 7 days
    entered: int
    conversions: int
    conversion_rate: float
    sends_failed: int
    sends_retrying: int  # failing now, to be tried again


async def journey_rows(store: Store, now: datetime) -> list[JourneyRow]:
    rows = []
    for name in await store.deployments.names():
        plan = await store.deployments.current(name)
        if plan is None:
            continue
        versions = await store.deployments.versions(name)
        current = next(v for v in versions if v.is_current)
        counts = await store.steps.counts(name, since=now - RECENT)
        rows.append(
            JourneyRow(
                name=name,
                description=plan.description.strip(),
                stage=plan.stage,
                paused=await store.deployments.is_paused(name),
                version=plan.version,
                deployed_at=current.deployed_at,
                versions=len(versions),
                has_goal=plan.goal is not None,
                in_flight=counts.active,
                entered_recently=counts.entered_since,
                entered=counts.entered,
                conversions=counts.conversions,
                conversion_rate=rate(counts.conversions, counts.entered),
                sends_failed=sum(t.deliveries.get("failed", 0) for t in counts.steps.values()),
                sends_retrying=sum(t.retrying for t in counts.steps.values()),
            )
        )
    return rows

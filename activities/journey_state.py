"""What the deployments say about a journey, for runs in flight: paused? which version is current?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from contracts.plans import PlanRef
from store.database import Store


class JourneyStateActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    def definitions(self) -> list[Callable[..., Any]]:
        """Every activity of this class, ready for ``Worker(activities=...)``."""
        return [self.journey_paused, self.current_plan]

    @activity.defn(name="journey_paused")
    async def journey_paused(self, journey: str) -> bool:
        """Customers in flight hold before their next send while their journey is paused."""
        return await self._store.deployments.is_paused(journey)

    @activity.defn(name="current_plan")
    async def current_plan(self, journey: str) -> PlanRef | None:
        """The version a new entry gets (None once the journey is no longer deployed): named, not
        the whole plan, since a local activity's answer is kept in the run's history."""
        plan = await self._store.deployments.current(journey)
        return None if plan is None else PlanRef(journey=plan.journey, version=plan.version)

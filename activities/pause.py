"""Whether a journey is paused: customers in flight hold before their next send while it is."""

from __future__ import annotations

from temporalio import activity

from store.database import Store


class PauseActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name="journey_paused")
    async def journey_paused(self, journey: str) -> bool:
        return await self._store.deployments.is_paused(journey)

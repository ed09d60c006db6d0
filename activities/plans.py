"""Deployed plans by ``(journey, version)``, read from the store once and kept (bounded) per worker.

A plan never changes once deployed (its version is its content hash), so what was read stays true.
The send activities read their templates here instead of receiving them in every request, and the
worker connects this to ``workflows.plans.PLANS`` so runs that name their plan find it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from engine.plan import Plan
from store.database import Store

CAPACITY = 256


class StoredPlans:
    def __init__(self, store: Store, capacity: int = CAPACITY) -> None:
        self._store = store
        self._capacity = capacity
        self._plans: OrderedDict[tuple[str, str], Plan] = OrderedDict()
        self._reading: dict[tuple[str, str], asyncio.Future[Plan | None]] = {}
        self._closed = False

    async def get(self, journey: str, version: str) -> Plan | None:
        """The plan of ``journey`` at ``version``, or None if it was never deployed here.

        Concurrent misses of one plan share one store read."""
        key = (journey, version)
        plan = self._plans.get(key)
        if plan is not None:
            self._plans.move_to_end(key)
            return plan
        if self._closed:
            return None
        reading = self._reading.get(key)
        if reading is None:
            reading = asyncio.ensure_future(self._read(journey, version))
            self._reading[key] = reading
            reading.add_done_callback(lambda _: self._reading.pop(key, None))
        return await asyncio.shield(reading)

    def add(self, plan: Plan) -> None:
        key = (plan.journey, plan.version)
        self._plans[key] = plan
        self._plans.move_to_end(key)
        while len(self._plans) > self._capacity:
            self._plans.popitem(last=False)

    async def warm(self) -> list[Plan]:
        """Read the current plan of every deployed journey (at most ``capacity``) and keep them.

        A worker does this as it starts, so the runs of a burst find their plan held, instead of
        each waiting on a store read that a saturated event loop answers late (a workflow task
        waits at most ``workflows.plans.LOAD_TIMEOUT`` for it, then fails and is retried)."""
        plans = []
        for name in (await self._store.deployments.names())[: self._capacity]:
            plan = await self._store.deployments.current(name)
            if plan is not None:
                self.add(plan)
                plans.append(plan)
        return plans

    def close(self) -> None:
        """Read nothing more (the store is about to close); what is held is still answered."""
        self._closed = True

    async def _read(self, journey: str, version: str) -> Plan | None:
        stored = await self._store.deployments.get(journey, version)
        if stored is None:
            return None
        self.add(stored.plan)
        return stored.plan

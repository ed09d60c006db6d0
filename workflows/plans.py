"""The plans runs name by reference, held once per worker process, outside every history.

A run's input names its plan (``PlanRef``: journey and version, a content hash). ``PLANS.resolve``
answers the plan from this process's cache, or on a miss reads it from the store through a source a
worker connected, waiting in the workflow's thread, off the event loop, for at most ``LOAD_TIMEOUT``.
Why that is replay-safe: the answer depends only on the reference, which is in the history (the
run's input), and the plan it names is immutable: the version is the hash of its content and the
store never rewrites or deletes a version. So every execution and every replay of the run, on any
worker, gets the same plan, as it would from its input. Nothing the run does depends on how or when
the plan was found: no command is issued for it. When no source has it (a store that cannot be
read, a version never deployed there), ``PlanUnavailable`` fails the workflow task, not the run:
Temporal retries the task, the history is untouched, and the run goes on once the plan can be read.

This module is imported through ``workflow.unsafe.imports_passed_through()`` so that every sandboxed
run shares the one ``PLANS`` of the process instead of re-importing it (and an empty cache) per run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Protocol

from contracts.plans import PlanRef
from engine.plan import Plan

log = logging.getLogger("journeys.plans")

LOAD_TIMEOUT = 1.0  # seconds; under the SDK's 2 s deadlock detection of a workflow task
CAPACITY = 256  # plans held per process (a few KB to a few hundred KB each)


class PlanUnavailable(RuntimeError):
    """No connected source could answer the plan: the workflow task fails and Temporal retries it.

    A ``RuntimeError``, never an ``ApplicationError``: it must not fail the run itself."""


class PlanSource(Protocol):
    def get(self, journey: str, version: str) -> Awaitable[Plan | None]:
        """The stored plan of ``journey`` at ``version``, or None if that store does not have it."""
        ...


class PlanLibrary:
    """Plans by ``(journey, version)``: a bounded, least-recently-used cache over connected sources."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._plans: OrderedDict[tuple[str, str], Plan] = OrderedDict()
        self._sources: list[tuple[weakref.ref[PlanSource], asyncio.AbstractEventLoop, int | None]] = []
        self._lock = threading.Lock()

    def connect(self, source: PlanSource, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Read plans missing from the cache from ``source``, on ``loop`` (the running one by default).

        Held by weak reference: a source that is gone, or whose loop is closed, is no longer asked."""
        loop = loop or asyncio.get_running_loop()
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:  # connected from outside any loop
            on_loop = False
        thread = threading.get_ident() if on_loop else None
        with self._lock:
            self._sources.insert(0, (weakref.ref(source), loop, thread))

    def add(self, plan: Plan) -> None:
        with self._lock:
            key = (plan.journey, plan.version)
            self._plans[key] = plan
            self._plans.move_to_end(key)
            while len(self._plans) > self._capacity:
                self._plans.popitem(last=False)

    def cached(self, ref: PlanRef) -> Plan | None:
        with self._lock:
            plan = self._plans.get((ref.journey, ref.version))
            if plan is not None:
                self._plans.move_to_end((ref.journey, ref.version))
            return plan

    def resolve(self, ref: PlanRef) -> Plan:
        """The plan ``ref`` names. Called in workflow code: from the cache, or read from a source."""
        plan = self.cached(ref)
        if plan is not None:
            return plan
        for source, loop, thread in self._live_sources():
            if thread == threading.get_ident():
                continue  # on the source's own loop (a worker in debug mode): waiting would block it
            future = asyncio.run_coroutine_threadsafe(_read(source, ref), loop)
            try:
                plan = future.result(timeout=LOAD_TIMEOUT)
            except concurrent.futures.TimeoutError:
                # Keep what the read brings when it ends: the retried workflow task finds it here.
                future.add_done_callback(self._keep)
                raise PlanUnavailable(
                    f"plan {ref}: the store did not answer in {LOAD_TIMEOUT:.0f} s"
                ) from None
            if plan is not None:
                self.add(plan)
                return plan
        raise PlanUnavailable(f"plan {ref} is not in the store of any worker in this process")

    def _live_sources(self) -> list[tuple[PlanSource, asyncio.AbstractEventLoop, int | None]]:
        """The sources still there, newest first; the others are forgotten."""
        with self._lock:
            kept = [entry for entry in self._sources if entry[0]() is not None and not entry[1].is_closed()]
            self._sources = kept
            live = [(source, loop, thread) for ref, loop, thread in kept if (source := ref()) is not None]
        return live

    def _keep(self, future: concurrent.futures.Future[Plan | None]) -> None:
        if not future.cancelled() and future.exception() is None and (plan := future.result()) is not None:
            self.add(plan)


async def _read(source: PlanSource, ref: PlanRef) -> Plan | None:
    """The plan from ``source`` if it is the one ``ref`` names; a source that fails answers None."""
    try:
        plan = await source.get(ref.journey, ref.version)
    except Exception:  # a closed or broken store: the next source may have it
        log.warning("could not read plan %s", ref, exc_info=True)
        return None
    if plan is not None and (plan.journey, plan.version) != (ref.journey, ref.version):
        log.error("store answered plan %s version %s for %s", plan.journey, plan.version, ref)
        return None
    return plan


PLANS = PlanLibrary()
"""The one library of this process: workers connect their store to it, runs resolve through it."""

"""Plans by reference: what a run names is what it gets, from the cache or a connected store, and a
plan no store has fails the workflow task (retried), never the run.

``PlanLibrary.resolve`` is called from the workflow's thread; these tests call it from a thread too
(``asyncio.to_thread``), with the store's reads on the test's event loop as a worker's are.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from activities.plans import StoredPlans
from contracts.plans import PlanRef
from engine.plan import Plan
from store import Store
from store.tables import journey_versions
from tests.support.plans import waiting_journey as journey
from workflows.models import JourneyInput
from workflows.plans import PlanLibrary, PlanUnavailable

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"


def ref(plan: Plan) -> PlanRef:
    return PlanRef(journey=plan.journey, version=plan.version)


async def test_a_run_gets_the_stored_plan_it_names_and_keeps_it(store: Store) -> None:
    plan = journey("by_reference")
    await store.deployments.deploy(plan, source="")
    library, stored = PlanLibrary(), StoredPlans(store)
    library.connect(stored)

    found = await asyncio.to_thread(library.resolve, ref(plan))
    stored.close()  # the store is gone: what was read is still answered
    again = await asyncio.to_thread(library.resolve, ref(plan))

    assert found == plan and again is found


async def test_every_version_is_its_own_plan(store: Store) -> None:
    first, second = journey("versions", "1d"), journey("versions", "2d")
    await store.deployments.deploy(first, source="")
    await store.deployments.deploy(second, source="")  # current now; the first stays stored
    library = PlanLibrary()
    stored = StoredPlans(store)
    library.connect(stored)

    assert await asyncio.to_thread(library.resolve, ref(first)) == first
    assert await asyncio.to_thread(library.resolve, ref(second)) == second


async def test_a_plan_no_store_has_fails_the_task_not_the_run(store: Store) -> None:
    never_deployed = journey("nowhere")
    library = PlanLibrary()
    with pytest.raises(PlanUnavailable, match="not in the store of any worker"):
        await asyncio.to_thread(library.resolve, ref(never_deployed))  # no store connected at all
    stored = StoredPlans(store)
    library.connect(stored)
    with pytest.raises(PlanUnavailable) as raised:
        await asyncio.to_thread(library.resolve, ref(never_deployed))
    assert isinstance(raised.value, RuntimeError)  # not an ApplicationError: Temporal retries the task

    await store.deployments.deploy(never_deployed, source="")  # once it can be read, the retry finds it
    assert await asyncio.to_thread(library.resolve, ref(never_deployed)) == never_deployed


async def test_one_store_missing_a_plan_lets_the_next_answer(store: Store, tmp_path: Path) -> None:
    plan = journey("elsewhere")
    other = Store(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    await other.create_schema()
    try:
        await store.deployments.deploy(plan, source="")
        library, here, empty = PlanLibrary(), StoredPlans(store), StoredPlans(other)
        library.connect(here)
        library.connect(empty)  # asked first (newest), has nothing
        assert await asyncio.to_thread(library.resolve, ref(plan)) == plan
    finally:
        await other.close()


async def test_a_stored_plan_of_another_version_is_never_taken(store: Store) -> None:
    """A row whose plan is not the version it is filed under (written by hand) is not believed."""
    plan = journey("misfiled")
    await store.deployments.deploy(plan, source="")
    async with store.engine.begin() as conn:
        await conn.execute(
            journey_versions.update()
            .where(journey_versions.c.name == plan.journey)
            .values(version="000000000000")
        )
    library, stored = PlanLibrary(), StoredPlans(store)
    library.connect(stored)
    asked = PlanRef(journey=plan.journey, version="000000000000")

    with pytest.raises(PlanUnavailable):
        await asyncio.to_thread(library.resolve, asked)
    assert library.cached(asked) is None


async def test_on_the_event_loop_itself_nothing_waits_for_the_store(store: Store) -> None:
    """A worker in debug mode runs workflow code on its loop: waiting there for the loop would hang."""
    plan = journey("debugging")
    await store.deployments.deploy(plan, source="")
    library, stored = PlanLibrary(), StoredPlans(store)
    library.connect(stored)
    with pytest.raises(PlanUnavailable):
        library.resolve(ref(plan))  # on this loop's thread: refused at once, not a hang


async def test_the_cache_is_bounded_and_keeps_the_recently_used(store: Store) -> None:
    plans = [journey("bounded", f"{days}d") for days in (1, 2, 3)]
    library = PlanLibrary(capacity=2)
    for plan in plans[:2]:
        library.add(plan)
    library.cached(ref(plans[0]))  # used: the second is now the oldest
    library.add(plans[2])

    assert [library.cached(ref(p)) is not None for p in plans] == [True, False, True]


async def test_concurrent_misses_of_one_plan_share_one_store_read(store: Store) -> None:
    plan = journey("crowded")
    await store.deployments.deploy(plan, source="")
    stored = StoredPlans(store)
    reads = 0
    original = store.deployments.get

    async def counted(name: str, version: str | None = None) -> object:
        nonlocal reads
        reads += 1
        return await original(name, version)

    store.deployments.get = counted  # type: ignore[method-assign,assignment]  # counts real reads
    try:
        found = await asyncio.gather(*(stored.get(plan.journey, plan.version) for _ in range(20)))
    finally:
        del store.deployments.get

    assert found == [plan] * 20 and reads == 1


def test_an_input_names_its_plan_or_carries_it_never_both_or_neither() -> None:
    plan = journey("inputs")
    trigger = {"event_id": "e1", "customer_id": "ada", "name": "visited"}
    named = JourneyInput(plan_ref=ref(plan), customer_id="ada", trigger=trigger)
    carried = JourneyInput.model_validate(
        {"plan": plan.model_dump(mode="json"), "customer_id": "ada", "trigger": trigger}
    )

    assert (
        (named.journey, named.version) == (carried.journey, carried.version) == (plan.journey, plan.version)
    )
    assert named.ref() == carried.ref() == ref(plan)
    with pytest.raises(ValueError, match="either plan_ref or plan"):
        JourneyInput(customer_id="ada", trigger=trigger)
    with pytest.raises(ValueError, match="either plan_ref or plan"):
        JourneyInput(plan=plan, plan_ref=ref(plan), customer_id="ada", trigger=trigger)


def test_a_whole_plan_recorded_as_an_answer_reads_as_the_reference_it_holds() -> None:
    """Before plans went by reference, the ``current_plan`` local activity answered the whole plan."""
    plan = journey("answered")
    assert PlanRef.model_validate(plan.model_dump(mode="json")) == ref(plan)

"""The deploy history: who made which version current and when, through deploys and rollbacks, on
SQLite and PostgreSQL; and migration 0007, which gives the versions already deployed a row each."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.loader import load_directory
from engine.plan import Plan
from store import Store
from store.migrate import upgrade
from store.tables import journey_versions

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"


@pytest.fixture(scope="module")
def onboarding() -> Plan:
    return next(plan for plan in load_directory(JOURNEYS) if plan.journey == "onboarding")


def second(plan: Plan) -> Plan:
    return plan.model_copy(update={"version": "v2-" + plan.version, "description": "second"})


async def test_each_deploy_and_rollback_is_a_row_naming_who_did_it(store: Store, onboarding: Plan) -> None:
    v1, v2 = onboarding, second(onboarding)

    first = await store.deployments.publish(v1, "# v1", deployed_by="Ana")
    again = await store.deployments.publish(v1, "# v1", deployed_by="journeys up")  # already current
    newer = await store.deployments.publish(v2, "# v2", deployed_by="Eddie Editor")
    back = await store.deployments.rollback("onboarding", v1.version, deployed_by="Ana")

    assert (first.new_version, first.previous, first.action) == (True, None, "deploy")
    assert (again.new_version, again.previous, again.action) == (False, v1.version, None)
    assert (newer.new_version, newer.previous, newer.action) == (True, v1.version, "deploy")
    assert back is not None and (back.new_version, back.previous, back.action) == (
        False,
        v2.version,
        "rollback",
    )
    history = await store.deployments.history("onboarding")
    assert [(r.version, r.deployed_by, r.action, r.is_current) for r in history] == [
        (v1.version, "Ana", "rollback", True),
        (v2.version, "Eddie Editor", "deploy", False),
        (v1.version, "Ana", "deploy", True),
    ]
    assert history[0].at >= history[1].at >= history[2].at
    assert history[0].at.tzinfo is not None
    assert await store.deployments.current("onboarding") == v1
    assert [r.version for r in await store.deployments.history("onboarding", limit=1)] == [v1.version]


async def test_deploying_an_earlier_version_again_is_recorded_as_a_rollback(
    store: Store, onboarding: Plan
) -> None:
    v1, v2 = onboarding, second(onboarding)
    assert await store.deployments.deploy(v1, "# v1", "cli") is True
    assert await store.deployments.deploy(v2, "# v2", "cli") is True
    assert await store.deployments.deploy(v1, "# v1", "cli") is False

    history = await store.deployments.history("onboarding")
    assert [(r.version, r.action) for r in history] == [
        (v1.version, "rollback"),
        (v2.version, "deploy"),
        (v1.version, "deploy"),
    ]


async def test_a_rollback_to_an_unknown_version_changes_nothing(store: Store, onboarding: Plan) -> None:
    await store.deployments.publish(onboarding, "# v1", deployed_by="Ana")

    assert await store.deployments.rollback("onboarding", "nope", deployed_by="Ana") is None
    assert await store.deployments.rollback("unknown", onboarding.version, deployed_by="Ana") is None
    assert len(await store.deployments.history("onboarding")) == 1
    assert await store.deployments.history("unknown") == []
    assert await store.deployments.current("onboarding") == onboarding


async def test_get_reads_one_version_with_its_plan_and_source(store: Store, onboarding: Plan) -> None:
    v1, v2 = onboarding, second(onboarding)
    await store.deployments.publish(v1, "# v1", deployed_by="Ana")
    await store.deployments.publish(v2, "# v2", deployed_by="Ana")

    current = await store.deployments.get("onboarding")
    older = await store.deployments.get("onboarding", v1.version)

    assert current is not None and (current.version, current.source, current.is_current) == (
        v2.version,
        "# v2",
        True,
    )
    assert current.plan == v2
    assert older is not None and (older.plan, older.source, older.is_current) == (v1, "# v1", False)
    assert await store.deployments.get("onboarding", "nope") is None
    assert await store.deployments.get("unknown") is None


async def test_concurrent_deploys_of_one_journey_each_leave_one_row(store: Store, onboarding: Plan) -> None:
    plans = [onboarding.model_copy(update={"version": f"v{n}"}) for n in range(6)]
    done = await asyncio.gather(
        *(
            store.deployments.publish(plan, f"# {plan.version}", deployed_by=f"key {n}")
            for n, plan in enumerate(plans)
        )
    )

    history = await store.deployments.history("onboarding")
    assert sorted(r.version for r in history) == sorted(p.version for p in plans)
    # Each deploy saw the one before it: the "previous" versions chain through every deploy.
    assert sorted((d.previous or "") for d in done) == sorted(["", *(r.version for r in history[1:])])
    current = await store.deployments.current("onboarding")
    assert current is not None and current.version == history[0].version
    assert [r.is_current for r in history] == [True, *([False] * 5)]


async def test_migration_0007_gives_every_deployed_version_a_deploy_row(
    tmp_path: Path, onboarding: Plan
) -> None:
    store = Store(f"sqlite+aiosqlite:///{tmp_path}/old.db")
    try:
        async with store.engine.begin() as conn:
            await conn.run_sync(upgrade, "0006")
            for n, version in enumerate(["a1", "b2"]):
                await conn.execute(
                    journey_versions.insert(),
                    {
                        "name": "onboarding",
                        "version": version,
                        "source": f"# {version}",
                        "plan": onboarding.model_copy(update={"version": version}).model_dump(mode="json"),
                        "deployed_at": datetime(2026, 1, 1 + n, tzinfo=UTC),
                        "is_current": version == "b2",
                    },
                )
        await store.migrate()

        history = await store.deployments.history("onboarding")
        assert [(r.version, r.deployed_by, r.action, r.is_current, r.at) for r in history] == [
            ("b2", None, "deploy", True, datetime(2026, 1, 2, tzinfo=UTC)),
            ("a1", None, "deploy", False, datetime(2026, 1, 1, tzinfo=UTC)),
        ]
        back = await store.deployments.rollback("onboarding", "a1", deployed_by="Ana")
        assert back is not None and back.previous == "b2"
    finally:
        await store.close()


async def test_a_version_deployed_without_its_yaml_gets_it_when_deployed_with_it(
    store: Store, onboarding: Plan
) -> None:
    await store.deployments.deploy(onboarding, source="")  # as simulations deploy
    await store.deployments.publish(onboarding, "# the file", deployed_by="cli")
    await store.deployments.publish(onboarding, "# the file, reformatted", deployed_by="cli")

    stored = await store.deployments.get("onboarding")
    assert stored is not None and stored.source == "# the file"  # a version keeps the YAML it first had
    assert len(await store.deployments.history("onboarding")) == 1

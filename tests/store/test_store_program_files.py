"""A program-wide file deployed by version (``store.program_files``): one version active, even when
two replicas deploy different first versions at the same moment (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from engine.channels.loader import validate_policy_text
from engine.channels.policy import ChannelPolicy
from store import Store
from store.channel_policies import ChannelPolicyRepository
from store.policy_tables import channel_policies


def policy(name: str) -> tuple[ChannelPolicy, str]:
    text = f"policy: {name}\n"
    found, errors = validate_policy_text(text, "channels.yaml")
    assert found is not None, errors
    return found, text


async def active_versions(store: Store) -> list[str]:
    async with store.engine.connect() as conn:
        rows = await conn.scalars(
            sa.select(channel_policies.c.version).where(channel_policies.c.active.is_(True))
        )
        return list(rows)


async def test_two_first_deploys_at_once_leave_one_version_active(store: Store) -> None:
    for _ in range(5):  # a race: tried a few times over, from a fresh table each time
        async with store.engine.begin() as conn:
            await conn.execute(channel_policies.delete())
        replicas = [ChannelPolicyRepository(store.engine) for _ in range(4)]
        deployed = [policy(f"policy_{index}") for index in range(4)]
        await asyncio.gather(
            *(replica.deploy(item, text) for replica, (item, text) in zip(replicas, deployed, strict=True))
        )
        active = await active_versions(store)
        assert len(active) == 1, active
        seen = [await replica.active() for replica in replicas]  # each replica reads the one active
        assert [item.version if item else None for item in seen] == active * len(replicas)


async def test_each_version_keeps_its_file_as_written(store: Store) -> None:
    first, first_text = policy("first")
    second, second_text = policy("second")
    commented = f"# written by hand\n{second_text}"
    files = ChannelPolicyRepository(store.engine)
    await files.deploy(first, first_text)
    await files.deploy(second, commented)

    assert await files.source(first.version) == first_text  # no longer active, still stored
    assert await files.source(second.version) == commented
    assert await files.source("0" * 16) is None

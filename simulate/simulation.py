"""Simulate one journey: compile it (and optionally its neighbours), play stories, build timelines."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.testing import WorkflowEnvironment

from engine.channels.policy import ChannelPolicy
from engine.loyalty.program import Program
from engine.plan import Plan
from outbox.server import OutboxMessage
from simulate.customer_ids import story_customer_ids
from simulate.journey_files import load_plans, load_policy_beside, load_program_beside
from simulate.runner import Progress, Simulator, StoryRun
from simulate.shards import play_sharded, shard_count
from simulate.story import Story
from simulate.timeline import Timeline, build_timeline


@dataclass
class Simulated:
    timelines: list[Timeline]
    runs: list[StoryRun]
    messages: list[OutboxMessage]
    plans: list[Plan]


async def simulate(
    main: Plan,
    plans: list[Plan],
    stories: Sequence[Story],
    *,
    progress: Progress | None = None,
    with_messages: bool = False,
    processes: int | None = None,
    program: Program | None = None,
    policy: ChannelPolicy | None = None,
) -> Simulated:
    """Play ``stories`` on fresh Sandboxes; ``with_messages`` also reads back every email sent.

    Many stories are split over ``processes`` shards (default: one per core, at least
    ``MIN_STORIES_PER_SHARD`` stories each); the result is the same as one Sandbox would give.
    ``program`` is the loyalty program deployed beside the journeys (``load_program_beside``), ``policy``
    the channel policy (``load_policy_beside``).
    """
    ids = story_customer_ids(plans, stories)  # once for all: shards must not pick the same ids
    shards = 1 if with_messages else shard_count(len(stories), processes)
    if shards == 1:
        return await simulate_here(
            main,
            plans,
            stories,
            progress=progress,
            with_messages=with_messages,
            customer_ids=ids,
            program=program,
            policy=policy,
        )
    timelines: list[Timeline | None] = [None] * len(stories)
    runs: list[StoryRun | None] = [None] * len(stories)
    for indexes, shard in await play_sharded(main, plans, stories, ids, shards, progress, program, policy):
        for position, index in enumerate(indexes):
            timelines[index] = shard.timelines[position]
            runs[index] = shard.runs[position]
    return Simulated([t for t in timelines if t], [r for r in runs if r], [], plans)


async def simulate_here(
    main: Plan,
    plans: list[Plan],
    stories: Sequence[Story],
    *,
    progress: Progress | None = None,
    with_messages: bool = False,
    customer_ids: Sequence[str] | None = None,
    program: Program | None = None,
    policy: ChannelPolicy | None = None,
    server: asyncio.Task[WorkflowEnvironment] | None = None,
) -> Simulated:
    """Play ``stories`` on one fresh Sandbox in this process (on ``server``, a test server already
    starting, if given; its caller stops it)."""
    async with Simulator.open(plans, program, policy, server) as simulator:
        runs = await simulator.run(main.journey, stories, progress=progress, customer_ids=customer_ids)
        timelines = [build_timeline(run, plans, simulator.webhooks.received) for run in runs]
        messages = simulator.sandbox.outbox.messages() if with_messages else []
    return Simulated(timelines, runs, messages, plans)


__all__ = ["Simulated", "Story", "load_plans", "load_policy_beside", "load_program_beside", "simulate"]

"""Forecasts split over processes: the same stories give the same outcomes as one Sandbox."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest

from engine.loader import compile_file
from simulate.funnel import build_funnel
from simulate.generate import default_chances, generate
from simulate.runner import StoryRun
from simulate.shards import ShardFailed, shard_count, split
from simulate.simulation import simulate
from simulate.story import Story, StoryEvent
from simulate.timeline import Timeline
from tests.simulate.conftest import ONBOARDING

MARK = "JOURNEYS_TEST_SHARD_MARK"


def test_stories_are_dealt_round_robin() -> None:
    assert split(7, 3) == [[0, 3, 6], [1, 4], [2, 5]]


def test_one_shard_per_core_only_with_enough_stories_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("simulate.shards.usable_cores", lambda: 4)
    assert shard_count(50) == 1  # a second process would cost more than it saves
    assert shard_count(250) == 2
    assert shard_count(5000) == 4
    assert shard_count(10, processes=3) == 3  # asked for: given
    assert shard_count(2, processes=3) == 2  # never more shards than stories


async def test_two_shards_give_each_customer_what_one_sandbox_gives() -> None:
    plan = compile_file(ONBOARDING)
    stories = generate(Story(), default_chances(plan), 10, seed=3)

    alone = await simulate(plan, [plan], stories, processes=1)
    sharded = await simulate(plan, [plan], stories, processes=2)

    def outcomes(runs: list[StoryRun]) -> list[tuple[str, str, int, list[str]]]:
        return [
            (run.customer_id, r.outcome, r.points, [t.step for t in r.steps])
            for run in runs
            for r in run.runs
        ]

    assert [run.customer_id for run in sharded.runs] == [s.customer_id for s in stories]  # story order kept
    assert outcomes(sharded.runs) == outcomes(alone.runs)
    assert build_funnel(plan, sharded.runs) == build_funnel(plan, alone.runs)

    def emails(timelines: list[Timeline]) -> list[list[tuple[int, str, str, str | None]]]:
        return [[(m.day, m.time, m.step, m.subject) for m in t.summary.emails] for t in timelines]

    assert emails(sharded.timelines) == emails(alone.timelines)


async def test_a_failing_shard_stops_the_others_and_leaves_no_server_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mark = uuid.uuid4().hex
    monkeypatch.setenv(MARK, mark)  # inherited by the shards and their test servers
    plan = compile_file(ONBOARDING)
    stories = generate(Story(), default_chances(plan), 300, seed=4)  # the others play for a while
    late = StoryEvent(at="200d", event="profile_completed")  # after the 90-day horizon
    stories[4] = stories[4].model_copy(update={"events": [late]})  # dealt to shard 1 of 3

    with pytest.raises(ShardFailed, match=r"shard 1 failed: ValueError: story .* is after the horizon"):
        await simulate(plan, [plan], stories, processes=3)

    assert await gone_within(5, mark) == set()  # shards and their test servers, all stopped


def test_two_stories_with_one_customer_id_are_refused_before_any_shard_starts() -> None:
    plan = compile_file(ONBOARDING)
    twins = [Story(name=f"twin {n}", customer_id="same-id") for n in range(3)]

    with pytest.raises(ValueError, match='two stories use customer id "same-id"'):
        asyncio.run(simulate(plan, [plan], twins, processes=2))


async def gone_within(seconds: float, mark: str) -> set[int]:
    """Wait for the shard processes and test servers this test started to be gone."""
    for _ in range(int(seconds * 10)):
        left = simulation_processes_marked(mark)
        if not left:
            break
        await asyncio.sleep(0.1)
    return left


def simulation_processes_marked(mark: str) -> set[int]:
    """Shard processes and time-skipping test servers (not this test process's own) whose
    environment carries ``mark``: started by this test, whatever else runs on the machine."""
    found = set()
    needle = f"{MARK}={mark}".encode()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
            environment = (stat.parent / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if fields[0] == "Z" or needle not in environment:
            continue  # exited (only waiting to be reaped), or not started by this test
        shard = b"simulate.shard_process" in command
        stray_server = b"temporal-test-server" in command and int(fields[1]) != os.getpid()
        if shard or stray_server:
            found.add(int(stat.parent.name))
    return found

"""Forecasts split over processes: the same stories give the same outcomes as one Sandbox."""

from __future__ import annotations

import pytest

from engine.loader import compile_file
from runtime.simulate.funnel import build_funnel
from runtime.simulate.generate import default_chances, generate
from runtime.simulate.runner import StoryRun
from runtime.simulate.shards import ShardFailed, shard_count, split
from runtime.simulate.simulation import simulate
from runtime.simulate.story import Story
from runtime.simulate.timeline import Timeline
from tests.simulate.conftest import ONBOARDING


def test_stories_are_dealt_round_robin() -> None:
    assert split(7, 3) == [[0, 3, 6], [1, 4], [2, 5]]


def test_one_shard_per_core_only_with_enough_stories_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("runtime.simulate.shards.usable_cores", lambda: 4)
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


async def test_a_failing_shard_is_reported_with_its_error() -> None:
    plan = compile_file(ONBOARDING)
    twins = [Story(name=f"twin {n}", customer_id="same-id") for n in range(3)]  # shard 0 gets two

    with pytest.raises(ShardFailed, match=r"(?s)shard 0 failed.*two stories use customer id \"same-id\""):
        await simulate(plan, [plan], twins, processes=2)

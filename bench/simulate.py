"""Simulation speed: one 90-day customer story (start-up included) and 1,000 onboarding stories.

    .venv/bin/python -m bench.simulate [--customers 1000] [--rounds 1]

Goals (issue #14): one story under 1.5 s as a `journeys simulate` command, 1,000 stories under 30 s
on this 2-core machine. Prints min / median / max of the runs, their ratio to the goals, and the CPU
per story (this process and its children: the shards and their test servers); not a test.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.machine import describe
from config.loop import run
from simulate.generate import default_chances, generate
from simulate.quiet import quiet_temporal
from simulate.shards import shard_count, usable_cores
from simulate.simulation import load_plans, simulate
from simulate.story import Story, StoryEvent

ROOT = Path(__file__).resolve().parents[1]
ONBOARDING = ROOT / "journeys" / "onboarding.yaml"
ONE_STORY_TARGET = 1.5
MANY_TARGET = 30.0
CLI_RUNS = 5  # a new process each time; the median, since one run on a busy machine can read high


async def one_story() -> float:
    started = time.perf_counter()
    main, plans = load_plans(ONBOARDING)
    story = Story(
        name="completes profile day 2, buys day 5",
        events=[
            StoryEvent(at="2d", event="profile_completed"),
            StoryEvent(at="5d 10:00", event="purchase_completed", properties={"total": 42}),
        ],
    )
    result = await simulate(main, plans, [story])
    assert result.timelines[0].summary.points == 350
    return time.perf_counter() - started


def one_story_cli() -> float:
    started = time.perf_counter()
    command = [str(Path(sys.executable).parent / "journeys"), "simulate", str(ONBOARDING)]
    subprocess.run(
        [*command, "-e", "2d profile_completed"],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return time.perf_counter() - started


async def many_stories(count: int, processes: int | None) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of this process and its children (shards, test servers)."""
    main, plans = load_plans(ONBOARDING)
    stories = generate(Story(), default_chances(main), count, seed=1)
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    result = await simulate(main, plans, stories, processes=processes)
    elapsed = time.perf_counter() - started
    assert len(result.runs) == count
    return elapsed, _cpu_seconds() - cpu_before


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def report(label: str, seconds: float, target: float) -> None:
    print(f"{label:<48} {seconds:7.2f} s   target {target:5.1f} s   ratio {seconds / target:5.2f}")


def spread(values: list[float]) -> str:
    return f"min {min(values):.2f} / median {statistics.median(values):.2f} / max {max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=None, help="default: one per core")
    parser.add_argument("--rounds", type=int, default=1, help="runs of the many stories")
    args = parser.parse_args()
    print(describe())  # how fast this machine runs Python now: bench.machine
    quiet_temporal()
    report("one 90-day story, in process (start-up included)", run(one_story()), ONE_STORY_TARGET)
    runs = sorted(one_story_cli() for _ in range(CLI_RUNS))
    report("one 90-day story, `journeys simulate` (median)", statistics.median(runs), ONE_STORY_TARGET)
    print(f"  {CLI_RUNS} runs of the command: {spread(runs)} s")
    target = MANY_TARGET * args.customers / 1000
    shards = shard_count(args.customers, args.processes)
    walls, cpus = [], []
    for _ in range(args.rounds):
        many, cpu = run(many_stories(args.customers, args.processes))
        walls.append(many)
        cpus.append(1000 * cpu / args.customers)
    label = f"{args.customers} onboarding stories, {shards} process(es)"
    report(label + (" (median)" if args.rounds > 1 else ""), statistics.median(walls), target)
    print(f"  {args.rounds} run(s): {spread(walls)} s")
    print(f"  CPU on {usable_cores()} cores, ms per story: {spread(cpus)}")


if __name__ == "__main__":
    main()

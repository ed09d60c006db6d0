"""Many stories on several cores: split them into shards, each played on its own Sandbox (its own
time-skipping server, worker, store and SMTP server) in its own process, and merge what comes back.

A simulation is CPU-bound in the worker's one Python process (workflow activations, activities,
the store); shards are how a forecast of thousands of customers uses every core. Stories are
independent (each has its own customer), so a shard sees exactly what the whole run would.

A shard is ``python -m runtime.simulate.shard_process RESULT_FILE`` reading its job (pickled) on
stdin, writing ``progress N`` lines on stdout and its ``Simulated`` (pickled) to RESULT_FILE.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.plan import Plan
from runtime.simulate.story import Story

if TYPE_CHECKING:
    from runtime.simulate.simulation import Simulated

# Below this many stories a second process costs more (start-up, imports) than it saves.
MIN_STORIES_PER_SHARD = 100
Progress = Callable[[int], None]


class ShardFailed(RuntimeError):
    """A shard's process failed; carries what it wrote to stderr."""


@dataclass(frozen=True)
class ShardJob:
    main: Plan
    plans: list[Plan]
    stories: list[Story]


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def shard_count(stories: int, processes: int | None = None) -> int:
    """How many shards: ``processes`` if given, else one per core with enough stories each."""
    if processes is not None:
        return max(1, min(processes, stories))
    return max(1, min(usable_cores(), stories // MIN_STORIES_PER_SHARD))


def split(count: int, shards: int) -> list[list[int]]:
    """Story indexes per shard, dealt round-robin so every shard gets a like mix of stories."""
    return [list(range(start, count, shards)) for start in range(shards)]


async def play_sharded(
    main: Plan, plans: list[Plan], stories: Sequence[Story], shards: int, progress: Progress | None
) -> list[tuple[list[int], Simulated]]:
    """Play ``stories`` in ``shards`` processes; each shard's story indexes and its ``Simulated``."""
    groups = split(len(stories), shards)
    with tempfile.TemporaryDirectory(prefix="journeys-shards-") as scratch:
        files = [Path(scratch) / f"shard-{n}.pickle" for n in range(shards)]
        jobs = [ShardJob(main, plans, [stories[i] for i in group]) for group in groups]
        processes = [await _start(job, file) for job, file in zip(jobs, files, strict=True)]
        try:
            await asyncio.gather(*(_follow(n, p, progress) for n, p in enumerate(processes)))
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        results = [pickle.loads(file.read_bytes()) for file in files]
    return list(zip(groups, results, strict=True))


async def _start(job: ShardJob, result_file: Path) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "runtime.simulate.shard_process",
        str(result_file),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    process.stdin.write(pickle.dumps(job))
    await process.stdin.drain()
    process.stdin.close()
    return process


async def _follow(number: int, process: asyncio.subprocess.Process, progress: Progress | None) -> None:
    """Pass the shard's progress on; raise ``ShardFailed`` with its stderr if it fails."""
    assert process.stdout is not None and process.stderr is not None
    errors = asyncio.create_task(process.stderr.read())
    async for line in process.stdout:
        kind, _, value = line.decode().partition(" ")
        if kind == "progress" and progress is not None:
            progress(int(value))
    code = await process.wait()
    stderr = (await errors).decode(errors="replace").strip()
    if code != 0:
        raise ShardFailed(f"simulation shard {number} failed (exit code {code}):\n{stderr}")

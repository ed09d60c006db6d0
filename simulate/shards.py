"""Many stories on several cores: split them into shards, each played on its own Sandbox (its own
time-skipping server, worker, store and SMTP server) in its own process, and merge what comes back.

A simulation is CPU-bound in the worker's one Python process (workflow activations, activities,
the store); shards are how a forecast of thousands of customers uses every core. Stories are
independent (each has its own customer), so a shard sees exactly what the whole run would.

A shard is ``python -m simulate.shard_process RESULT_FILE`` reading its job (pickled) on
stdin, writing ``progress N`` lines on stdout and its ``Simulated`` (pickled) to RESULT_FILE.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.channels.policy import ChannelPolicy
from engine.loyalty.program import Program
from engine.plan import Plan
from simulate.story import Story

if TYPE_CHECKING:
    from simulate.simulation import Simulated

# Below this many stories a second process costs more (start-up, imports) than it saves.
MIN_STORIES_PER_SHARD = 100
Progress = Callable[[int], None]


STOP_GRACE = 5.0  # seconds a shard gets to stop its Sandbox before it is killed
STRAY_PIPE_GRACE = 2.0


class ShardFailed(RuntimeError):
    """A shard's process failed: its last error line as the message, all of stderr as ``details``."""

    def __init__(self, shard: int, exit_code: int, stderr: str) -> None:
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"the process ended with exit code {exit_code}"
        super().__init__(f"simulation shard {shard} failed: {reason}")
        self.details = stderr


@dataclass(frozen=True)
class ShardJob:
    main: Plan
    plans: list[Plan]
    stories: list[Story]
    customer_ids: list[str]
    program: Program | None = None
    policy: ChannelPolicy | None = None


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
    main: Plan,
    plans: list[Plan],
    stories: Sequence[Story],
    customer_ids: Sequence[str],
    shards: int,
    progress: Progress | None,
    program: Program | None = None,
    policy: ChannelPolicy | None = None,
) -> list[tuple[list[int], Simulated]]:
    """Play ``stories`` in ``shards`` processes; each shard's story indexes and its ``Simulated``.

    If a shard fails, the others are stopped (with everything they started) and ``ShardFailed``
    carries the failing shard's error.
    """
    groups = split(len(stories), shards)
    with tempfile.TemporaryDirectory(prefix="journeys-shards-") as scratch:
        files = [Path(scratch) / f"shard-{n}.pickle" for n in range(shards)]
        processes: list[asyncio.subprocess.Process] = []
        try:
            for group, file in zip(groups, files, strict=True):
                ids = [customer_ids[i] for i in group]
                job = ShardJob(main, plans, [stories[i] for i in group], ids, program, policy)
                processes.append(await _start(job, file))
            async with asyncio.TaskGroup() as followers:
                for number, process in enumerate(processes):
                    followers.create_task(_follow(number, process, progress))
        except* ShardFailed as failed:
            raise failed.exceptions[0] from None
        finally:
            await asyncio.gather(*(_stop(process) for process in processes))
        results = [pickle.loads(file.read_bytes()) for file in files]
    return list(zip(groups, results, strict=True))


async def _start(job: ShardJob, result_file: Path) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulate.shard_process",
        str(result_file),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group: stopping it stops its test server too
    )
    assert process.stdin is not None
    process.stdin.write(pickle.dumps(job))
    await process.stdin.drain()
    process.stdin.close()
    return process


async def _follow(number: int, process: asyncio.subprocess.Process, progress: Progress | None) -> None:
    """Pass the shard's progress on; raise ``ShardFailed`` with its error if it fails."""
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr = process.stdout, process.stderr

    async def read_progress() -> None:
        async for line in stdout:
            kind, _, value = line.decode().partition(" ")
            if kind == "progress" and progress is not None:
                progress(int(value))

    progress_reader = asyncio.create_task(read_progress())
    error_reader = asyncio.create_task(stderr.read())
    try:
        code = await process.wait()
        # The shard is gone; what it wrote is in the pipes (a stray child may hold them open).
        await asyncio.wait([progress_reader, error_reader], timeout=STRAY_PIPE_GRACE)
    finally:
        progress_reader.cancel()
        error_reader.cancel()
    if code != 0:
        errors = error_reader.result() if error_reader.done() and not error_reader.cancelled() else b""
        raise ShardFailed(number, code, errors.decode(errors="replace"))


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Stop a shard that is still running, and its process group (its test server), for sure."""
    if process.returncode is not None:
        _kill_group(process.pid)  # normally empty by now: the shard stopped its Sandbox
        return
    for signum, grace in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            await asyncio.wait_for(process.wait(), grace)
            if signum == signal.SIGTERM:
                _kill_group(process.pid)  # the shard is gone; its test server must go too
            return
        except TimeoutError:
            continue


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass

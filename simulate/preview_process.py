"""A preview run in a process of its own, started by the API (``api.preview``): the simulator is
CPU-heavy and runs a worker and a test server, none of which belongs in the API's process.

``python -m simulate.preview_process RESULT_FILE`` reads the job (``api.preview_models.RunJob``) as
one JSON line on stdin and writes ``accepted TOTAL`` on stdout once the story is read and fits, then
``progress N`` lines as the run goes, and the answer (``RunAnswer``) to RESULT_FILE. Exit code 0:
done; 2: refused (the reason is in the answer); 3: stopped (SIGTERM, or stdin closed: the API is
gone or gave up); anything else: failed (the error is the last line on stderr).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from api.preview_models import BadInput, RunAnswer, RunJob
from config.loop import run as run_loop
from simulate.preview import Refused, play_forecast, play_story, progress_total, read_forecast, read_story
from simulate.quiet import quiet_temporal

DONE, FAILED, REFUSED, STOPPED = 0, 1, 2, 3
Play = Callable[[Callable[[int], None]], Awaitable[RunAnswer]]


@dataclass(frozen=True)
class Prepared:
    total: int
    play: Play


def prepare(job: RunJob) -> Prepared:
    """Read the job's story (``Refused`` if it does not fit), ready to play."""
    plan = job.plan
    if job.kind == "story":
        story = read_story(plan, job.story)

        async def play_one(progress: Callable[[int], None]) -> RunAnswer:
            return RunAnswer(story=await play_story(plan, story, progress, job.program, job.policy))

        return Prepared(progress_total([story]), play_one)
    stories, assumed = read_forecast(plan, job)

    async def play_many(progress: Callable[[int], None]) -> RunAnswer:
        return RunAnswer(
            forecast=await play_forecast(plan, stories, assumed, progress, job.program, job.policy)
        )

    return Prepared(progress_total(stories), play_many)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _answer(result_file: Path, answer: RunAnswer) -> None:
    result_file.write_text(answer.model_dump_json(), "utf-8")


def _report(count: int) -> None:
    _say(f"progress {count}")


def _stop_when_stdin_closes(loop: asyncio.AbstractEventLoop, task: asyncio.Task[int]) -> None:
    """The API keeps our stdin open while it wants the run; its end (the API stopped the run, or
    the API itself is gone) stops us, so no run outlives the process that asked for it."""
    sys.stdin.buffer.read()
    loop.call_soon_threadsafe(task.cancel)


async def _play(prepared: Prepared, result_file: Path) -> int:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    threading.Thread(target=_stop_when_stdin_closes, args=(loop, task), daemon=True).start()
    try:
        answer = await prepared.play(_report)
    except asyncio.CancelledError:
        return STOPPED  # every Sandbox (test server, worker, shards) was closed on the way out
    except ValueError as exc:  # the simulator's own checks of a story (Refused is one)
        await asyncio.to_thread(_answer, result_file, RunAnswer(refused=BadInput(message=str(exc))))
        return REFUSED
    await asyncio.to_thread(_answer, result_file, answer)
    return DONE


def main() -> None:
    result_file = Path(sys.argv[1])
    line = sys.stdin.buffer.readline()
    quiet_temporal()
    try:
        prepared = prepare(RunJob.model_validate_json(line))
    except (Refused, ValidationError) as exc:
        _answer(result_file, RunAnswer(refused=BadInput(message=str(exc))))
        sys.exit(REFUSED)
    _say(f"accepted {prepared.total}")
    try:
        code = run_loop(_play(prepared, result_file))
    except Exception as exc:  # noqa: BLE001 - any failure is this run's answer to the API
        traceback.print_exc()
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")  # the last line: what the API reports
        sys.stderr.flush()
        os._exit(FAILED)
    sys.stdout.flush()
    os._exit(code)  # done and closed: skip the teardown of every loaded module


if __name__ == "__main__":
    main()

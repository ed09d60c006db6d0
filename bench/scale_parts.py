"""The pieces ``bench.scale`` measures with: a pool of kept-alive HTTP connections to ``journeys api``,
a process's resident memory, file sizes, percentiles, and a watcher of the store that sees when the
worker has handled a customer's event (the wait's ``completed`` step record is in the store)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.ingest_load import ATTEMPTS, RETRY_PAUSE, Connection

POLL_SECONDS = 0.02  # how often the watcher reads the store: the rows written since its last read


def rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    """Resident memory of a process (``/proc/<pid>/status``), MB; 0 where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def file_mb(path: Path) -> float:
    """A SQLite database on disk, its write-ahead log included, MB."""
    total = 0
    for candidate in (path, path.with_name(path.name + "-wal")):
        if candidate.exists():
            total += candidate.stat().st_size
    return total / 1e6


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99/max (nearest rank) of ``values``; zeros when there are none."""
    if not values:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    return {"n": len(ordered), "p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": ordered[-1]}


class Api:
    """``concurrency`` kept-alive connections to the API; a request takes a free one."""

    def __init__(self, url: str, key: str, concurrency: int) -> None:
        host, _, port = url.removeprefix("http://").rstrip("/").partition(":")
        self._host, self._port, self._key = host, int(port), key
        self._concurrency = concurrency
        self._free: asyncio.Queue[Connection] = asyncio.Queue()
        self.retries = 0

    async def open(self) -> None:
        for _ in range(self._concurrency):
            self._free.put_nowait(await Connection.open(self._host, self._port))

    def _head(self, method: str, path: str, content_type: str) -> bytes:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
        head += f"Authorization: Bearer {self._key}\r\n"
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        return head.encode()

    async def request(self, method: str, path: str, body: bytes = b"", content_type: str = "") -> bytes:
        """The answer's body; a 503 or 409 is sent again (as a backend would), anything else not 2xx
        raises."""
        head = self._head(method, path, content_type)
        for attempt in range(1, ATTEMPTS + 1):
            connection = await self._free.get()
            try:
                status, answer = await connection.request(head, body)
            except (OSError, asyncio.IncompleteReadError):
                # uvicorn closes a connection idle for 5 s: open another and send again.
                connection = await Connection.open(self._host, self._port)
                status, answer = await connection.request(head, body)
            finally:
                self._free.put_nowait(connection)
            if 200 <= status < 300:
                return answer
            if status not in (409, 503) or attempt == ATTEMPTS:
                raise RuntimeError(f"{method} {path} answered {status}: {answer[:300]!r}")
            self.retries += 1
            await asyncio.sleep(RETRY_PAUSE * attempt)
        raise AssertionError("unreachable")

    async def event(self, event: dict[str, Any]) -> None:
        await self.request("POST", "/v1/events", json.dumps(event).encode(), "application/json")

    async def close(self) -> None:
        while not self._free.empty():
            await self._free.get_nowait().close()


@dataclass
class Watcher:
    """Sees in the store (read-only, beside the worker's writes: SQLite in WAL mode) when a watched
    customer's run has completed ``step``: the worker handled the event and wrote its records."""

    database: Path
    journey: str
    step: str
    watched: dict[str, float] = field(default_factory=dict)  # customer -> when its event was posted
    latencies_ms: dict[str, float] = field(default_factory=dict)
    # From the POST to the time the record carries: the start of the workflow task that handled
    # the event (workflow.now()), on the wall clock; the rest of the latency is that task and the
    # record's write.
    task_ms: dict[str, float] = field(default_factory=dict)
    _posted_wall: dict[str, float] = field(default_factory=dict)
    _stopped: bool = False

    def watch(self, customer: str, posted_at: float) -> None:
        self.watched[customer] = posted_at
        self._posted_wall[customer] = time.time()

    def forget(self, customer: str) -> None:
        self.watched.pop(customer, None)
        self._posted_wall.pop(customer, None)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5, check_same_thread=False)

    def _last_id(self, connection: sqlite3.Connection) -> int:
        return int(connection.execute("SELECT coalesce(max(id), 0) FROM step_events").fetchone()[0])

    def _completed_since(
        self, connection: sqlite3.Connection, after: int
    ) -> tuple[int, list[tuple[str, str]]]:
        """The wait's completed records among those written after record ``after`` (customer, at),
        and the last record's id. Only new rows are read, so a poll costs what was written since the
        last one, however many events are still awaited (SQLite's one writer gives ids in commit
        order)."""
        rows = connection.execute(
            "SELECT id, customer_id, at, journey, kind, step FROM step_events WHERE id > ? ORDER BY id",
            [after],
        ).fetchall()
        wanted = (self.journey, "completed", self.step)
        completed = [(row[1], row[2]) for row in rows if (row[3], row[4], row[5]) == wanted]
        return (rows[-1][0] if rows else after), completed

    async def run(self) -> None:
        connection = await asyncio.to_thread(self._connect)
        try:
            seen = await asyncio.to_thread(self._last_id, connection)
            while not self._stopped or self.watched:
                seen, completed = await asyncio.to_thread(self._completed_since, connection, seen)
                now = time.perf_counter()
                for customer, at in completed:
                    if customer not in self.watched:
                        continue
                    self.latencies_ms[customer] = (now - self.watched.pop(customer)) * 1000
                    stamp = datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp()
                    self.task_ms[customer] = (stamp - self._posted_wall.pop(customer)) * 1000
                if self._stopped and not self.watched:
                    return
                await asyncio.sleep(POLL_SECONDS)
        finally:
            connection.close()

    async def finish(self, task: asyncio.Task[None], limit_seconds: float) -> int:
        """Stop once every watched customer is seen, or after ``limit_seconds``; answers how many
        were never seen."""
        self._stopped = True
        try:
            await asyncio.wait_for(asyncio.shield(task), limit_seconds)
        except TimeoutError:
            task.cancel()
        missing = len(self.watched)
        self.watched.clear()
        return missing

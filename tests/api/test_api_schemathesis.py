"""The API does what its OpenAPI document says: schemathesis over every operation, every check.

Schemathesis calls the ASGI app from a thread of its own (its own event loop), while the app's parts
(store, Temporal client, worker) live on one event loop. So the app and a Sandbox of its own run on
a loop in a background thread, and the app schemathesis is given forwards each request there.
Generation is bounded (``MAX_EXAMPLES`` per operation and mode) and deterministic; nothing leaves
the process except the sandbox's local Temporal test server and SMTP catcher.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from concurrent.futures import Future
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import strategies as st

from api.app import create_app
from config.settings import Settings
from engine.loader import load_directory
from simulate.sandbox import Sandbox
from tests.api.conftest import API_KEY, JOURNEYS_DIR, MAX_BODY, app_for

MAX_EXAMPLES = 20

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class AppThread:
    """The app with a Sandbox of its own, on an event loop in a background thread."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="schemathesis-app", daemon=True)
        self.stack = AsyncExitStack()
        self.app: FastAPI | None = None

    def run(self, coro: Awaitable[Any]) -> Any:
        async def wrapped() -> Any:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result()

    def start(self) -> None:
        self.thread.start()
        self.run(self._open())

    async def _open(self) -> None:
        plans = await asyncio.to_thread(load_directory, JOURNEYS_DIR)
        sandbox = await self.stack.enter_async_context(
            Sandbox.open(plans, workdir=self.workdir, settings=SETTINGS)
        )
        app = app_for(sandbox)
        await self.stack.enter_async_context(app.router.lifespan_context(app))
        self.app = app

    def stop(self) -> None:
        self.run(self.stack.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()

    async def forward(self, scope: Message, receive: Receive, send: Send) -> None:
        """The ASGI app schemathesis calls: reads the request, runs it on the app's loop, sends the answer."""
        if scope["type"] == "lifespan":  # the app's lifespan runs on its own loop (``start``)
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        answer: list[Message] = []
        future: Future[None] = asyncio.run_coroutine_threadsafe(
            self._handle(dict(scope), body, answer), self.loop
        )
        await asyncio.wrap_future(future)
        for message in answer:
            await send(message)

    async def _handle(self, scope: Message, body: bytes, answer: list[Message]) -> None:
        assert self.app is not None
        read = False
        finished = asyncio.Event()

        async def receive() -> Message:
            nonlocal read
            if not read:
                read = True
                return {"type": "http.request", "body": body, "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            answer.append(message)

        try:
            await self.app(scope, receive, send)
        except Exception:
            # Starlette has already sent its 500 answer (the check reports it); anything else re-raises.
            if not any(m["type"] == "http.response.start" for m in answer):
                raise
        finally:
            finished.set()


class Forwarder:
    """A stable ASGI app for the schema (built at import), forwarding to the app the fixture started."""

    target: AppThread | None = None

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        assert self.target is not None, "the served fixture starts the app"
        await self.target.forward(scope, receive, send)


FORWARD = Forwarder()
SETTINGS: dict[str, Any] = {
    "api_keys": [API_KEY],
    "journeys_dir": JOURNEYS_DIR,
    "max_body_bytes": MAX_BODY,
    "unsubscribe_secret": "api-test-unsubscribe-secret-0123",
    "public_base_url": "https://journeys.test",
}
# What positive_data_acceptance expects by default (schemathesis.config._checks), for the two widened below.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
CONFIG = schemathesis.Config.from_dict(
    {
        "headers": {"Authorization": f"Bearer {API_KEY}"},
        # A batch may hold 1,000 events (the coverage phase sends one): each is claimed and routed to
        # Temporal, which on a busy 2-core CI machine takes longer than schemathesis' 10 s default.
        "request-timeout": 60,
        "checks": {"enabled": True},  # every check schemathesis has (max_response_time needs a limit)
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        "operations": [
            # A journey is YAML text whose validity (the journey language, its templates) no JSON
            # Schema can state; the body is documented as a string, and a string that is no valid
            # journey gets the documented 422 with every problem.
            {
                "include-path-regex": "^/v1/journeys/(validate|edit|\\{name\\}|\\{name\\}/review)$",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            },
            # So is a loyalty program file (the program language, every reference in it) and a
            # channel policy file: a string that is no valid file gets the documented 422.
            {
                "include-path-regex": "^/v1/(loyalty/program|channels/policy)$",
                "include-method": "PUT",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            },
            # A report's range is valid when from <= to, at most 366 days apart, between 1970 and 2999:
            # each parameter has its schema, their relation none; a range out of it gets the 422.
            {
                "include-path-regex": "^/v1/reports/(lifecycle|acquisition)$",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            },
            # An event id names one event: no schema can state "not used before by another event",
            # and generated events share ids ("0") across customers, so a reuse gets the documented
            # 422 (event_id_reused), as the Idempotency-Key draft answers a key reused for another request.
            {
                # No include-method: filters of one entry match either way, so it would take every POST.
                "include-path-regex": "^/v1/events(/batch)?$",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            },
            # An unsubscribe token is valid when its HMAC signature is: no schema can state that, so
            # a made-up token gets the documented 400 page.
            {
                "include-path": "/unsubscribe/{token}",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
            },
            # So is a tracking token (and it names a message sent): a made-up one gets the 404 page.
            {
                "include-path-regex": "^/t/[oc]/\\{token\\}$",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "404"]}},
            },
        ],
    }
)


def timestamps_in_window() -> st.SearchStrategy[str]:
    """RFC 3339 date-times that the window of ``check_timestamps`` accepts: JSON Schema can say
    ``format: date-time`` but not "within a year of the server's clock", so generated valid
    timestamps come from inside the window (negative cases still get every other kind of value)."""
    now = datetime.now(UTC)
    offsets = st.sampled_from([UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-14))])
    seconds = st.integers(min_value=-300 * 86_400, max_value=12 * 3600)
    return st.builds(
        lambda s, zone: (now + timedelta(seconds=s)).astimezone(zone).isoformat(), seconds, offsets
    )


schemathesis.openapi.format("date-time", timestamps_in_window())
# The document the app serves, built as the app builds it (the app itself starts in the fixture).
schema = schemathesis.openapi.from_dict(
    create_app(Settings(_env_file=None, **SETTINGS)).openapi(), config=CONFIG
)
schema.app = FORWARD


@pytest.fixture(scope="module", autouse=True)
def served() -> Iterator[AppThread]:
    # Thousands of requests commit to the store: on a busy CI disk SQLite's syncs took half the time,
    # so the store lives in memory (tmpfs) where there is one.
    memory = Path("/dev/shm")
    with tempfile.TemporaryDirectory(
        prefix="journeys-schemathesis-", dir=memory if memory.is_dir() else None
    ) as tmp:
        served = AppThread(Path(tmp))
        served.start()
        FORWARD.target = served
        try:
            yield served
        finally:
            FORWARD.target = None
            served.stop()


# The coverage phase sends one request per value of an enum: ~600 for the IANA time zone names, in
# each of three operations (over half of all requests). The API treats them alike (one set lookup),
# so a sample of them is sent; every other case is.
TIME_ZONES = sorted(available_timezones())
SAMPLED_TIME_ZONES = {*TIME_ZONES[::50], "UTC", "Asia/Jakarta"}


def another_time_zone(case: Any) -> bool:
    description = str(getattr(case.meta.phase.data, "description", "")) if case.meta else ""
    return (
        "'timezone' value: Enum value" in description and not set(_time_zones(case.body)) & SAMPLED_TIME_ZONES
    )


def _time_zones(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("timezone"), str):
            yield value["timezone"]
        for item in value.values():
            yield from _time_zones(item)
    elif isinstance(value, list):
        for item in value:
            yield from _time_zones(item)


@schema.parametrize()
def test_the_api_does_what_its_openapi_says(case: Any) -> None:
    if another_time_zone(case):
        return
    case.call_and_validate()

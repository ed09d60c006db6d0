"""The whole product for browser tests: a Sandbox (Temporal's time-skipping test server, the real
worker, store and SMTP outbox) with every example journey deployed from its file, and the API
served by uvicorn on a free 127.0.0.1 port, all in a thread with its own event loop, so tests
drive Playwright's sync API and plain HTTP against it."""

from __future__ import annotations

import asyncio
import shutil
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

from api.app import create_app
from engine.loader import compile_file, journey_files
from engine.loyalty.loader import load_program_in
from outbox.server import OutboxServer
from simulate.sandbox import Sandbox
from tests.support.ports import free_port

JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"
API_KEY = "ui-test-key"
EDITOR_KEY = "ui-editor-key"
VIEWER_KEY = "ui-viewer-key"
SETTINGS: dict[str, Any] = {
    "api_keys": [
        API_KEY,
        {"key": EDITOR_KEY, "name": "Eddie Editor", "role": "editor"},
        {"key": VIEWER_KEY, "name": "Vera Viewer", "role": "viewer"},
    ],
    "journeys_dir": JOURNEYS_DIR,
    "unsubscribe_secret": "ui-test-unsubscribe-secret-0123",
}
START_TIMEOUT = 120.0
CALL_TIMEOUT = 60.0
T = TypeVar("T")


@dataclass
class LiveServer:
    url: str
    api: httpx.Client  # over HTTP, with the plain API key
    outbox: OutboxServer  # the SMTP server the worker sends to (stop it to make sends retry)
    journeys_dir: Path  # the journeys folder the API compiles against and saves into
    serving: _Serving

    def call(self, work: Callable[[Sandbox], Coroutine[Any, Any, T]]) -> T:
        """Run ``work`` with the server's own sandbox (its store, router, client) on the server's event
        loop, and wait for its result: for seeding what no HTTP route does (e.g. a time in the past)."""
        loop, sandbox = self.serving.loop, self.serving.sandbox
        assert loop is not None and sandbox is not None, "the live server is not running"
        return asyncio.run_coroutine_threadsafe(work(sandbox), loop).result(CALL_TIMEOUT)

    def event(self, name: str, customer_id: str, **extra: Any) -> dict[str, Any]:
        body = {"event_id": uuid.uuid4().hex, "customer_id": customer_id, "name": name, **extra}
        answer = self.api.post("/v1/events", json=body)
        assert answer.status_code == 202, answer.text
        result: dict[str, Any] = answer.json()
        return result


async def _deploy_files(sandbox: Sandbox, folder: Path) -> None:
    """Every example journey with its YAML source, as ``journeys deploy`` stores it."""
    for file in journey_files(folder):
        plan = await asyncio.to_thread(compile_file, file)
        await sandbox.store.deployments.deploy(plan, source=file.read_text("utf-8"))
    await sandbox.router.reload()


class _Serving(threading.Thread):
    def __init__(self, workdir: Path, journeys_dir: Path) -> None:
        super().__init__(name="ui-live-server", daemon=True)
        self.workdir = workdir
        self.journeys_dir = journeys_dir
        self.port = free_port()
        self.ready = threading.Event()
        self.failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self.outbox: OutboxServer | None = None
        self.sandbox: Sandbox | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread, which raises it
            self.failure = exc
        finally:
            self.ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        settings = {**SETTINGS, "journeys_dir": self.journeys_dir}
        program = load_program_in(self.journeys_dir)  # the folder's loyalty program, as deploy does
        async with Sandbox.open([], workdir=self.workdir, settings=settings, program=program) as sandbox:
            await _deploy_files(sandbox, self.journeys_dir)
            self.outbox = sandbox.outbox
            self.sandbox = sandbox
            app = create_app(
                sandbox.settings, client=sandbox.client, store=sandbox.store, router=sandbox.router
            )
            config = uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", ws="none", http="h11"
            )
            server = uvicorn.Server(config)
            serving = asyncio.create_task(server.serve())
            while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn offers a flag only
                await asyncio.sleep(0.02)
            if serving.done():
                serving.result()
            self.ready.set()
            await self._stopping.wait()
            server.should_exit = True
            await serving

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopping.set)
        self.join(timeout=60)


@contextmanager
def live_server(workdir: Path, *, own_journeys: bool = False) -> Iterator[LiveServer]:
    """The product on a free port. ``own_journeys``: a copy of the journeys folder (templates and
    tests too) in ``workdir``, for tests that save into it; else the repository's, read only."""
    journeys_dir = JOURNEYS_DIR
    if own_journeys:
        journeys_dir = workdir / "journeys"
        shutil.copytree(JOURNEYS_DIR, journeys_dir)
    serving = _Serving(workdir, journeys_dir)
    serving.start()
    if not serving.ready.wait(START_TIMEOUT):
        raise AssertionError(f"the live server did not start within {START_TIMEOUT:.0f}s")
    if serving.failure is not None:
        raise serving.failure
    url = f"http://127.0.0.1:{serving.port}"
    assert serving.outbox is not None
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30) as api:
            yield LiveServer(
                url=url, api=api, outbox=serving.outbox, journeys_dir=journeys_dir, serving=serving
            )
    finally:
        serving.stop()
        if serving.failure is not None:
            raise serving.failure

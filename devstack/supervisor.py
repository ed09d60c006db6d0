"""``journeys up``: refuse taken ports, deploy ``journeys/``, start the parts in order, wait until each
answers, print the banner, restart a part that crashes (with backoff, saying so), and on Ctrl-C or
SIGTERM (or a part that keeps crashing) stop them all.

Exit codes: 0 stopped on request, 1 invalid journeys or a part kept failing, 2 a port is taken or a
development secret would face the network.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Awaitable

from temporalio.client import Client

from config.exposure import EXIT_UNSAFE, exposure_problems
from config.settings import Settings
from devstack import ready
from devstack.banner import api_url, banner
from devstack.children import Child
from devstack.output import Output
from devstack.parts import Part, api_part, outbox_page_on, smtp_part, temporal_part, worker_part
from devstack.ports import PortTaken, check_ports, stack_ports
from devstack.restarts import RestartPolicy
from engine.errors import JourneyValidationError
from provision.deploy import deploy_directory

EXIT_OK, EXIT_FAILED, EXIT_PORT_TAKEN = 0, 1, 2
START_TIMEOUT = 60.0
TEMPORAL_STARTS = 3  # a dev server that exits while starting (an internal port taken) is started again


class Stack:
    """The running parts, in start order; stopped in reverse (API first, Temporal last)."""

    def __init__(self, settings: Settings, output: Output) -> None:
        self.settings = settings
        self.output = output
        self.children: list[Child] = []
        self.hurry = asyncio.Event()

    async def _spawn(self, part: Part) -> Child:
        child = Child(part, self.output.emit)
        await child.start()
        self.children.append(child)
        return child

    async def _start_temporal(self) -> Client:
        """The dev server, once it accepts clients. It picks its internal ports itself (its HTTP
        gateway, its services' membership ports); one another process takes in between makes it exit
        at once ("bind: address already in use"), so a dev server that exits while starting is
        started again, at most ``TEMPORAL_STARTS`` times. One that hangs is not retried."""
        settings = self.settings
        for attempt in range(1, TEMPORAL_STARTS + 1):
            temporal = await self._spawn(temporal_part(settings))
            try:
                return await ready.temporal_client(
                    temporal, settings.temporal_address, settings.temporal_namespace, START_TIMEOUT
                )
            except ready.NotReady:
                if temporal.returncode is None or attempt == TEMPORAL_STARTS:
                    raise
                self.children.remove(temporal)
                self.output.say(
                    f"temporal exited with code {temporal.returncode} while starting; starting it again"
                )
        raise AssertionError("unreachable")  # the loop returns or raises

    async def start(self) -> None:
        settings = self.settings
        client = await self._start_temporal()
        smtp = await self._spawn(smtp_part())
        smtp_at = f"listening on {settings.smtp_host}:{settings.smtp_port}"
        await ready.until(
            smtp, lambda: ready.port_open(settings.smtp_host, settings.smtp_port), START_TIMEOUT, smtp_at
        )
        worker = await self._spawn(worker_part(settings))
        api = await self._spawn(api_part(settings))
        await asyncio.gather(
            ready.until(
                worker,
                lambda: ready.worker_polling(client, settings.task_queue, worker.pid),
                START_TIMEOUT,
                f"polling task queue {settings.task_queue}",
            ),
            ready.until(
                api, lambda: ready.http_ok(f"{api_url(settings)}/readyz"), START_TIMEOUT, "ready (/readyz)"
            ),
        )

    async def keep_running(self, stop: asyncio.Event) -> Child:
        """Restart each part that exits on its own, after a pause that grows; return the part that
        crashed too often (the caller then stops everything). Runs until cancelled."""
        policies = {child.name: RestartPolicy() for child in self.children}
        while True:
            child = await self.first_exit()
            pause = policies[child.name].after_crash(time.monotonic())
            what = f"{child.name} exited with code {child.returncode}"
            if pause is None:
                self.output.say(f"{what}; {policies[child.name].describe()}: giving up")
                return child
            self.output.say(f"{what}; restarting it in {pause:.0f}s ({policies[child.name].describe()})")
            if await _until_stopped(asyncio.sleep(pause), stop):
                await child.start()
                self.output.say(f"{child.name} restarted")

    async def first_exit(self) -> Child:
        """The first part to exit on its own."""
        waits = {asyncio.ensure_future(child.wait()): child for child in self.children}
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for future in pending:
            future.cancel()
        return waits[next(iter(done))]

    async def stop(self) -> None:
        for child in reversed(self.children):
            await child.stop(self.settings.stop_grace_seconds, self.hurry)


async def _until_stopped(work: Awaitable[object], stop: asyncio.Event) -> bool:
    """Run ``work`` unless ``stop`` is set first (then cancel it); True when ``work`` finished."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task.done():
        task.result()  # raise what went wrong
        return True
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False


async def up(settings: Settings, output: Output) -> int:
    listeners = {port.part: (port.host, port.port) for port in stack_ports(settings)}
    problems = exposure_problems(settings, listeners)
    if problems:
        print("\n".join(f"journeys up: {line}" for line in problems), file=sys.stderr, flush=True)
        return EXIT_UNSAFE
    try:
        check_ports(stack_ports(settings))
    except PortTaken as exc:
        print(f"journeys up: {exc}", file=sys.stderr, flush=True)
        return EXIT_PORT_TAKEN
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        deployed = await deploy_directory(
            settings.journeys_dir, settings.store_url(), deployed_by="journeys up"
        )
    except JourneyValidationError as exc:
        for error in exc.errors:
            print(str(error), file=sys.stderr)
        print(
            f"journeys up: {len(exc.errors)} problem(s) in {settings.journeys_dir}; nothing was started",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_FAILED
    for item in deployed:
        output.say(f"deployed {item.journey} {item.version}{' (new version)' if item.new else ''}")

    stack = Stack(settings, output)
    stop = asyncio.Event()

    def on_signal() -> None:
        if stop.is_set():
            stack.hurry.set()
            output.say("killing every part now")
            return
        stop.set()
        output.say("stopping (press Ctrl-C again to kill at once)")

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    code = EXIT_OK
    try:
        started = await _until_stopped(stack.start(), stop)
        if started:
            print(banner(settings, deployed, outbox_page=outbox_page_on(settings)), flush=True)
            if await _until_stopped(stack.keep_running(stop), stop):
                output.say("stopping the others")
                code = EXIT_FAILED
    except ready.NotReady as exc:
        output.say(f"could not start: {exc}")
        code = EXIT_FAILED
    finally:
        await stack.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    output.say("stopped")
    return code


def run(settings: Settings) -> int:
    return asyncio.run(up(settings, Output()))

"""A supervised child process: started in its own session, its output relayed line by line with a
prefix, stopped with SIGTERM and then SIGKILL after a grace period.

On Linux each child also gets SIGKILL if ``journeys up`` itself dies (``PR_SET_PDEATHSIG``), so even
``kill -9`` of the supervisor leaves no process behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import re
import signal
import sys
from collections.abc import Callable

from devstack.parts import Part

PR_SET_PDEATHSIG = 1
_ERROR = re.compile(r'"level":\s*"(error|fatal|panic)"', re.IGNORECASE)
Emit = Callable[[str, str], None]


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Child:
    def __init__(self, part: Part, emit: Emit) -> None:
        self.part = part
        self.name = part.name
        self._emit = emit
        self._process: asyncio.subprocess.Process | None = None
        self._relay: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.returncode

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            *self.part.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.part.env},
            # Own session: Ctrl-C reaches only the supervisor, which stops the parts in order.
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            limit=1 << 20,
        )
        self._relay = asyncio.create_task(self._relay_output(), name=f"relay-{self.name}")

    async def _relay_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        async for raw in self._process.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            if not line or (self._stopping and self.part.quiet_on_stop and not _ERROR.search(line)):
                continue
            self._emit(self.name, line)

    async def wait(self) -> int:
        assert self._process is not None, "not started"
        code = await self._process.wait()
        if self._relay is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._relay, timeout=2)
        return code

    async def stop(self, grace: float, hurry: asyncio.Event) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds or as soon as ``hurry`` is set."""
        process = self._process
        if process is None or process.returncode is not None:
            if process is not None:
                await self.wait()
            return
        self._stopping = True
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        exited = asyncio.ensure_future(process.wait())
        hurried = asyncio.ensure_future(hurry.wait())
        await asyncio.wait({exited, hurried}, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
        hurried.cancel()
        if not exited.done():
            self._emit(self.name, "did not stop in time; killing it")
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        await exited
        await self.wait()

"""OS processes a test starts and must leave behind none of: ``Processes(logs)``, ``start(...)``,
``stop()`` in reverse order.

Each process starts in its own session (Ctrl-C reaches only pytest), writes its output to
``<logs>/<name>.log``, and on Linux is killed by the kernel if pytest itself dies
(``PR_SET_PDEATHSIG``). ``stop`` sends SIGTERM to each process group, SIGKILL after a grace
period, and then checks that no process of any of those sessions is still running (children
included), killing and naming any it finds.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name: state, ppid, pgrp, session, ..."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def session_members(session: int) -> set[int]:
    """Every running process (zombies excluded) whose session id is ``session``."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and fields[0] != "Z" and int(fields[3]) == session:
            found.add(int(entry.name))
    return found


def running(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


@dataclass
class Started:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def exited(self) -> int | None:
        return self.process.poll()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Processes:
    logs: Path
    started: list[Started] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, argv: Sequence[str], env: dict[str, str], cwd: Path) -> Started:
        """Start ``argv`` with exactly ``env`` (nothing inherited) in ``cwd``."""
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        started = Started(name, list(argv), process, log)
        self.started.append(started)
        return started

    def exited(self) -> list[Started]:
        """The processes that have exited (a part that died while the test runs)."""
        return [part for part in self.started if part.exited() is not None]

    def describe_exits(self) -> str:
        return "\n".join(
            f"{part.name} exited with code {part.exited()}; its log ends:\n{part.log_tail()}"
            for part in self.exited()
        )

    def stop(self, grace: float = 15.0, order: Sequence[Sequence[str]] = ()) -> list[str]:
        """Stop every process: the groups of names in ``order`` one group after the other (each
        group's processes side by side), then the rest in reverse start order. Returns what had to
        be killed or was left behind (empty when everything stopped on SIGTERM)."""
        trouble: list[str] = []
        remaining = list(reversed(self.started))
        waves: list[list[Started]] = []
        for names in order:
            wave = [part for part in remaining if part.name in names]
            remaining = [part for part in remaining if part.name not in names]
            waves.append(wave)
        waves += [[part] for part in remaining]
        for wave in waves:
            for part in wave:
                if part.exited() is None:
                    with suppress(ProcessLookupError):
                        os.killpg(part.pid, signal.SIGTERM)
            for part in wave:
                try:
                    part.process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    trouble.append(f"{part.name} did not stop within {grace:.0f} s of SIGTERM: killed")
                    with suppress(ProcessLookupError):
                        os.killpg(part.pid, signal.SIGKILL)
                    part.process.wait()
        trouble += self._sweep()
        return trouble

    def _sweep(self) -> list[str]:
        """Kill whatever still runs in the sessions of the processes started (their children)."""
        trouble: list[str] = []
        deadline = time.monotonic() + 5
        for part in self.started:
            while left := session_members(part.pid):
                if time.monotonic() > deadline:
                    trouble.append(f"{part.name} left processes behind: {sorted(left)}; killed")
                    for pid in left:
                        with suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)
                    break
                time.sleep(0.05)
        return trouble

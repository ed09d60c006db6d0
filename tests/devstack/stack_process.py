"""``journeys up`` as a real process for the stack tests: free loopback ports, a tmp data folder,
its logs in files, and a check that every process it started is gone after it stops.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from outbox.server import OutboxMessage, OutboxServer
from tests.support import free_port

API_KEY = "stack-test-key"
READY_LINE = "Journeys is running"


def free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def stack_env(data_dir: Path, journeys_dir: Path) -> dict[str, str]:
    """The environment of a ``journeys up`` on free ports, keeping its files in ``data_dir``."""
    temporal, ui, smtp, api, metrics = free_ports(5)
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOURNEYS_")}
    env.update(
        {
            "JOURNEYS_DATA_DIR": str(data_dir),
            "JOURNEYS_JOURNEYS_DIR": str(journeys_dir),
            "JOURNEYS_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal}",
            "JOURNEYS_TEMPORAL_UI_PORT": str(ui),
            "JOURNEYS_SMTP_PORT": str(smtp),
            "JOURNEYS_API_PORT": str(api),
            "JOURNEYS_WORKER_METRICS_PORT": str(metrics),
            "JOURNEYS_API_KEYS": f'["{API_KEY}"]',
            "JOURNEYS_STOP_GRACE_SECONDS": "10",
        }
    )
    return env


def children_of(pid: int) -> set[int]:
    """Every descendant of ``pid`` still running, from /proc."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            direct = {int(p) for p in (task / "children").read_text().split()}
        except OSError:
            continue
        for child in direct:
            found |= {child, *children_of(child)}
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    logs: Path
    pids: set[int]

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.env['JOURNEYS_API_PORT']}"

    @property
    def outbox_dir(self) -> Path:
        return Path(self.env["JOURNEYS_DATA_DIR"]) / "outbox"

    def banner(self) -> str:
        return (self.logs / "stdout").read_text()

    def log(self) -> str:
        return (self.logs / "stderr").read_text()

    def send(self, name: str, customer_id: str, traits: dict[str, Any] | None = None) -> dict[str, Any]:
        body = {"event_id": uuid.uuid4().hex, "customer_id": customer_id, "name": name, "traits": traits}
        response = httpx.post(
            f"{self.api}/v1/events", json=body, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30
        )
        assert response.status_code == 202, response.text
        result: dict[str, Any] = response.json()
        return result

    def messages(self) -> list[OutboxMessage]:
        return OutboxServer("127.0.0.1", 0, self.outbox_dir).messages()

    def wait_for_mail(self, count: int, timeout: float = 30) -> list[OutboxMessage]:
        deadline = time.monotonic() + timeout
        while len(messages := self.messages()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(messages)} message(s) after {timeout}s, wanted {count}")
            time.sleep(0.2)
        return messages

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Signal ``journeys up`` and wait for it; then every process it started must be gone."""
        self.pids |= children_of(self.process.pid)
        self.process.send_signal(signum)
        code = self.process.wait(timeout=timeout)
        deadline = time.monotonic() + 10
        while left := {pid for pid in self.pids if alive(pid)}:
            if time.monotonic() > deadline:
                for pid in left:
                    os.kill(pid, signal.SIGKILL)
                raise AssertionError(f"processes left behind: {sorted(left)}")
            time.sleep(0.1)
        return code


def run_up(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """``journeys up`` as a process; stdout and stderr go to files in ``cwd``."""
    with (cwd / "stdout").open("wb") as stdout, (cwd / "stderr").open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "cli", "up"],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )


def start_stack(env: dict[str, str], logs: Path, timeout: float = 90) -> RunningStack:
    """Start ``journeys up`` and return once it printed its banner (everything ready)."""
    logs.mkdir(parents=True, exist_ok=True)
    process = run_up(env, logs)
    stack = RunningStack(process, env, logs, {process.pid})
    deadline = time.monotonic() + timeout
    while READY_LINE not in stack.banner():
        stack.pids |= children_of(process.pid)
        if process.poll() is not None:
            raise AssertionError(f"journeys up exited with {process.returncode}:\n{stack.log()[-3000:]}")
        if time.monotonic() > deadline:
            stack.stop(signal.SIGKILL)
            raise AssertionError(f"journeys up not ready in {timeout}s:\n{stack.log()[-3000:]}")
        time.sleep(0.1)
    stack.pids |= children_of(process.pid)
    return stack

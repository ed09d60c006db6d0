"""``journeys up`` restarts a part that crashed, says so, and the stack carries on working."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.devstack.stack_process import children_of, stack_env, start_stack

JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"


def _worker_pid(root: int) -> int:
    for pid in children_of(root):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[-3:] == [b"cli", b"worker", b""]:
            return pid
    raise AssertionError("no worker process")


def test_a_killed_worker_is_restarted_and_the_next_signup_gets_its_email(tmp_path: Path) -> None:
    stack = start_stack(stack_env(tmp_path / "data", JOURNEYS_DIR), tmp_path / "run")
    try:
        os.kill(_worker_pid(stack.process.pid), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while "worker restarted" not in stack.log():
            assert time.monotonic() < deadline, stack.log()[-2000:]
            time.sleep(0.1)
        stack.pids |= children_of(stack.process.pid)

        stack.send("signed_up", "ada", {"email": "ada@example.com", "first_name": "Ada"})
        [welcome] = stack.wait_for_mail(1, timeout=60)
    finally:
        code = stack.stop()
    log = stack.log()
    assert "worker exited with code -9; restarting it in 1s (crash 1 of 5 allowed within 300s)" in log
    assert welcome.subject == "Welcome aboard, Ada!"
    assert code == 0

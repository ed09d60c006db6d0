"""``journeys up`` refuses to start, with a clear message and no process left, when a port is taken
or a journey is invalid."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.devstack.stack_process import stack_env

JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"


def run_up(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "up"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_taken_port_gets_one_line_naming_the_setting_and_exit_code_2(tmp_path: Path) -> None:
    env = stack_env(tmp_path / "data", JOURNEYS_DIR)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(env["JOURNEYS_API_PORT"])))
        squatter.listen()
        result = run_up(env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "already in use" in lines[0] and "JOURNEYS_API_PORT" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "temporal.db").exists(), "nothing was started"


def test_an_invalid_journey_lists_every_problem_and_starts_nothing(tmp_path: Path) -> None:
    journeys = tmp_path / "journeys"
    journeys.mkdir()
    (journeys / "broken.yaml").write_text(
        "journey: broken\nstage: acquisition\ntrigger: {event: signed_up}\n"
        "steps:\n  - {id: hello, send: {email: missing}}\n  - {id: later, wait: 1d, next: nowhere}\n"
    )
    result = run_up(stack_env(tmp_path / "data", journeys), tmp_path)
    assert result.returncode == 1
    assert "broken.yaml:5" in result.stderr and "broken.yaml:6" in result.stderr
    assert "nothing was started" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "temporal.db").exists()

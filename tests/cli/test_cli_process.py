"""The installed ``journeys`` command as a process: one-shot commands exit at once (skipping
Python's teardown) with their exit code and all their output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from engine.loader import journey_files
from engine.segments.folder import segment_files

ROOT = Path(__file__).resolve().parents[2]
JOURNEYS = Path(sys.executable).parent / "journeys"


def journeys(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(JOURNEYS), *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_a_command_that_succeeds_prints_everything_and_exits_0() -> None:
    done = journeys("validate", "journeys")

    assert done.returncode == 0, done.stderr
    # the journeys, the loyalty program and the segments
    files = len(journey_files(ROOT / "journeys")) + 1 + len(segment_files(ROOT / "journeys"))
    assert done.stdout.count("\n") == files and done.stdout.endswith("steps)\n")
    assert all(line.startswith("ok  ") for line in done.stdout.splitlines())


def test_a_command_that_fails_keeps_its_exit_code_and_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("journey: x\n")

    invalid = journeys("validate", str(bad))
    misfit = journeys("simulate", "journeys/onboarding.yaml", "-e", "200d profile_completed")

    assert invalid.returncode == 1
    assert 'bad.yaml:1:1 trigger: "trigger" is required' in invalid.stderr
    assert misfit.returncode == 2
    assert "profile_completed at 200d is after the horizon" in misfit.stderr

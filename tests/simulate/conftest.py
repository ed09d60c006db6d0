"""The ``journeys`` CLI, invoked in-process (each command runs its own Sandbox)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"
ONBOARDING = JOURNEYS_DIR / "onboarding.yaml"


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()

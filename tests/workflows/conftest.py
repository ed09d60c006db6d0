"""Fixtures for journeys on Temporal's time-skipping test server, with the real store and SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from engine.loader import load_directory
from engine.plan import Plan
from simulate.sandbox import Sandbox

JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"


@pytest.fixture(scope="session")
def example_plans() -> dict[str, Plan]:
    return {plan.journey: plan for plan in load_directory(JOURNEYS_DIR)}


@pytest_asyncio.fixture(loop_scope="session")
async def program(example_plans: dict[str, Plan], tmp_path: Path) -> AsyncIterator[Sandbox]:
    """Every journey in journeys/ deployed together, as `make run` does."""
    async with Sandbox.open(list(example_plans.values()), workdir=tmp_path) as opened:
        yield opened


@pytest_asyncio.fixture(loop_scope="session")
async def onboarding(example_plans: dict[str, Plan], tmp_path: Path) -> AsyncIterator[Sandbox]:
    """Only the onboarding journey deployed."""
    async with Sandbox.open([example_plans["onboarding"]], workdir=tmp_path) as opened:
        yield opened

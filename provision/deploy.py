"""Validate every journey in a folder and deploy them all to the store, or none if one is invalid."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from engine.errors import JourneyError, JourneyValidationError
from engine.loader import journey_files, load_directory
from engine.plan import Plan
from store.database import Store


@dataclass(frozen=True)
class Deployed:
    journey: str
    version: str
    new: bool


def compile_directory(directory: Path) -> list[tuple[Plan, str]]:
    """Every journey of ``directory`` compiled, with its YAML source; ``JourneyValidationError`` lists
    every problem if one is invalid."""
    if not directory.is_dir():
        error = JourneyError(str(directory), 1, 1, "", "no such folder (set JOURNEYS_JOURNEYS_DIR)")
        raise JourneyValidationError([error])
    plans = load_directory(directory)
    # load_directory compiles the files in this order and raised if any failed.
    sources = [file.read_text("utf-8") for file in journey_files(directory)]
    return list(zip(plans, sources, strict=True))


async def deploy_directory(directory: Path, store_url: str, *, deployed_by: str) -> list[Deployed]:
    """Compile ``directory`` (off the event loop) and deploy it: all of it, or nothing if one is invalid.
    The deploy history names ``deployed_by`` (``cli``, ``journeys setup``, ``journeys up``)."""
    compiled = await asyncio.to_thread(compile_directory, directory)
    store = Store(store_url)
    try:
        await store.migrate()
        return [
            Deployed(plan.journey, plan.version, await store.deployments.deploy(plan, source, deployed_by))
            for plan, source in compiled
        ]
    finally:
        await store.close()

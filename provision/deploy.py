"""Validate every journey in a folder and deploy them all to the store, or none if one is invalid."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import JourneyError, JourneyValidationError
from engine.loader import journey_files, load_directory
from store.database import Store


@dataclass(frozen=True)
class Deployed:
    journey: str
    version: str
    new: bool


async def deploy_directory(directory: Path, store_url: str) -> list[Deployed]:
    """Compile ``directory`` (raising ``JourneyValidationError`` with every problem) and deploy it."""
    if not directory.is_dir():
        error = JourneyError(str(directory), 1, 1, "", "no such folder (set JOURNEYS_JOURNEYS_DIR)")
        raise JourneyValidationError([error])
    plans = load_directory(directory)
    # load_directory compiles the files in this order and raised if any failed.
    sources = [file.read_text("utf-8") for file in journey_files(directory)]
    store = Store(store_url)
    try:
        await store.migrate()
        return [
            Deployed(plan.journey, plan.version, await store.deployments.deploy(plan, source))
            for plan, source in zip(plans, sources, strict=True)
        ]
    finally:
        await store.close()

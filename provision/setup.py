"""``journeys setup``: prepare an installation whose Temporal and store run elsewhere (production):
register the search attributes, migrate the store and deploy the journeys. Safe to run again.
"""

from __future__ import annotations

from config.settings import Settings
from provision.deploy import Deployed, deploy_directory
from worker.connection import connect, ensure_search_attributes


async def setup(settings: Settings) -> list[Deployed]:
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    await ensure_search_attributes(client, settings.temporal_namespace)
    return await deploy_directory(settings.journeys_dir, settings.store_url(), deployed_by="journeys setup")

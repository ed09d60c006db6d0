"""Waiting until a part answers: a port accepting, Temporal connectable, a worker polling, HTTP 200."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from devstack.children import Child
from worker.connection import connect, ensure_search_attributes

POLL_SECONDS = 0.2


class NotReady(Exception):
    """A part exited or did not answer in time; the message says which."""


async def until(child: Child, check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    """Call ``check`` until it is true; fail if ``child`` exits first or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while True:
        if child.returncode is not None:
            raise NotReady(f"{child.name} exited with code {child.returncode} before {what}")
        try:
            if await check():
                return
        except (OSError, RuntimeError, RPCError, httpx.HTTPError):
            pass  # not up yet
        if time.monotonic() > deadline:
            raise NotReady(f"{child.name} did not get {what} within {seconds:.0f}s")
        await asyncio.sleep(POLL_SECONDS)


async def port_open(host: str, port: int) -> bool:
    _, writer = await asyncio.open_connection(host, port)
    writer.close()
    await writer.wait_closed()
    return True


async def temporal_client(child: Child, address: str, namespace: str, seconds: float) -> Client:
    """A client of the dev server once it accepts connections, with the search attributes in place."""
    host, _, port = address.rpartition(":")
    await until(child, lambda: port_open(host, int(port)), seconds, f"listening on {address}")
    clients: list[Client] = []

    async def connected() -> bool:
        clients.append(await connect(address, namespace))
        return True

    await until(child, connected, seconds, "accepting clients")
    await ensure_search_attributes(clients[0], namespace)
    return clients[0]


async def worker_polling(client: Client, task_queue: str, pid: int) -> bool:
    """Whether the worker process ``pid`` polls ``task_queue`` (SDK identities are ``pid@host``)."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return any(poller.identity.startswith(f"{pid}@") for poller in response.pollers)


async def http_ok(url: str) -> bool:
    async with httpx.AsyncClient(timeout=2.0) as http:
        return (await http.get(url)).status_code == 200

"""The app served over real HTTP on a free loopback port, as ``journeys api`` serves it
(``api.server.server_config``), with the HTTP/1.1 parser a test names."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI

from api.server import server_config
from config.settings import Settings
from simulate.sandbox import Sandbox, free_port


@contextlib.asynccontextmanager
async def serving(app: FastAPI, sandbox: Sandbox, parser: str) -> AsyncIterator[uvicorn.Server]:
    """uvicorn serving ``app`` (whose lifespan the test's fixture ran) on a free port until the
    block ends."""
    settings = sandbox.settings.model_copy(update={"api_port": free_port(), "api_http": parser})
    async with serving_with(app, settings) as server:
        yield server


def loopback_socket() -> socket.socket:
    """A socket bound to a free loopback port, held until ``serving_with`` listens on it: a port
    chosen long before it is served (a fixture that starts a sandbox first) could be taken meanwhile,
    by another server or as the source port of an outgoing connection."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serving_with(
    app: FastAPI, settings: Settings, sock: socket.socket | None = None
) -> AsyncIterator[uvicorn.Server]:
    """uvicorn serving ``app`` as ``settings`` say (their port, their parser), or on ``sock`` (from
    ``loopback_socket``), without its lifespan (its parts are the test's own), until the block ends."""
    config = server_config(settings, app)
    config.lifespan = "off"
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock] if sock is not None else None))
    while not server.started:  # uvicorn tells it started only by this flag
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield server
    finally:
        server.should_exit = True
        await task

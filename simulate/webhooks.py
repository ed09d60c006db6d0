"""A tiny HTTP endpoint on 127.0.0.1 that accepts the webhooks a simulated journey sends.

Simulations point ``webhook_url`` here so webhook steps are really sent (and their rendered payload
can be shown) instead of being skipped for want of a receiver.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

MAX_BODY = 1_000_000


class WebhookCatcher:
    def __init__(self) -> None:
        self.received: dict[str, dict[str, Any]] = {}  # idempotency key -> body
        self.url = ""

    @classmethod
    @asynccontextmanager
    async def open(cls) -> AsyncIterator[WebhookCatcher]:
        catcher = cls()
        server = await asyncio.start_server(catcher._serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        catcher.url = f"http://127.0.0.1:{port}/webhooks"
        try:
            yield catcher
        finally:
            server.close()
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = min(int(value.strip() or 0), MAX_BODY)
            body = await reader.readexactly(length) if length else b""
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                payload = {}
            if isinstance(payload, dict) and payload.get("id"):
                self.received[str(payload["id"])] = payload
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

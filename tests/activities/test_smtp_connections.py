"""SMTP connections kept open between sends, against the real Outbox server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosmtplib
import pytest

from activities.smtp_connections import SmtpConnections
from config.settings import Settings
from outbox.server import OutboxServer
from tests.support import free_port
from tests.support.mail import plain_message


async def idle_connections_seen_closed(connections: SmtpConnections, within: float = 5.0) -> None:
    """Wait until the client has noticed that the server closed the connection kept idle (it does once
    its event loop reads the end of the stream), so the next send must replace it."""
    idle = connections._idle  # the pool's idle connections: what the next send would take
    assert idle, "a connection was kept for the next send"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while any(client.is_connected for client, _ in idle):
        if loop.time() > deadline:
            raise AssertionError(f"the client still sees its idle connection open after {within}s")
        await asyncio.sleep(0.01)


async def test_sends_share_one_connection(settings: Settings, outbox: OutboxServer) -> None:
    connections = SmtpConnections(settings)
    for n in range(3):
        await connections.send(plain_message(f"Message {n}"))
    await connections.close()

    assert connections.opened == 1
    assert [m.subject for m in outbox.messages()] == ["Message 0", "Message 1", "Message 2"]


async def test_a_connection_the_server_closed_while_idle_is_replaced(
    settings: Settings, outbox: OutboxServer, tmp_path: Path
) -> None:
    connections = SmtpConnections(settings)
    await connections.send(plain_message("Before the restart"))
    outbox.stop()  # closes every connection, including the idle one kept for the next send
    restarted = OutboxServer("127.0.0.1", outbox.port, outbox.directory)
    restarted.start()
    await idle_connections_seen_closed(connections)
    try:
        await connections.send(plain_message("After the restart"))
        await connections.close()
    finally:
        restarted.stop()

    assert connections.opened == 2
    assert [m.subject for m in restarted.messages()] == ["Before the restart", "After the restart"]


async def test_a_connection_idle_too_long_is_not_reused(settings: Settings, outbox: OutboxServer) -> None:
    connections = SmtpConnections(settings, idle_seconds=0)
    await connections.send(plain_message("One"))
    await connections.send(plain_message("Two"))
    await connections.close()

    assert connections.opened == 2


async def test_a_refused_recipient_drops_the_connection_and_the_next_send_opens_one(
    settings: Settings, tmp_path: Path
) -> None:
    refusing = OutboxServer("127.0.0.1", free_port(), tmp_path / "refusing", refuse=["no@example.com"])
    refusing.start()
    connections = SmtpConnections(settings.model_copy(update={"smtp_port": refusing.port}))
    try:
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await connections.send(plain_message("Refused", to="no@example.com"))
        await connections.send(plain_message("Accepted"))
        await connections.close()
    finally:
        refusing.stop()

    assert connections.opened == 2
    assert [m.subject for m in refusing.messages()] == ["Accepted"]


async def test_a_connection_idle_a_while_is_checked_and_still_reused(
    settings: Settings, outbox: OutboxServer
) -> None:
    connections = SmtpConnections(settings, check_after_seconds=0)  # NOOP before every reuse
    await connections.send(plain_message("One"))
    await connections.send(plain_message("Two"))
    await connections.close()

    assert connections.opened == 1
    assert [m.subject for m in outbox.messages()] == ["One", "Two"]

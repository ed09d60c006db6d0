"""The Outbox SMTP server: keeps each message as a file with its envelope, survives a restart."""

from __future__ import annotations

from pathlib import Path

import aiosmtplib

from outbox.server import OutboxServer
from tests.support import free_port
from tests.support.mail import plain_message


async def test_keeps_messages_with_envelope_across_restarts(tmp_path: Path) -> None:
    port = free_port()
    outbox = OutboxServer("127.0.0.1", port, tmp_path / "outbox")
    outbox.start()
    try:
        await aiosmtplib.send(plain_message("One", "a@example.com"), hostname="127.0.0.1", port=port)
        await aiosmtplib.send(
            plain_message("Two", "b@example.com"),
            sender="bounce@journeys.test",
            recipients=["b@example.com", "hidden@example.com"],
            hostname="127.0.0.1",
            port=port,
        )
    finally:
        outbox.stop()
    assert not outbox.running

    reopened = OutboxServer("127.0.0.1", port, tmp_path / "outbox")
    messages = reopened.messages()
    assert [m.subject for m in messages] == ["One", "Two"]
    assert messages[1].sender == "bounce@journeys.test"
    assert messages[1].recipients == ["b@example.com", "hidden@example.com"]
    assert messages[0].text is not None and messages[0].text.strip() == "hello"
    assert messages[0].html is None
    assert all(m.path.suffix == ".eml" and m.path.is_file() for m in messages)
    assert messages[0].header("subject") == "One"

    reopened.clear()
    assert reopened.messages() == []
    assert list((tmp_path / "outbox").glob("*.eml")) == []

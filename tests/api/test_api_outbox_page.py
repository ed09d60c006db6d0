"""The Outbox page: every email kept on this machine, shown only while the API listens on loopback."""

from __future__ import annotations

from pathlib import Path

import aiosmtplib
import httpx
import pytest

from api.app import create_app
from config.settings import Settings
from outbox.server import OutboxServer
from tests.support import free_port
from tests.support.mail import plain_message


async def _page(tmp_path: Path, api_host: str) -> tuple[httpx.Response, httpx.Response]:
    """GET /outbox and the one message on it, from an API on ``api_host`` with the page turned on."""
    port = free_port()
    settings = Settings(
        _env_file=None, data_dir=tmp_path, smtp_port=port, outbox_page=True, api_host=api_host
    )
    outbox = OutboxServer("127.0.0.1", port, tmp_path / "outbox")
    outbox.start()
    try:
        await aiosmtplib.send(plain_message("Welcome <Ada>"), hostname="127.0.0.1", port=port)
    finally:
        outbox.stop()
    [kept] = outbox.messages()
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        return await client.get("/outbox"), await client.get(f"/outbox/{kept.path.stem}")


async def test_on_loopback_the_page_lists_each_email_and_shows_it(tmp_path: Path) -> None:
    listing, message = await _page(tmp_path, "127.0.0.1")

    assert listing.status_code == 200
    assert "Welcome &lt;Ada&gt;" in listing.text and "ada@example.com" in listing.text
    assert message.status_code == 200 and "hello" in message.text
    assert "sandbox" in message.headers["Content-Security-Policy"]


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5"])
async def test_beyond_loopback_there_is_no_outbox_page(tmp_path: Path, host: str) -> None:
    listing, message = await _page(tmp_path, host)

    assert (listing.status_code, message.status_code) == (404, 404)

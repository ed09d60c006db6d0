"""Reused SMTP connections: a send takes an idle connection (or opens one) and gives it back.

Opening a connection costs a TCP handshake, EHLO, often STARTTLS and AUTH; a relay such as an
email service provider expects senders to keep a few connections open instead. A connection is
dropped after any error and after ``idle_seconds`` unused (well under the usual server idle
timeouts). One idle for more than ``check_after_seconds`` is checked with NOOP before it carries a
message, and replaced if the server has closed it. A send is never retried here: once the message
may have reached the server, only Temporal's retry (same Message-ID) may send it again. The caller
learns when the message itself starts to go out (the DATA command): a failure before that point
leaves nothing on the server, one after it may come after the server accepted the message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from email.message import Message
from typing import Literal

import aiosmtplib
from aiosmtplib.response import SMTPResponse
from aiosmtplib.typing import Default

from config.settings import Settings

IDLE_SECONDS = 30.0
CHECK_AFTER_SECONDS = 5.0
KEEP = 8  # idle connections kept at most


class _Client(aiosmtplib.SMTP):
    """aiosmtplib's client, calling ``on_data`` as the message itself starts to go out."""

    on_data: Callable[[], None] | None = None

    async def data(
        self,
        message: str | bytes,
        /,
        *,
        timeout: float | Literal[Default.token] | None = Default.token,  # noqa: ASYNC109 - aiosmtplib's
    ) -> SMTPResponse:
        if self.on_data is not None:
            self.on_data()
        return await super().data(message, timeout=timeout)


class SmtpConnections:
    def __init__(
        self,
        settings: Settings,
        *,
        idle_seconds: float = IDLE_SECONDS,
        check_after_seconds: float = CHECK_AFTER_SECONDS,
        keep: int = KEEP,
    ) -> None:
        self.settings = settings
        self.idle_seconds = idle_seconds
        self.check_after_seconds = check_after_seconds
        self.keep = keep
        self._idle: list[tuple[_Client, float]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.opened = 0  # connections opened so far (tests and metrics read it)

    async def send(self, message: Message, *, on_data: Callable[[], None] | None = None) -> None:
        """Send ``message``; aiosmtplib's errors pass through for the caller to classify.

        ``on_data`` is called just before the DATA command, after the envelope was accepted.
        """
        client = await self._take()
        client.on_data = on_data
        try:
            await client.send_message(message)
        except BaseException:
            self._drop(client)
            raise
        finally:
            client.on_data = None
        self._give_back(client)

    async def close(self) -> None:
        """Close every idle connection (say QUIT where the server still listens)."""
        idle, self._idle = self._idle, []
        same_loop = self._loop is asyncio.get_running_loop()
        for client, _ in idle:
            try:
                if not same_loop:
                    raise RuntimeError("opened on another event loop")
                await client.quit()
            # Closing is best effort: the transport goes either way.
            except (aiosmtplib.SMTPException, OSError, RuntimeError):
                self._drop(client)

    async def _take(self) -> _Client:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections belong to the loop that opened them
            for client, _ in self._idle:
                self._drop(client)
            self._idle, self._loop = [], loop
        while self._idle:
            client, since = self._idle.pop()
            idle = time.monotonic() - since
            if idle > self.idle_seconds or not client.is_connected:
                self._drop(client)
                continue
            if idle > self.check_after_seconds and not await self._answers(client):
                continue
            return client
        return await self._open()

    async def _answers(self, client: _Client) -> bool:
        try:
            await client.noop()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            self._drop(client)
            return False
        return True

    async def _open(self) -> _Client:
        settings = self.settings
        client = _Client(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
        await client.connect()
        self.opened += 1
        return client

    def _give_back(self, client: _Client) -> None:
        if len(self._idle) >= self.keep:
            self._drop(client)
            return
        self._idle.append((client, time.monotonic()))

    @staticmethod
    def _drop(client: aiosmtplib.SMTP) -> None:
        try:
            client.close()
        except (OSError, RuntimeError):  # its loop may be closed already: nothing left to close then
            pass

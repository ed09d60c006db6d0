"""Reused SMTP connections: a send takes an idle connection (or opens one) and gives it back.

Opening a connection costs a TCP handshake, EHLO, often STARTTLS and AUTH; a relay such as an
email service provider expects senders to keep a few connections open instead. A connection is
dropped after any error and after ``idle_seconds`` unused (well under the usual server idle
timeouts). If the server closed a reused connection while it sat idle, the send opens a fresh one
and tries once more: nothing was accepted on the closed one.
"""

from __future__ import annotations

import asyncio
import time
from email.message import Message

import aiosmtplib

from runtime.settings import Settings

IDLE_SECONDS = 30.0
KEEP = 8  # idle connections kept at most


class SmtpConnections:
    def __init__(self, settings: Settings, *, idle_seconds: float = IDLE_SECONDS, keep: int = KEEP) -> None:
        self.settings = settings
        self.idle_seconds = idle_seconds
        self.keep = keep
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.opened = 0  # connections opened so far (tests and metrics read it)

    async def send(self, message: Message) -> None:
        """Send ``message``; aiosmtplib's errors pass through for the caller to classify."""
        client, reused = await self._take()
        try:
            await client.send_message(message)
        except aiosmtplib.SMTPServerDisconnected:
            self._drop(client)
            if not reused:
                raise
            client, _ = await self._open()  # the server closed it while idle: once more, fresh
            try:
                await client.send_message(message)
            except BaseException:
                self._drop(client)
                raise
        except BaseException:
            self._drop(client)
            raise
        self._give_back(client)

    async def close(self) -> None:
        """Close every idle connection (say QUIT where the server still listens)."""
        idle, self._idle = self._idle, []
        for client, _ in idle:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()

    async def _take(self) -> tuple[aiosmtplib.SMTP, bool]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections belong to the loop that opened them
            self._idle, self._loop = [], loop
        now = time.monotonic()
        while self._idle:
            client, since = self._idle.pop()
            if now - since <= self.idle_seconds and client.is_connected:
                return client, True
            self._drop(client)
        return await self._open()

    async def _open(self) -> tuple[aiosmtplib.SMTP, bool]:
        settings = self.settings
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
        await client.connect()
        self.opened += 1
        return client, False

    def _give_back(self, client: aiosmtplib.SMTP) -> None:
        if len(self._idle) >= self.keep:
            self._drop(client)
            return
        self._idle.append((client, time.monotonic()))

    @staticmethod
    def _drop(client: aiosmtplib.SMTP) -> None:
        if client.is_connected:
            client.close()

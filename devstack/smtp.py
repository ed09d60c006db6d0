"""``journeys smtp``: the Outbox SMTP server as a process of its own, logging each message it keeps."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from config.exposure import refuse_unsafe_exposure
from config.settings import Settings
from outbox.server import INDEX, outbox_server

log = logging.getLogger("journeys.outbox")
POLL_SECONDS = 0.5


def _index_lines(directory: Path) -> list[str]:
    index = directory / INDEX
    return [line for line in index.read_text("utf-8").splitlines() if line.strip()] if index.exists() else []


def _describe(directory: Path, line: str) -> str:
    entry = json.loads(line)
    with (directory / entry["file"]).open("rb") as file:
        headers = BytesHeaderParser(policy=policy.default).parse(file)
    return f"kept {str(headers['Subject'] or '')!r} for {', '.join(entry['recipients'])}"


async def serve_outbox(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM (beyond loopback, only without development secrets)."""
    refuse_unsafe_exposure(
        "journeys smtp", settings, {"Outbox SMTP server": (settings.smtp_host, settings.smtp_port)}
    )
    server = outbox_server(settings)
    # aiosmtpd logs every SMTP command at INFO; one line per kept message says enough.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    server.start()
    log.info("Outbox SMTP server on %s:%d keeping mail in %s", server.host, server.port, server.directory)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    seen = len(_index_lines(server.directory))
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
            except TimeoutError:
                pass
            lines = _index_lines(server.directory)
            for line in lines[seen:]:
                log.info(_describe(server.directory, line))
            seen = len(lines)
    finally:
        server.stop()
        log.info("Outbox SMTP server stopped")

"""The Outbox: a local SMTP server that keeps every message it receives as a ``.eml`` file.

It is the mail catcher of ``make run`` (nothing leaves the machine) and the real SMTP server the
tests read. Files go to ``<directory>/<timestamp>-<n>.eml``; ``index.jsonl`` beside them keeps the
SMTP envelope (sender, recipients), which the message headers do not carry.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from config.settings import Settings

INDEX = "index.jsonl"


@dataclass(frozen=True)
class OutboxMessage:
    subject: str
    sender: str
    recipients: list[str]
    date: datetime | None
    message_id: str | None
    headers: dict[str, str]
    text: str | None
    html: str | None
    path: Path
    received_at: datetime

    def header(self, name: str) -> str | None:
        """A header by name, case-insensitively."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


class _Handler:
    def __init__(self, directory: Path, refuse: Iterable[str]) -> None:
        self.directory = directory
        self.refuse = {address.lower() for address in refuse}
        self.lock = threading.Lock()
        self.count = sum(1 for _ in directory.glob("*.eml"))

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        now = datetime.now(UTC)
        with self.lock:
            self.count += 1
            name = f"{now:%Y%m%dT%H%M%S%f}-{self.count:06d}.eml"
            (self.directory / name).write_bytes(content)
            entry = {
                "file": name,
                "sender": envelope.mail_from,
                "recipients": list(envelope.rcpt_tos),
                "received_at": now.isoformat(),
            }
            with (self.directory / INDEX).open("a", encoding="utf-8") as index:
                index.write(json.dumps(entry) + "\n")
        return "250 Message accepted for delivery"


class OutboxServer:
    """``OutboxServer(host, port, directory)``; ``start()``, ``messages()``, ``clear()``, ``stop()``.

    ``refuse`` lists addresses answered with ``550`` at RCPT (for tests and demos of bounces).
    """

    def __init__(self, host: str, port: int, directory: Path | str, *, refuse: Iterable[str] = ()) -> None:
        self.host = host
        self.port = port
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._handler = _Handler(self.directory, refuse)
        self._controller: Controller | None = None

    def start(self) -> None:
        if self._controller is not None:
            return
        controller = Controller(
            self._handler,
            hostname=self.host,
            port=self.port,
            server_hostname="journeys-outbox",
            enable_SMTPUTF8=True,  # internationalized addresses such as jörg@münchen.de
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def messages(self) -> list[OutboxMessage]:
        """Every message received, oldest first."""
        with self._handler.lock:
            index = self.directory / INDEX
            lines = index.read_text("utf-8").splitlines() if index.exists() else []
        return [self._load(json.loads(line)) for line in lines if line.strip()]

    def clear(self) -> None:
        """Forget every message (deletes the files)."""
        with self._handler.lock:
            for path in self.directory.glob("*.eml"):
                path.unlink()
            (self.directory / INDEX).unlink(missing_ok=True)

    def _load(self, entry: dict[str, Any]) -> OutboxMessage:
        path = self.directory / entry["file"]
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        date = parsed["Date"]
        return OutboxMessage(
            subject=str(parsed["Subject"] or ""),
            sender=entry["sender"],
            recipients=list(entry["recipients"]),
            date=parsedate_to_datetime(str(date)) if date else None,
            message_id=str(parsed["Message-ID"]) if parsed["Message-ID"] else None,
            headers={key: str(value) for key, value in parsed.items()},
            text=text.get_content() if isinstance(text, EmailMessage) else None,
            html=html.get_content() if isinstance(html, EmailMessage) else None,
            path=path,
            received_at=datetime.fromisoformat(entry["received_at"]),
        )


def outbox_server(settings: Settings) -> OutboxServer:
    """The Outbox of these settings, keeping mail in ``<data_dir>/outbox`` (not started)."""
    return OutboxServer(settings.smtp_host, settings.smtp_port, settings.data_dir / "outbox")

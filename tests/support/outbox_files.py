"""Reading the mail an Outbox process (``journeys smtp``) keeps, while it is still receiving.

The Outbox writes each message's ``.eml`` file before its line in ``index.jsonl``; a reader in
another process may find the last line half written, so only complete lines count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from outbox.server import INDEX


@dataclass(frozen=True)
class KeptMail:
    file: str
    recipients: tuple[str, ...]
    message_id: str
    subject: str
    to: str
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


def _complete_lines(directory: Path) -> list[str]:
    index = directory / INDEX
    if not index.exists():
        return []
    text = index.read_text("utf-8")
    complete = text[: text.rfind("\n") + 1]  # a line still being written is left for the next read
    return [line for line in complete.splitlines() if line.strip()]


def kept_count(directory: Path) -> int:
    """How many messages the Outbox in ``directory`` has kept so far (without reading them)."""
    return len(_complete_lines(directory))


def kept_mail(directory: Path) -> list[KeptMail]:
    """Every message the Outbox in ``directory`` has kept so far, oldest first (headers only)."""
    found: list[KeptMail] = []
    parser = BytesHeaderParser(policy=policy.default)
    for line in _complete_lines(directory):
        entry = json.loads(line)
        with (directory / entry["file"]).open("rb") as file:
            headers = parser.parse(file)
        found.append(
            KeptMail(
                file=entry["file"],
                recipients=tuple(entry["recipients"]),
                message_id=str(headers["Message-ID"] or ""),
                subject=str(headers["Subject"] or ""),
                to=str(headers["To"] or ""),
                headers={key: str(value) for key, value in headers.items()},
            )
        )
    return found

"""The one stream every part logs to: ``[part] time level logger: message`` on a terminal, JSON lines
with a ``part`` key otherwise (what ``config.logs`` does for a single process).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

# Keys a part's JSON log line may use for the same thing (ours, Temporal's Go logger).
_TIME = ("time", "ts")
_LEVEL = ("level",)
_LOGGER = ("logger",)
_MESSAGE = ("message", "msg")
_SKIP = {*_TIME, *_LEVEL, *_LOGGER, *_MESSAGE, "logging-call-at", "stacktrace"}


class Output:
    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty

    def emit(self, part: str, line: str) -> None:
        record = _parse(line)
        if self.tty:
            text = _readable(record) if record is not None else line
            self._write(f"[{part}] {text}")
        else:
            body = record if record is not None else _plain(line)
            self._write(json.dumps({"part": part, **body}, default=str))

    def say(self, message: str) -> None:
        """A line of ``journeys up`` itself."""
        self.emit("up", message)

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _parse(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _plain(line: str) -> dict[str, Any]:
    return {"time": datetime.now(UTC).isoformat(timespec="seconds"), "level": "info", "message": line}


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> str:
    return next((str(record[key]) for key in keys if key in record), "")


def _readable(record: dict[str, Any]) -> str:
    time = _first(record, _TIME)
    clock = time[11:19] if len(time) >= 19 else time
    level = _first(record, _LEVEL).upper()
    logger = _first(record, _LOGGER)
    context = " ".join(f"{key}={value}" for key, value in record.items() if key not in _SKIP)
    head = " ".join(part for part in (clock, level, f"{logger}:" if logger else "") if part)
    return " ".join(part for part in (head, _first(record, _MESSAGE), context) if part)

"""A customer story: who the customer is and what they do when, as written in YAML or on the command line.

```yaml
name: completes profile day 2, buys day 5
customer: {email: ada@example.com, first_name: Ada}
trigger: {}                     # properties of the journey's trigger event, sent at day 0
events:
  - {at: 2d, event: profile_completed}
  - {at: "5d 10:00", event: purchase_completed, properties: {total: 42}}
horizon: 90d
```
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.ids import check_id
from engine.durations import DurationError, parse_duration
from engine.source import SourceSyntaxError, format_path, parse_source, read_source_file
from simulate.offsets import parse_offset

DEFAULT_TRAITS: dict[str, Any] = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
DEFAULT_HORIZON = "90d"
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_.]*$")
OFFSET_TOKEN = re.compile(r"^(\d+|(\d+[smhdw])+|\d{1,2}:\d\d)$")
UNIT_WORD = re.compile(r"^(second|minute|hour|day|week)s?$")


class StoryEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: str | int = 0
    event: str
    properties: dict[str, Any] = Field(default_factory=dict)
    traits: dict[str, Any] | None = None

    @field_validator("at")
    @classmethod
    def _offset(cls, value: str | int) -> str | int:
        parse_offset(value)
        return value

    @field_validator("event")
    @classmethod
    def _name(cls, value: str) -> str:
        if not EVENT_NAME.match(value):
            raise ValueError(f'"{value}" is not an event name (lower case, digits, _ and .)')
        return value


class Story(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "story"
    customer: dict[str, Any] = Field(default_factory=dict)
    customer_id: str | None = None
    trigger: dict[str, Any] | None = Field(default_factory=dict)
    events: list[StoryEvent] = Field(default_factory=list)
    horizon: str = DEFAULT_HORIZON
    variants: dict[str, str] = Field(default_factory=dict)

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("customer_id")
    @classmethod
    def _customer_id(cls, value: str | None) -> str | None:
        """The same id syntax as the API's (``contracts.ids``)."""
        return None if value is None else check_id(value, "customer id")

    def horizon_seconds(self) -> int:
        return parse_duration(self.horizon)

    def traits(self, defaults: dict[str, Any] | None = None) -> dict[str, Any]:
        return {**DEFAULT_TRAITS, **(defaults or {}), **self.customer}

    def timezone(self) -> str:
        return str(self.traits().get("timezone") or "UTC")


class StoryFileError(ValueError):
    """A story or test file that cannot be read; the message names the file."""


def read_yaml(path: Path) -> dict[str, Any]:
    """A story or test file, read by the journeys' bounded loader (the same size, depth and alias
    limits, engine.limits)."""
    try:
        data = parse_source(read_source_file(path), str(path)).data or {}
    except SourceSyntaxError as exc:
        where = f" {format_path(exc.path)}:" if exc.path else ""
        raise StoryFileError(f"{path}:{exc.line}:{exc.column}{where} {exc.message}") from exc
    if not isinstance(data, dict):
        raise StoryFileError(f"{path}: expected a mapping at the top")
    return data


def parse_inline_event(text: str) -> StoryEvent:
    """``"5d 10:00 purchase_completed total=42"`` -> a story event."""
    tokens = text.split()
    offset: list[str] = []
    while tokens and OFFSET_TOKEN.match(tokens[0]):
        offset.append(tokens.pop(0))
    if offset and tokens and UNIT_WORD.match(tokens[0]):
        parse_duration(f"{offset[-1]} {tokens[0]}")  # raises with a hint: "3 days" -> write 3d
    if not tokens or not EVENT_NAME.match(tokens[0]):
        raise StoryFileError(f'--event "{text}": name an event, e.g. --event "2d profile_completed"')
    name, *pairs = tokens
    return StoryEvent(at=" ".join(offset) or 0, event=name, properties=parse_pairs(pairs, "--event"))


def parse_pairs(pairs: list[str], option: str) -> dict[str, Any]:
    """``["total=42", "plan=pro"]`` -> ``{"total": 42, "plan": "pro"}`` (values read as YAML scalars)."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise StoryFileError(f'{option} "{pair}": write key=value')
        values[key] = _scalar(raw, option, pair) if raw else ""
    return values


def _scalar(raw: str, option: str, pair: str) -> Any:
    try:
        return parse_source(raw, option).data
    except SourceSyntaxError as exc:
        raise StoryFileError(f'{option} "{pair}": {exc.message}') from exc


__all__ = ["DurationError", "Story", "StoryEvent", "StoryFileError", "parse_inline_event", "read_yaml"]

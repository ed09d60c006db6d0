"""Customer events: what a backend reports, what the router routes and what journeys receive as signals,
and the bounds on the free-form data they carry (``properties``, ``traits``)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from contracts.ids import ID_MAX_LENGTH

#: Free-form data (event properties, customer traits): containers nested at most this deep (the
#: object itself is level 1), at most this many keys in any one object, at most this many bytes as
#: compact JSON. Checked before anything is stored or sent to Temporal (docs/ids.md).
DATA_MAX_DEPTH = 8
DATA_MAX_KEYS = 64
DATA_MAX_BYTES = 16_384
#: Integers in free-form data fit a signed 64-bit column (what every consumer of the data can hold).
DATA_MAX_INT = 2**63 - 1
#: A payload breaking many bounds gets this many problems listed, not thousands.
DATA_MAX_PROBLEMS = 20

Loc = tuple[str | int, ...]


class CustomerEvent(BaseModel):
    """One thing a customer did, as a backend reports it (and as journeys receive it as a signal).

    Ids are only bounded in length here: events the engine emits carry derived ids (with ``/``), and
    runs in flight must keep decoding the events they already hold. The API checks the id syntax
    (``contracts.ids``) and the data bounds (``data_problems``) at the door.
    """

    event_id: str = Field(min_length=1, max_length=ID_MAX_LENGTH)
    customer_id: str = Field(min_length=1, max_length=ID_MAX_LENGTH)
    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_.]*$")
    properties: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime | None = None
    traits: dict[str, Any] | None = None

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        """A timestamp without a time zone is taken as UTC, so times always compare."""
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    def as_context(self) -> dict[str, Any]:
        return {"name": self.name, "properties": self.properties, "event_id": self.event_id}


def data_problems(value: dict[str, Any]) -> list[tuple[Loc, str, str]]:
    """Every bound ``value`` (parsed JSON) breaks, as (location inside it, error type, message); ``[]``
    when it is within bounds. Never recurses deeper than ``DATA_MAX_DEPTH`` + 1, so any input is safe."""
    problems = list(_walk(value, (), 1))[:DATA_MAX_PROBLEMS]
    if problems:
        return problems
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > DATA_MAX_BYTES:
        return [((), "data_too_large", f"is {size} bytes as JSON; at most {DATA_MAX_BYTES}")]
    return []


def _walk(value: Any, loc: Loc, depth: int) -> Iterator[tuple[Loc, str, str]]:
    if isinstance(value, dict | list) and depth > DATA_MAX_DEPTH:
        yield loc, "data_too_deep", f"is nested deeper than {DATA_MAX_DEPTH} levels"
        return
    if isinstance(value, dict):
        if len(value) > DATA_MAX_KEYS:
            yield loc, "data_too_many_keys", f"has {len(value)} keys; at most {DATA_MAX_KEYS} in one object"
        for key, item in value.items():
            if not isinstance(key, str) or not encodable(key):
                yield loc, "data_key", "has a key that is not valid Unicode text"
                continue
            if "\x00" in key:
                yield (
                    loc,
                    "data_key",
                    "has a key holding a NUL character (\\u0000), which PostgreSQL cannot store",
                )
                continue
            yield from _walk(item, (*loc, key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*loc, index), depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        yield loc, "data_number", "must be a finite number (JSON has no NaN or Infinity)"
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > DATA_MAX_INT:
        yield loc, "data_number", f"is an integer beyond 64 bits; at most {DATA_MAX_INT} either way"
    elif isinstance(value, str) and not encodable(value):
        yield loc, "data_text", "must be valid Unicode text (it holds a lone surrogate)"
    elif isinstance(value, str) and "\x00" in value:
        yield loc, "data_text", "must not hold a NUL character (\\u0000), which PostgreSQL cannot store"


def encodable(text: str) -> bool:
    """``text`` is Unicode text UTF-8 can encode: it holds no lone surrogate (JSON's ``"\\ud800"``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

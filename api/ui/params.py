"""Path and query parameters the pages share, each bounded like the API's."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path, Query

from api.schemas import TEXT_PATTERN
from contracts.events import encodable

ONE_LINE = re.compile(TEXT_PATTERN)

JourneyName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=100, description="journey id")]
StepId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=64, description="step id")]
Version = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._-]+$", max_length=100)]
Locale = Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$")]
After = Annotated[
    str | None,
    Query(max_length=200, pattern=TEXT_PATTERN, description="the last customer id of the page before"),
]


def storable(text: str) -> bool:
    """Text a store can be asked about: one line without control characters (PostgreSQL refuses
    NUL) and no lone surrogate (no driver can send one). Anything else cannot match what is stored."""
    return encodable(text) and ONE_LINE.fullmatch(text) is not None

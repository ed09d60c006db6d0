"""Path and query parameters the pages share, each bounded like the API's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

JourneyName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=100, description="journey id")]
StepId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=64, description="step id")]
Version = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._-]+$", max_length=100)]
Locale = Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$")]
After = Annotated[
    str | None,
    Query(
        max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$", description="the last customer id of the page before"
    ),
]


def storable(text: str) -> bool:
    """Text a store can be asked about: no NUL or other control character (PostgreSQL refuses NUL)
    and no lone surrogate (no driver can send one). Anything else cannot match what is stored."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

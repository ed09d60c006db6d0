"""Path and query parameters the pages share, each bounded like the API's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

JourneyName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=100, description="journey id")]
StepId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=64, description="step id")]
Version = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._-]+$", max_length=100)]
Locale = Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$")]
After = Annotated[str | None, Query(max_length=200, description="the last customer id of the page before")]

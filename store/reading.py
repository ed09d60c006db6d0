"""Read-only connections: on SQLite they begin deferred, so readers never queue behind writers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

READ_ONLY = "journeys_read_only"


def reading(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (and pool) for read-only work; writes keep ``engine.begin()``."""
    return engine.execution_options(**{READ_ONLY: True})

"""The deployed loyalty program: every version by content hash, one active.

``active()`` is what workers and the API read on every loyalty event; it checks the active version
with one small read and parses the stored source only when that version changes.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.errors import JourneyValidationError
from engine.loyalty.loader import validate_program_text
from engine.loyalty.program import Program
from store.inserts import insert_ignore
from store.loyalty_tables import loyalty_programs
from store.reading import reading
from store.types import utcnow


class ProgramVersion(BaseModel):
    version: str
    program: str
    active: bool
    deployed_at: datetime


class LoyaltyProgramRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._cached: Program | None = None

    async def deploy(self, program: Program, source_text: str, *, at: datetime | None = None) -> bool:
        """Store ``program`` (its ``source_text`` as written) and make it the active version.

        Returns False when that version was already the active one (nothing changed).
        """
        when = at or utcnow()
        async with self._engine.begin() as conn:
            current = await conn.scalar(
                sa.select(loyalty_programs.c.version)
                .where(loyalty_programs.c.active.is_(True))
                .with_for_update()
            )
            if current == program.version:
                return False
            await insert_ignore(
                conn,
                loyalty_programs,
                {
                    "version": program.version,
                    "program": program.source.program,
                    "source": source_text,
                    "active": False,
                    "deployed_at": when,
                },
            )
            await conn.execute(
                loyalty_programs.update().where(loyalty_programs.c.active.is_(True)).values(active=False)
            )
            await conn.execute(
                loyalty_programs.update()
                .where(loyalty_programs.c.version == program.version)
                .values(active=True, deployed_at=when)
            )
        self._cached = program
        return True

    async def active(self) -> Program | None:
        """The active program, or None when none was deployed."""
        async with reading(self._engine).connect() as conn:
            version = await conn.scalar(
                sa.select(loyalty_programs.c.version).where(loyalty_programs.c.active.is_(True))
            )
            if version is None:
                return None
            if self._cached is not None and self._cached.version == version:
                return self._cached
            source = await conn.scalar(
                sa.select(loyalty_programs.c.source).where(loyalty_programs.c.version == version)
            )
        program = _parse(str(source), version)
        self._cached = program
        return program

    async def get(self, version: str) -> Program | None:
        """One deployed version, active or not."""
        async with reading(self._engine).connect() as conn:
            source = await conn.scalar(
                sa.select(loyalty_programs.c.source).where(loyalty_programs.c.version == version)
            )
        return None if source is None else _parse(str(source), version)

    async def versions(self) -> list[ProgramVersion]:
        """Every deployed version, newest first."""
        async with reading(self._engine).connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(
                        loyalty_programs.c.version,
                        loyalty_programs.c.program,
                        loyalty_programs.c.active,
                        loyalty_programs.c.deployed_at,
                    ).order_by(loyalty_programs.c.deployed_at.desc(), loyalty_programs.c.version)
                )
            ).mappings()
            return [ProgramVersion.model_validate(dict(row)) for row in rows]


def _parse(source: str, version: str) -> Program:
    program, errors = validate_program_text(source, f"loyalty program {version}")
    if program is None:
        raise JourneyValidationError(errors)
    return program

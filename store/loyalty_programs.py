"""The deployed loyalty program: every version by content hash, one active (``store.program_files``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.loyalty.loader import LOYALTY_PROGRAM_FILE
from engine.loyalty.program import Program
from store.loyalty_tables import loyalty_programs
from store.program_files import ActiveFileRepository


class ProgramVersion(BaseModel):
    version: str
    program: str
    active: bool
    deployed_at: datetime


class LoyaltyProgramRepository(ActiveFileRepository[Program]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(
            engine,
            loyalty_programs,
            name_column="program",
            name_of=lambda program: program.source.program,
            parse=_parse,
        )

    async def versions(self) -> list[ProgramVersion]:
        """Every deployed version, newest first."""
        return [ProgramVersion.model_validate(row) for row in await self.version_rows()]


def _parse(source: str, version: str) -> Program:
    return LOYALTY_PROGRAM_FILE.parse(source, f"loyalty program {version}")

"""The deployed channel policy: every version by content hash, one active (``store.program_files``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.channels.loader import CHANNEL_POLICY_FILE
from engine.channels.policy import ChannelPolicy
from store.policy_tables import channel_policies
from store.program_files import ActiveFileRepository


class PolicyVersion(BaseModel):
    version: str
    policy: str
    active: bool
    deployed_at: datetime


class ChannelPolicyRepository(ActiveFileRepository[ChannelPolicy]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(
            engine,
            channel_policies,
            name_column="policy",
            name_of=lambda policy: policy.source.policy,
            parse=_parse,
        )

    async def versions(self) -> list[PolicyVersion]:
        """Every deployed version, newest first."""
        return [PolicyVersion.model_validate(row) for row in await self.version_rows()]


def _parse(source: str, version: str) -> ChannelPolicy:
    return CHANNEL_POLICY_FILE.parse(source, f"channel policy {version}")

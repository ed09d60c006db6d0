"""Response bodies of the channel policy routes (docs/channels.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class PolicyOut(BaseModel):
    policy: str = Field(description="the policy's name")
    version: str = Field(description="content hash of the deployed policy")
    definition: dict[str, Any] = Field(description="the whole policy file, as validated (JSON)")
    source: str = Field(description="the policy file as written (YAML)")


class PolicyDeployedOut(BaseModel):
    policy: str
    version: str
    new: bool = Field(description="false when this version was already the active one")
    saved_to: str | None = Field(description="where channels.yaml was written (JOURNEYS_SAVE_DIR), if set")
    save_error: str | None = Field(description="why it could not be written (the deploy stands)")

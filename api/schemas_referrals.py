"""Request and response bodies of the referral, challenge and leaderboard routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ReferralCodeOut(BaseModel):
    customer_id: str
    code: str = Field(description="the customer's referral code (9 characters, made on first request)")


class RefereeOut(BaseModel):
    customer_id: str
    status: Literal["linked", "qualified", "refused"]
    reason: str | None = Field(description="why refused at qualification (cap)")
    linked_at: datetime
    qualified_at: datetime | None


class RefusedAttemptOut(BaseModel):
    referee_id: str
    code: str
    reason: str = Field(
        description="self_referral | existing_customer | same_email | same_phone | same_device | cap"
    )
    at: datetime


class ReferralsOut(BaseModel):
    customer_id: str
    code: str | None = Field(description="their referral code; null until one is asked for")
    referred_by: str | None = Field(description="the customer who referred them, if any")
    referees: list[RefereeOut] = Field(description="customers who signed up with their code, newest first")
    refused: list[RefusedAttemptOut] = Field(description="sign-ups with their code that were refused")


class ChallengeProgressOut(BaseModel):
    challenge: str
    name: str
    count: int = Field(description="qualifying events in the latest round")
    needed: int
    round: int | None = Field(description="the latest round (from 1); null before the first event")
    status: Literal["open", "completed", "lapsed"] | None
    started_at: datetime | None
    ends_at: datetime | None
    completed_at: datetime | None
    completions: int
    repeatable: bool


class ChallengesOut(BaseModel):
    customer_id: str
    challenges: list[ChallengeProgressOut]


class LeaderboardOut(BaseModel):
    id: str
    name: str
    period: Literal["week", "month"]
    top: int


class LeaderboardsOut(BaseModel):
    leaderboards: list[LeaderboardOut]


class StandingOut(BaseModel):
    rank: int = Field(description="ties share a rank: 1, 1, 3")
    customer_id: str
    points: int


class BoardOut(BaseModel):
    id: str
    name: str
    period: str = Field(description="week:2026-W49 or month:2026-12", examples=["week:2026-W49"])
    top: int
    standings: list[StandingOut]


class OptOutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opt_out: bool = Field(description="true: left out of every leaderboard; false: shown again")


class OptOutOut(BaseModel):
    customer_id: str
    opt_out: bool

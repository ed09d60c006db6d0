"""The loaded loyalty program: the file's model, its version, durations in seconds and the tier ladder.

``Program`` is plain data (it crosses into workflows and activities as JSON); its methods are pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict

from engine.durations import parse_duration
from engine.loyalty.schema import Campaign, Challenge, EarningRule, Leaderboard, LoyaltyProgram, Reward, Tier
from engine.versions import content_hash

MONTH_SECONDS = 30 * 86400  # months in expiry and tier windows are counted as 30 days


class Program(BaseModel):
    """A validated program and its content hash (``version``), as deployed."""

    model_config = ConfigDict(frozen=True)

    version: str
    source: LoyaltyProgram

    @classmethod
    def of(cls, source: LoyaltyProgram) -> Program:
        return cls(version=content_hash(source.model_dump(mode="json"), 16), source=source)

    # Durations, in seconds.
    @property
    def pending_seconds(self) -> int:
        return self.source.pending.days * 86400

    @property
    def expiry_seconds(self) -> int:
        return self.source.expiry.after_months * MONTH_SECONDS

    @property
    def remind_seconds(self) -> int:
        return parse_duration(self.source.expiry.remind_before)

    @property
    def tier_window_seconds(self) -> int:
        return self.source.tiers.window_months * MONTH_SECONDS

    @property
    def review_seconds(self) -> int:
        return parse_duration(self.source.tiers.review_every)

    @property
    def grace_seconds(self) -> int:
        return parse_duration(self.source.tiers.grace)

    @property
    def warn_seconds(self) -> int:
        return parse_duration(self.source.tiers.warn_before)

    # Lookups.
    def rule(self, rule_id: str) -> EarningRule | None:
        return next((rule for rule in self.source.earning if rule.id == rule_id), None)

    def reward(self, reward_id: str) -> Reward | None:
        return next((reward for reward in self.source.rewards if reward.id == reward_id), None)

    def board(self, board_id: str) -> Leaderboard | None:
        return next((board for board in self.source.leaderboards if board.id == board_id), None)

    def challenge(self, challenge_id: str) -> Challenge | None:
        return next((item for item in self.source.challenges if item.id == challenge_id), None)

    def campaigns_on(self, rule_id: str, on: date) -> list[Campaign]:
        """The campaigns that multiply rule ``rule_id``'s points earned on day ``on`` (UTC)."""
        return [
            campaign
            for campaign in self.source.campaigns
            if campaign.starts <= on <= campaign.ends and (not campaign.rules or rule_id in campaign.rules)
        ]

    def tier(self, name: str | None) -> Tier | None:
        return next((tier for tier in self.source.tiers.levels if tier.name == name), None)

    def tier_rank(self, name: str | None) -> int:
        """The tier's place on the ladder (0 for the lowest); -1 for no tier or one not in the program."""
        names = [tier.name for tier in self.source.tiers.levels]
        return names.index(name) if name in names else -1

    def qualifying_tier(self, points: int) -> Tier | None:
        """The highest tier whose threshold ``points`` reaches; None below every tier."""
        reached = [tier for tier in self.source.tiers.levels if points >= tier.threshold]
        return reached[-1] if reached else None

    def progress(self, points: int, tier: str | None = None) -> TierProgress:
        """Progress from ``tier`` (the member's, when it is one of the program's; else the tier
        ``points`` reach) to the tier above it. A member whose points fell below their tier (a
        downgrade pending) still has the tier above theirs next, never a lower one."""
        reached = self.qualifying_tier(points)
        current = self.tier(tier) or reached
        above = [
            level
            for level in self.source.tiers.levels
            if self.tier_rank(level.name) > self.tier_rank(current.name if current else None)
        ]
        following = above[0] if above else None
        return TierProgress(
            qualifying=reached.name if reached else None,
            next=following.name if following else None,
            points_to_next=max(following.threshold - points, 0) if following else 0,
        )


@dataclass(frozen=True)
class TierProgress:
    qualifying: str | None  # the tier these points qualify for
    next: str | None  # the next tier up, None at the top
    points_to_next: int  # 0 at the top

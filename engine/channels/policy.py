"""The loaded channel policy: the file's model, its version, and the pure decisions a send asks of
it (class, control group, quiet hours, the cap periods a send counts in). Plain data: it crosses
into activities as JSON; its methods read no clock (the send's time is given)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from engine.channels.schema import ChannelPolicyFile, ChannelRules, MessageClass, QuietAction
from engine.time_zones import zone
from engine.versions import content_hash

CONTROL_BUCKETS = 10_000  # percent has two decimals: 5.25 % is 525 buckets of 10,000


@dataclass(frozen=True)
class CapPeriod:
    """One counter a marketing send takes a slot of: ``day:2026-12-02`` or ``week:2026-W49`` in the
    customer's time zone, with the most it may hold."""

    period: str
    limit: int
    words: str  # "2 marketing emails a week", for the step's reason


@dataclass(frozen=True)
class Quiet:
    until: datetime  # when the quiet hours end (the send's time zone)
    action: QuietAction
    words: str  # "quiet hours 21:00-08:00 Asia/Jakarta"


class ChannelPolicy(BaseModel):
    """A validated policy and its content hash (``version``), as deployed."""

    model_config = ConfigDict(frozen=True)

    version: str
    source: ChannelPolicyFile

    @classmethod
    def of(cls, source: ChannelPolicyFile) -> ChannelPolicy:
        return cls(version=content_hash(source.model_dump(mode="json"), 16), source=source)

    def class_of(self, written: MessageClass | None) -> MessageClass:
        """The class of a send step: what it says, else the file's default."""
        return written or self.source.default_class

    def in_control_group(self, customer_id: str) -> bool:
        """The same answer for a customer every time, as long as the salt and percent stay."""
        group = self.source.control_group
        if group is None or group.percent <= 0:
            return False
        digest = hashlib.sha256(f"{group.salt}/{customer_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % CONTROL_BUCKETS < round(group.percent * 100)

    def rules(self, channel: str) -> ChannelRules:
        return self.source.channels.email if channel == "email" else self.source.channels.webhook

    def quiet(
        self, channel: str, at: datetime, timezone: str | None, override: QuietAction | None = None
    ) -> Quiet | None:
        """The quiet hours ``at`` falls in, in the customer's local time; None outside them."""
        hours = self.rules(channel).quiet_hours
        if hours is None:
            return None
        tz = zone(timezone)
        local = at.astimezone(tz)
        start, end = _minutes(hours.start), _minutes(hours.end)
        now = local.hour * 60 + local.minute
        inside = start <= now < end if start < end else (now >= start or now < end)
        if not inside:
            return None
        day = local.date() + timedelta(days=1) if start > end and now >= start else local.date()
        until = datetime(day.year, day.month, day.day, end // 60, end % 60, tzinfo=tz).astimezone(UTC)
        if until <= at:
            # The end falls in the hour a clock set back repeats and its first pass is over: the
            # second one ends them (else the run would wake at once and ask again, in a loop).
            until = datetime(day.year, day.month, day.day, end // 60, end % 60, tzinfo=tz, fold=1)
        words = f"quiet hours {hours.start}-{hours.end} {tz.key}"
        return Quiet(until=until.astimezone(at.tzinfo), action=override or hours.action, words=words)

    def cap_periods(self, channel: str, at: datetime, timezone: str | None) -> list[CapPeriod]:
        """The counters a marketing send at ``at`` counts in (none without caps)."""
        caps = self.rules(channel).caps
        if caps is None:
            return []
        local = at.astimezone(zone(timezone))
        noun = "email" if channel == "email" else "webhook message"
        periods = []
        if caps.per_day is not None:
            words = f"{caps.per_day} marketing {noun}{_s(caps.per_day)} a day"
            periods.append(CapPeriod(f"day:{local.date().isoformat()}", caps.per_day, words))
        if caps.per_week is not None:
            year, week, _ = local.isocalendar()
            words = f"{caps.per_week} marketing {noun}{_s(caps.per_week)} a week"
            periods.append(CapPeriod(f"week:{year}-W{week:02d}", caps.per_week, words))
        return periods


def _minutes(hhmm: str) -> int:
    hour, minute = hhmm.split(":")
    return int(hour) * 60 + int(minute)


def _s(count: int) -> str:
    return "" if count == 1 else "s"

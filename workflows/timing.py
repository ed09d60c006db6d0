"""Pure helpers the interpreter needs: local times of day and stable split buckets."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from engine.time_zones import zone


def next_local_time(after: datetime, hhmm: str, timezone: str | None) -> datetime:
    """The first moment at or after ``after`` when the customer's clock shows ``hhmm``."""
    tz = zone(timezone)
    local = after.astimezone(tz)
    hour, minute = (int(part) for part in hhmm.split(":"))
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate < local:
        candidate = (local + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return candidate.astimezone(after.tzinfo)


def bucket(journey: str, step: str, customer_id: str, size: int) -> int:
    """A number in ``range(size)`` that is the same for a customer every time (no randomness)."""
    digest = hashlib.sha256(f"{journey}/{step}/{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % size


def pick_variant(journey: str, step: str, customer_id: str, weights: list[int], control_percent: int) -> int:
    """Index of the variant a customer falls in, or -1 for the control group."""
    if control_percent and bucket(journey, f"{step}#control", customer_id, 100) < control_percent:
        return -1
    point = bucket(journey, step, customer_id, sum(weights))
    for index, weight in enumerate(weights):
        if point < weight:
            return index
        point -= weight
    return len(weights) - 1

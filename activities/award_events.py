"""The events an award hands on after its commit, the same whoever awarded (a journey's award step,
``POST /v1/customers/{id}/points/award``): ``tier_changed`` when the tier moved, ``badge_awarded``
for a new badge, ``points_awarded`` for points given (the router takes it to the customer's loyalty
run, which reminds and expires the lot). Their ids derive from the award's key, so a repeated award
(a retry, a duplicate request) emits the same events and the router applies each once."""

from __future__ import annotations

from datetime import datetime

from activities.loyalty import awarded_event
from contracts.activities import AwardResult
from contracts.events import CustomerEvent
from contracts.ids import derived_id


def award_events(key: str, customer_id: str, result: AwardResult, at: datetime) -> list[CustomerEvent]:
    """What the award under ``key`` (its result, also a duplicate's) emits, in order."""
    events = []
    if result.tier != result.previous_tier and result.tier is not None:
        events.append(
            CustomerEvent(
                event_id=derived_id(key, "tier_changed"),
                customer_id=customer_id,
                name="tier_changed",
                properties={
                    "tier": result.tier,
                    "previous_tier": result.previous_tier,
                    "lifetime_points": result.lifetime_points,
                },
                timestamp=at,
            )
        )
    if result.badge is not None and result.badge_new:
        events.append(
            CustomerEvent(
                event_id=derived_id(key, "badge_awarded"),
                customer_id=customer_id,
                name="badge_awarded",
                properties={"badge": result.badge},
                timestamp=at,
            )
        )
    if (awarded := awarded_event(key, customer_id, result, at)) is not None:
        events.append(awarded)
    return events

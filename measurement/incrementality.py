"""Incrementality of a journey against the global control group (``journeys/channels.yaml``).

Every customer who ever entered the journey counts once, on one side: the control group (who
received no marketing message from any journey) or treated, by the active policy's salt and
percent. A side's conversion is its customers with the journey's goal reached (a ``converted``
step record of the journey, any entry). Read in pages of ``PAGE`` customers, a fixed number of
queries per page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.channels.policy import ChannelPolicy
from measurement.journey_results import PAGE
from store.tables import step_events


@dataclass
class Side:
    customers: int = 0
    converted: int = 0


@dataclass
class Incrementality:
    journey: str
    policy: str
    percent: float
    control: Side = field(default_factory=Side)
    treated: Side = field(default_factory=Side)


async def incrementality(
    conn: AsyncConnection, journey: str, policy: ChannelPolicy, *, page: int = PAGE
) -> Incrementality | None:
    """Control against treated for ``journey``; None when the policy has no control group."""
    group = policy.source.control_group
    if group is None:
        return None
    found = Incrementality(journey=journey, policy=policy.source.policy, percent=group.percent)
    e = step_events.c
    after = ""
    while True:
        ids = list(
            await conn.scalars(
                sa.select(e.customer_id)
                .where(e.journey == journey, e.kind == "journey_entered", e.customer_id > after)
                .group_by(e.customer_id)
                .order_by(e.customer_id)
                .limit(page)
            )
        )
        if not ids:
            return found
        converted = set(
            await conn.scalars(
                sa.select(e.customer_id)
                .where(e.journey == journey, e.kind == "converted", e.customer_id.in_(ids))
                .group_by(e.customer_id)
            )
        )
        for customer_id in ids:
            side = found.control if policy.in_control_group(customer_id) else found.treated
            side.customers += 1
            side.converted += customer_id in converted
        after = ids[-1]

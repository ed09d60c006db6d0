"""What a scheduled journey reads of a segment: the time zones its members have, and its members in
some of those zones, a page at a time in customer id order (keyset: a page costs a page)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.schedule_times import MAX_ZONES
from store.behaviour import segment_members
from store.reading import reading
from store.tables import customers

_m, _c = segment_members.c, customers.c
_MEMBERS = sa.and_(_m.exited_at.is_(None), _c.id == _m.customer_id)


class ScheduleAudience:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = reading(engine)

    async def zones(self, segment: str) -> list[str]:
        """The distinct time zones of the segment's members now (at most ``MAX_ZONES``)."""
        query = (
            sa.select(_c.timezone)
            .select_from(segment_members.join(customers, _c.id == _m.customer_id))
            .where(_m.segment == segment, _MEMBERS)
            .distinct()
            .order_by(_c.timezone)
            .limit(MAX_ZONES)
        )
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def members(self, segment: str, zones: Sequence[str], after: str | None, page: int) -> list[str]:
        """Up to ``page`` members of ``segment`` whose time zone is one of ``zones``, after ``after``."""
        query = (
            sa.select(_m.customer_id)
            .select_from(segment_members.join(customers, _c.id == _m.customer_id))
            .where(_m.segment == segment, _MEMBERS, _c.timezone.in_(list(zones)))
            .order_by(_m.customer_id)
            .limit(page)
        )
        if after is not None:
            query = query.where(_m.customer_id > after)
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

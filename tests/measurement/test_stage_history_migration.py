"""Migration 0011 seeds the stage history it cannot know: one change per customer already out of the
default stage, at their last update, so the lifecycle report counts them in their stage from then."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from measurement.lifecycle import lifecycle
from measurement.ranges import DayRange
from store import Store
from store.migrate import upgrade


async def test_customers_out_of_reach_get_one_seeded_change(tmp_path: Path) -> None:
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'journeys.db'}")
    try:
        async with store.engine.begin() as conn:
            await conn.run_sync(upgrade, "0010")
            created, updated = datetime(2026, 1, 5, 9, tzinfo=UTC), datetime(2026, 1, 7, 9, tzinfo=UTC)
            for cid, stage in (("kept", "reach"), ("moved", "retention")):
                await conn.execute(
                    sa.text(
                        "INSERT INTO customers (id, stage, traits, badges, created_at, updated_at) "
                        "VALUES (:id, :stage, '{}', '[]', :created, :updated)"
                    ),
                    {
                        "id": cid,
                        "stage": stage,
                        "created": created.replace(tzinfo=None),
                        "updated": updated.replace(tzinfo=None),
                    },
                )
        await store.migrate()
        async with store.engine.connect() as conn:
            found = await lifecycle(conn, DayRange(date(2026, 1, 6), date(2026, 1, 7)))
        days = {day.isoformat(): {k: v for k, v in counts.items() if v} for day, counts in found.days}
        assert days == {"2026-01-06": {"reach": 2}, "2026-01-07": {"reach": 1, "retention": 1}}
    finally:
        await store.close()

"""Customer events as the workflow and the router see them."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.events import CustomerEvent


def test_a_timestamp_without_a_time_zone_is_taken_as_utc() -> None:
    event = CustomerEvent(event_id="e1", customer_id="c1", name="signed_up", timestamp="2026-05-01T10:00:00")
    assert event.timestamp == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def test_a_timestamp_with_a_time_zone_keeps_it() -> None:
    event = CustomerEvent(
        event_id="e1", customer_id="c1", name="signed_up", timestamp="2026-05-01T10:00:00+07:00"
    )
    assert event.timestamp is not None and event.timestamp.utcoffset() is not None
    assert event.timestamp.astimezone(UTC).hour == 3

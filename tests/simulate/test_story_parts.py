"""Offsets, inline events and expectation matching, without a Sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.durations import DurationError
from simulate.expectations import ExpectedMessage
from simulate.offsets import day_and_time, parse_offset, resolve
from simulate.story import parse_inline_event
from simulate.timeline import Message

START = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # 09:00 in Jakarta (UTC+7)


def test_offsets() -> None:
    assert parse_offset("2d") == (2 * 86400, None)
    assert parse_offset("5d 10:00") == (5 * 86400, "10:00")
    assert parse_offset("10:00") == (0, "10:00")
    assert parse_offset(3) == (3 * 86400, None)
    assert parse_offset("0") == (0, None)
    with pytest.raises(DurationError):
        parse_offset("3 days")
    with pytest.raises(DurationError):
        parse_offset("1d12h 10:00")


def test_resolve_on_the_customers_clock() -> None:
    moment = resolve(START, "5d 10:00", "Asia/Jakarta")
    assert moment == datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
    assert day_and_time(START, moment, "Asia/Jakarta") == (5, "10:00")
    assert resolve(START, "36h", None) == datetime(2026, 1, 6, 14, 0, tzinfo=UTC)


def test_inline_event() -> None:
    event = parse_inline_event("5d 10:00 purchase_completed total=42 plan=pro")
    assert (event.at, event.event, event.properties) == (
        "5d 10:00",
        "purchase_completed",
        {"total": 42, "plan": "pro"},
    )


def test_expected_message_matches_template_or_subject_and_day() -> None:
    got = Message(
        day=3,
        time="09:00",
        journey="j",
        step="s",
        channel="email",
        name="welcome",
        status="sent",
        subject="Hi Ada",
    )
    assert ExpectedMessage.model_validate("welcome").matches(got)
    assert ExpectedMessage.model_validate("Hi Ada").matches(got)
    assert ExpectedMessage.model_validate({"email": "welcome", "day": 3}).matches(got)
    assert not ExpectedMessage.model_validate({"email": "welcome", "day": 2}).matches(got)
    assert not ExpectedMessage.model_validate({"subject": "Hi Bo"}).matches(got)

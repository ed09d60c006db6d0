"""Durations (3d, 2w, 1d12h) and local times of day (09:00)."""

from __future__ import annotations

import re

import pytest

from engine.durations import DurationError, format_duration, parse_duration, parse_time_of_day


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("12h", 43200),
        ("3d", 259200),
        ("2w", 1209600),
        ("1d12h", 129600),
        ("1d 12h", 129600),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("3 days", '"3 days" is not a duration; write 3d'),
        ("2 weeks", '"2 weeks" is not a duration; write 2w'),
        ("1 hour", '"1 hour" is not a duration; write 1h'),
        ("90 minutes", '"90 minutes" is not a duration; write 90m'),
        ("soon", '"soon" is not a duration; write a number and a unit (s, m, h, d, w), e.g. 3d, 12h, 1d12h'),
        (3, "3 is not a duration; write a number and a unit (s, m, h, d, w), e.g. 3d, 12h, 1d12h"),
        ("0d", '"0d" is zero; a duration must be longer than nothing'),
    ],
)
def test_bad_durations_say_how_to_write_them(value: object, message: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(value)
    assert str(info.value) == message


@pytest.mark.parametrize(("text", "normal"), [("09:00", "09:00"), ("9:05", "09:05"), ("23:59", "23:59")])
def test_time_of_day(text: str, normal: str) -> None:
    assert parse_time_of_day(text) == normal


@pytest.mark.parametrize("value", ["24:00", "9am", "09:60", "", 900])
def test_bad_time_of_day(value: object) -> None:
    with pytest.raises(
        DurationError, match=re.escape("is not a time of day; write HH:MM in 24-hour time, e.g. 09:00")
    ):
        parse_time_of_day(value)


@pytest.mark.parametrize(("seconds", "text"), [(90000, "1d1h"), (1209600, "2w"), (45, "45s"), (0, "0s")])
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["3d", "1w2d3h4m5s", "90m"])
def test_format_round_trips(text: str) -> None:
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)

"""The channel policy file: the documented example loads, every problem is positioned and explained,
and the policy's decisions (class, control group, quiet hours, cap periods) follow the file."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.channels.loader import POLICY_FILE, validate_policy_text
from engine.channels.policy import ChannelPolicy
from engine.channels.schema import json_schema
from engine.loader import journey_files

REPO = Path(__file__).resolve().parents[3]


def example() -> str:
    """The complete example of docs/channels.md (its first yaml block)."""
    found = re.search(r"```yaml\n(.*?)```", (REPO / "docs" / "channels.md").read_text(), re.S)
    assert found is not None
    return found.group(1)


def policy_of(text: str) -> ChannelPolicy:
    policy, errors = validate_policy_text(text, POLICY_FILE)
    assert errors == [] and policy is not None
    return policy


def problems(text: str) -> list[str]:
    policy, errors = validate_policy_text(text, POLICY_FILE)
    assert policy is None
    return [str(error) for error in errors]


def test_the_documented_example_loads_and_is_versioned_by_content() -> None:
    policy = policy_of(example())
    assert policy.version == policy_of(example()).version
    assert policy.version != policy_of(example().replace("per_week: 2", "per_week: 3")).version
    assert policy.source.channels.email.caps is not None
    assert policy.source.channels.email.caps.per_week == 2


def test_the_policy_file_is_not_a_journey(tmp_path: Path) -> None:
    (tmp_path / POLICY_FILE).write_text(example())
    (tmp_path / "a.yaml").write_text("journey: a\n")
    assert journey_files(tmp_path) == [tmp_path / "a.yaml"]


def test_the_checked_in_schema_is_current() -> None:
    checked_in = json.loads((REPO / "channels.schema.json").read_text())
    assert checked_in == json_schema(), "run: .venv/bin/journeys channels-schema > channels.schema.json"


def test_an_unknown_key_is_placed_and_a_close_one_suggested() -> None:
    text = example().replace("per_week: 2 ", "per_wek: 2 ")
    [error] = problems(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "per_wek" in row)
    assert error.startswith(f"channels.yaml:{line}:")
    assert 'unknown key "per_wek"; did you mean "per_week"?' in error


def test_bad_values_are_each_placed_at_their_line() -> None:
    text = """policy: main
default_class: promotional
channels:
  email:
    quiet_hours: {start: "25:00", end: "08:00", action: wait}
    caps: {per_day: 3, per_week: 2}
control_group: {percent: 80, salt: ""}
"""
    found = problems(text)
    assert any(e.startswith("channels.yaml:2:") and "default_class" in e for e in found), found
    assert any(e.startswith("channels.yaml:5:") and "25:00" in e for e in found), found
    assert any(e.startswith("channels.yaml:5:") and "action" in e for e in found), found
    assert any(e.startswith("channels.yaml:7:") and "percent" in e for e in found), found
    assert any(e.startswith("channels.yaml:7:") and "salt" in e for e in found), found


def test_a_day_cap_above_the_week_cap_is_refused_at_its_line() -> None:
    text = "policy: main\nchannels:\n  email:\n    caps:\n      per_day: 3\n      per_week: 2\n"
    [error] = problems(text)
    assert error.startswith("channels.yaml:5:")
    assert "per_day 3 is more than per_week 2" in error


def test_empty_quiet_hours_and_empty_caps_are_refused() -> None:
    text = (
        'policy: main\nchannels:\n  email:\n    quiet_hours: {start: "21:00", end: "21:00"}\n    caps: {}\n'
    )
    found = problems(text)
    assert any(e.startswith("channels.yaml:4:") and "same time" in e for e in found), found
    assert any(e.startswith("channels.yaml:5:") and "per_day, per_week or both" in e for e in found), found


def test_a_file_that_is_not_a_mapping_or_not_yaml_is_refused() -> None:
    assert "must be a mapping" in problems("- policy\n")[0]
    assert problems("policy: [main\n")[0].startswith("channels.yaml:")


def test_a_step_class_wins_over_the_default() -> None:
    policy = policy_of("policy: main\ndefault_class: transactional\n")
    assert policy.class_of(None) == "transactional"
    assert policy.class_of("marketing") == "marketing"
    assert policy_of("policy: main\n").class_of(None) == "marketing"


JAKARTA_POLICY = """policy: main
channels:
  email:
    quiet_hours: {start: "21:00", end: "08:00"}
    caps: {per_day: 1, per_week: 2}
"""


def test_quiet_hours_are_read_in_the_customers_local_time() -> None:
    policy = policy_of(JAKARTA_POLICY)
    # 15:30 UTC is 22:30 in Jakarta (UTC+7): quiet until 08:00 the next morning, 01:00 UTC.
    quiet = policy.quiet("email", datetime(2026, 12, 2, 15, 30, tzinfo=UTC), "Asia/Jakarta")
    assert quiet is not None
    assert quiet.until == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    assert quiet.action == "hold" and quiet.words == "quiet hours 21:00-08:00 Asia/Jakarta"
    # 23:30 UTC is 06:30 the next day in Jakarta: quiet until 08:00 that same day.
    early = policy.quiet("email", datetime(2026, 12, 2, 23, 30, tzinfo=UTC), "Asia/Jakarta")
    assert early is not None and early.until == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    # 10:00 UTC is 17:00 in Jakarta: not quiet; 22:30 UTC for a customer in UTC is.
    assert policy.quiet("email", datetime(2026, 12, 2, 10, 0, tzinfo=UTC), "Asia/Jakarta") is None
    assert policy.quiet("email", datetime(2026, 12, 2, 22, 30, tzinfo=UTC), None) is not None
    # The webhook channel has no quiet hours; a step may turn hold into skip.
    assert policy.quiet("webhook", datetime(2026, 12, 2, 15, 30, tzinfo=UTC), "Asia/Jakarta") is None
    skip = policy.quiet("email", datetime(2026, 12, 2, 15, 30, tzinfo=UTC), "Asia/Jakarta", "skip")
    assert skip is not None and skip.action == "skip"


def test_quiet_hours_within_one_day() -> None:
    policy = policy_of('policy: main\nchannels: {email: {quiet_hours: {start: "12:00", end: "14:00"}}}\n')
    quiet = policy.quiet("email", datetime(2026, 12, 2, 13, 0, tzinfo=UTC), "UTC")
    assert quiet is not None and quiet.until == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    assert policy.quiet("email", datetime(2026, 12, 2, 14, 0, tzinfo=UTC), "UTC") is None


def test_quiet_hours_ending_in_the_repeated_hour_end_after_the_send() -> None:
    # New York sets its clocks back at 02:00 on 2026-11-01: 01:00-02:00 comes twice. At 01:10 of
    # the second pass (06:10 UTC) the first 01:30 is over; the quiet hours end at the second one.
    policy = policy_of('policy: main\nchannels: {email: {quiet_hours: {start: "21:00", end: "01:30"}}}\n')
    at = datetime(2026, 11, 1, 6, 10, tzinfo=UTC)
    quiet = policy.quiet("email", at, "America/New_York")
    assert quiet is not None and quiet.until == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    first_pass = policy.quiet("email", datetime(2026, 11, 1, 5, 10, tzinfo=UTC), "America/New_York")
    assert first_pass is not None and first_pass.until == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_cap_periods_are_local_days_and_iso_weeks() -> None:
    policy = policy_of(JAKARTA_POLICY)
    # Sunday 2026-12-06 20:00 UTC is Monday 2026-12-07 03:00 in Jakarta: a new day and a new week.
    at = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    jakarta = [(cap.period, cap.limit) for cap in policy.cap_periods("email", at, "Asia/Jakarta")]
    utc = [(cap.period, cap.limit) for cap in policy.cap_periods("email", at, "UTC")]
    assert jakarta == [("day:2026-12-07", 1), ("week:2026-W50", 2)]
    assert utc == [("day:2026-12-06", 1), ("week:2026-W49", 2)]
    assert [cap.words for cap in policy.cap_periods("email", at, "UTC")] == [
        "1 marketing email a day",
        "2 marketing emails a week",
    ]
    assert policy.cap_periods("webhook", at, "UTC") == []


CONTROL = "policy: main\ncontrol_group: {percent: 5, salt: winter-2026}\n"


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_control_group_membership_is_stable_per_customer(customer_id: str) -> None:
    """The same customer, the same answer, from policies loaded separately; a new salt is a new draw."""
    first, second = policy_of(CONTROL), policy_of(CONTROL)
    assert first.in_control_group(customer_id) == second.in_control_group(customer_id)
    none = policy_of("policy: main\ncontrol_group: {percent: 0, salt: winter-2026}\n")
    assert not none.in_control_group(customer_id)


def test_control_group_is_about_the_percent_given() -> None:
    policy = policy_of(CONTROL)
    members = sum(policy.in_control_group(f"customer-{n}") for n in range(20_000))
    assert 800 <= members <= 1200  # 5 % of 20,000 is 1,000
    resalted = policy_of(CONTROL.replace("winter-2026", "spring-2027"))
    moved = sum(
        policy.in_control_group(f"customer-{n}") != resalted.in_control_group(f"customer-{n}")
        for n in range(20_000)
    )
    assert moved > 1000  # a new salt draws a new group, not the same one

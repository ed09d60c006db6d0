"""Segment files: the examples load, every problem is positioned and explained, behaviour reads right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine import expressions
from engine.errors import JourneyValidationError
from engine.loader import journey_files
from engine.segments.behaviour import Aggregate, behaviour_at
from engine.segments.evaluation import members
from engine.segments.loader import load_segments, segment_files, validate_segment_text

REPO = Path(__file__).resolve().parents[3]
JOURNEYS = REPO / "journeys"
AT = datetime(2026, 12, 1, 12, tzinfo=UTC)


def problems(text: str) -> list[str]:
    segment, errors = validate_segment_text(text, "s.yaml")
    assert segment is None
    return [str(error) for error in errors]


def test_the_example_segments_load() -> None:
    segments = {segment.name: segment for segment in load_segments(JOURNEYS)}
    assert {"vip", "inactive_30d", "shoe_browsers"} <= set(segments)
    assert segments["inactive_30d"].reads.recency == {("purchase_completed", 30)}
    assert segments["vip"].reads.fields == {("purchase_completed", "count_90d")}
    assert segments["vip"].recency and not segments["vip"].reads.recency


def test_segment_files_are_not_journeys() -> None:
    found = journey_files(JOURNEYS)
    assert not set(segment_files(JOURNEYS)) & set(found)
    assert all(file.parent == JOURNEYS for file in found)


def test_an_unknown_key_is_positioned_with_did_you_mean() -> None:
    text = "segment: vip\ndescriptoin: x\nwhere: customer.stage == 'retain'\n"
    assert problems(text) == [
        's.yaml:2:1 descriptoin: unknown key "descriptoin"; did you mean "description"?'
    ]


def test_an_unknown_behaviour_field_gets_did_you_mean() -> None:
    text = "segment: vip\nwhere: behaviour.purchase_completed.count_90 >= 3\n"
    (message,) = problems(text)
    assert message.startswith("s.yaml:2:8 where:")
    assert 'has no field "count_90"' in message and "count_90d" in message


def test_a_name_outside_customer_and_behaviour_is_refused() -> None:
    (message,) = problems("segment: vip\nwhere: event.name == 'x'\n")
    assert "unknown name event" in message and "customer, behaviour" in message


def test_behaviour_read_whole_is_refused() -> None:
    (message,) = problems("segment: vip\nwhere: behaviour | length > 2\n")
    assert "without an event and a field" in message


def test_a_bad_name_and_a_missing_condition_are_both_listed() -> None:
    found = problems("segment: VIP\n")
    assert any("segment" in p and "not a valid name" in p for p in found)
    assert any('"where" is required' in p for p in found)


def test_a_segment_defined_twice_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "segments").mkdir()
    for name in ("a", "b"):
        (tmp_path / "segments" / f"{name}.yaml").write_text("segment: vip\nwhere: customer.points > 1\n")
    with pytest.raises(JourneyValidationError) as caught:
        load_segments(tmp_path)
    (error,) = caught.value.errors
    assert error.file == "segments/b.yaml"
    assert error.message == '"vip" is defined twice (also in segments/a.yaml)'


def test_no_segments_folder_means_no_segments(tmp_path: Path) -> None:
    assert load_segments(tmp_path) == []


def test_behaviour_fields_at_a_time() -> None:
    days = {(AT - timedelta(days=n)).date().isoformat(): (1, 10.0) for n in (0, 5, 20, 80, 200, 365)}
    aggregate = Aggregate(
        "purchase_completed", 6, 60.0, AT - timedelta(days=365), AT - timedelta(days=3), days, ("shoes",)
    )
    behaviour = behaviour_at([aggregate], AT)
    bought = behaviour["purchase_completed"]
    assert (bought["count_7d"], bought["count_30d"], bought["count_90d"], bought["count_365d"]) == (
        2,
        3,
        4,
        5,
    )
    assert (bought["sum_30d"], bought["sum"], bought["days_since"]) == (30.0, 60.0, 3)
    assert behaviour["product_viewed"]["count"] == 0  # never: zero counts, no days_since


def test_members_evaluates_each_condition() -> None:
    segments = load_segments(JOURNEYS)
    long_ago = AT - timedelta(days=30)
    aggregate = Aggregate(
        "purchase_completed", 1, 5.0, long_ago, long_ago, {long_ago.date().isoformat(): (1, 5.0)}
    )
    assert "inactive_30d" in members(segments, {}, behaviour_at([aggregate], AT))
    assert "inactive_30d" not in members(segments, {}, behaviour_at([aggregate], AT - timedelta(hours=1)))
    assert "inactive_30d" not in members(segments, {}, behaviour_at([], AT))  # never bought: not inactive


def test_conditions_stay_in_the_language() -> None:
    with pytest.raises(expressions.ExpressionError):
        expressions.check("behaviour.x.count.__class__", ("customer", "behaviour"))


def test_recency_thresholds_are_read_either_way_round() -> None:
    text = "segment: lapsed\nwhere: 45 <= behaviour.order.days_since or behaviour.visit.days_since > 7\n"
    segment, errors = validate_segment_text(text, "s.yaml")
    assert errors == [] and segment is not None
    assert segment.reads.recency == {("order", 45), ("visit", 7)}

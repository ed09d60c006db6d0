"""The loyalty program file: the example loads, every problem is positioned and explained."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from engine.errors import JourneyValidationError
from engine.limits import MAX_FILE_BYTES, MAX_POINTS
from engine.loader import journey_files
from engine.loyalty.earning import earnings
from engine.loyalty.loader import load_program, validate_program_text
from engine.loyalty.schema import json_schema

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "journeys" / "loyalty.yaml"


def problems(text: str) -> list[str]:
    program, errors = validate_program_text(text, "loyalty.yaml")
    assert program is None
    return [str(error) for error in errors]


def test_the_example_program_loads_and_is_versioned_by_content() -> None:
    program = load_program(EXAMPLE)
    again = load_program(EXAMPLE)
    assert program.version == again.version
    edited, errors = validate_program_text(EXAMPLE.read_text().replace("cost: 500", "cost: 501"), "x")
    assert errors == [] and edited is not None and edited.version != program.version


def test_the_program_file_is_not_a_journey() -> None:
    assert EXAMPLE not in journey_files(EXAMPLE.parent)


def test_the_checked_in_schema_is_current() -> None:
    checked_in = json.loads((REPO / "loyalty.schema.json").read_text())
    assert checked_in == json_schema(), "run: .venv/bin/journeys loyalty-schema > loyalty.schema.json"


def test_an_unknown_key_is_placed_and_a_close_one_suggested() -> None:
    text = EXAMPLE.read_text().replace("per_event: 2000", "per_evnt: 2000")
    [error] = problems(text)
    assert error.startswith("loyalty.yaml:21:")
    assert 'unknown key "per_evnt"; did you mean "per_event"?' in error


def test_references_to_rules_and_tiers_must_exist() -> None:
    text = (
        EXAMPLE.read_text()
        .replace("rules: [purchase]", "rules: [purchse]")
        .replace("tier: gold", "tier: gld")
    )
    found = problems(text)
    assert any(
        'campaigns[0].rules[0]: there is no earning rule "purchse"; did you mean "purchase"?' in e
        for e in found
    )
    assert any('rewards[2].tier: there is no tier "gld"; did you mean "gold"?' in e for e in found)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("grace: 30d", "grace: 30 days", '"30 days" is not a duration; write 30d'),
        ("threshold: 500,", "threshold: 5000,", "tiers go from the lowest threshold to the highest"),
        ("points: 50", "points: customer.__class__", "names starting with _ are not allowed"),
        ("id: shoes_bonus", "id: purchase", '"purchase" is used twice in earning'),
        ("ends: 2026-11-30", "ends: 2026-11-26", "ends (2026-11-26) before it starts (2026-11-27)"),
    ],
)
def test_each_mistake_gets_its_own_words(old: str, new: str, expected: str) -> None:
    text = EXAMPLE.read_text()
    assert old in text
    assert any(expected in error for error in problems(text.replace(old, new, 1)))


def test_a_huge_or_deep_file_is_refused_not_parsed_for_ever() -> None:
    deep = "program: x\ntiers: " + "[" * 10_000 + "]" * 10_000
    assert problems(deep)


def test_a_program_file_over_the_size_limit_is_a_positioned_refusal(tmp_path: Path) -> None:
    path = tmp_path / "loyalty.yaml"
    path.write_text("program: x\n" + "#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(JourneyValidationError) as refused:
        load_program(path)
    [error] = refused.value.errors
    assert error.file == str(path) and "larger than 256 KB" in error.message


def test_earning_applies_the_formula_tier_multiplier_campaign_and_caps() -> None:
    program = load_program(EXAMPLE)
    purchase = {"customer": {}, "event": {"properties": {"total": 1_234_567, "categories": ["shoes"]}}}
    on_black_friday = earnings(program, "purchase_completed", purchase, tier="silver", on=date(2026, 11, 28))
    by_rule = {earned.rule: earned.points for earned in on_black_friday}
    # 123 points x 1.25 (silver) x 2 (Black Friday) = 307.5 -> 307; shoes: 50 x 1.25 = 62.5 -> 62
    assert by_rule == {"purchase": 307, "shoes_bonus": 62}
    in_january = earnings(program, "purchase_completed", purchase, tier=None, on=date(2027, 1, 5))
    assert {earned.rule: earned.points for earned in in_january} == {"purchase": 123, "shoes_bonus": 50}
    huge = {"customer": {}, "event": {"properties": {"total": 10**12}}}
    [capped] = earnings(program, "purchase_completed", huge, tier=None, on=date(2027, 1, 5))
    assert capped.points == 2000  # caps.per_event
    assert capped.per_day == 5000 and capped.pending


def test_an_expression_that_fails_on_outside_data_earns_nothing() -> None:
    program = load_program(EXAMPLE)
    for total in ("abc", None, -5, float("nan"), [1]):
        context = {"customer": {}, "event": {"properties": {"total": total}}}
        assert earnings(program, "purchase_completed", context, tier=None, on=date(2027, 1, 5)) == []


def test_points_computed_from_a_huge_total_stay_within_what_one_award_gives() -> None:
    # Without a per-event cap, total 1e19 once made 1e15 points: past a 64-bit column, refused by
    # the database on every retry. Every rule earns at most MAX_POINTS for one event.
    text = """
program: test
earning:
  - {id: spend, event: purchase_completed, points: event.properties.total, tier_multiplier: true}
tiers:
  levels:
    - {name: member, threshold: 0, multiplier: 3}
"""
    program, errors = validate_program_text(text, "test.yaml")
    assert program is not None, errors
    for total in (1e19, 10**30, 1.7e308):
        context = {"customer": {}, "event": {"properties": {"total": total}}}
        [earned] = earnings(program, "purchase_completed", context, tier="member", on=date(2027, 1, 5))
        assert earned.points == MAX_POINTS

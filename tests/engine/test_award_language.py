"""award by expression and to the referrer; customer.loyalty and customer.history in samples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine import plan as p
from engine.compiler import content_version
from engine.expressions import evaluate_number
from engine.limits import MAX_POINTS
from engine.loader import compile_file
from engine.templates import sample_context
from tests.engine.conftest import Problem
from tests.support.journey_files import WriteJourney

Problems = Callable[[str], list[Problem]]
HEAD = """
journey: demo
stage: loyalty
trigger: {event: purchase_completed}
steps:
"""


def award_node(write: WriteJourney, award: str) -> p.AwardNode:
    plan = compile_file(write(HEAD + f"  - {{id: give, award: {award}}}\n", "demo.yaml"))
    node = plan.node("give")
    assert isinstance(node, p.AwardNode)
    return node


def test_points_by_expression_and_to_the_referrer_compile(write: WriteJourney) -> None:
    node = award_node(write, '{points: "event.properties.total // 1000", reason: Purchase, to: referrer}')
    assert (node.points, node.points_expression, node.to) == (0, "event.properties.total // 1000", "referrer")
    assert node.gives() == ["points event.properties.total // 1000", "to referrer"]
    number = award_node(write, '{points: " 250 ", reason: Bonus}')  # a number written as text is that number
    assert (number.points, number.points_expression, number.to) == (250, None, "customer")


def test_the_new_keys_stay_out_of_a_plan_that_does_not_use_them(write: WriteJourney) -> None:
    plain = award_node(write, "{points: 100, reason: Bonus}")
    assert "to" not in plain.model_dump() and "points_expression" not in plain.model_dump()
    given = award_node(write, '{points: "customer.points // 10", reason: Bonus, to: referrer}')
    dumped = given.model_dump(mode="json")
    assert dumped["to"] == "referrer" and dumped["points_expression"] == "customer.points // 10"
    assert p.AwardNode.model_validate(dumped) == given  # and a plan reads back whole


def test_recorded_plans_keep_their_versions() -> None:
    plans = Path(__file__).resolve().parents[1] / "workflows" / "histories" / "plans"
    for path in plans.glob("*.json"):
        plan = p.Plan.model_validate_json(path.read_text())
        assert content_version(plan) == plan.version


def test_award_errors_are_positioned_and_say_what_to_write(problems: Problems) -> None:
    found = problems(
        HEAD
        + """  - {id: a, award: {points: "event.properties.total //", reason: x}}
  - {id: b, award: {points: -5, reason: x}}
  - {id: c, award: {points: 2.5, reason: x}}
  - {id: d, award: {points: 10, reason: x, to: referer}}
  - {id: e, award: {points: "customer._secret", reason: x}}
  - {id: f, award: {points: "", reason: x}}
  - {id: g, award: {points: "nobody.points", reason: x}}
  - {id: h, award: {points: 99999999999999999999, reason: x}}
"""
    )
    by_path = {path: (line, message) for line, _column, path, message in found}
    assert by_path["steps[0].award.points"][0] == 5
    assert "is not a valid condition" in by_path["steps[0].award.points"][1]
    assert by_path["steps[1].award.points"] == (6, "points is -5: an award gives 0 points or more")
    assert by_path["steps[2].award.points"][1].startswith(
        "points is a whole number (0 or more) or an expression"
    )
    assert by_path["steps[3].award.to"] == (8, "Input should be 'customer' or 'referrer' (got 'referer')")
    assert "names starting with _ are not allowed" in by_path["steps[4].award.points"][1]
    assert by_path["steps[5].award.points"][1].startswith("points is empty")
    assert "uses unknown name nobody" in by_path["steps[6].award.points"][1]
    assert by_path["steps[7].award.points"] == (
        12,
        "points is 99999999999999999999: an award gives at most 10,000,000 points",
    )
    assert len(found) == 8


def test_points_an_expression_computes_are_at_most_what_one_award_gives() -> None:
    # 1e19 points would overflow the wallet's 64-bit column and fail the award on every retry.
    for total, points in ((12_345, 12), (1e19, MAX_POINTS), (10**40, MAX_POINTS), (-5, 0)):
        context = {"event": {"properties": {"total": total}}}
        assert evaluate_number("event.properties.total // 1000", context) == points, total


def test_sample_loyalty_and_history_are_checked_as_shaped(problems: Problems) -> None:
    found = problems(
        HEAD
        + """  - {id: done, exit: done}
sample:
  customer:
    loyalty: {availabel: 3, expiring_soon: [{points: 5}]}
    history: {purchase_count: many}
"""
    )
    messages = {(path, message) for _line, _column, path, message in found}
    assert (
        "sample.customer.loyalty.availabel",
        'unknown key "availabel"; did you mean "available"?',
    ) in messages
    assert any(path == "sample.customer.loyalty.expiring_soon[0].date" for path, _ in messages)
    assert any(path == "sample.customer.history.purchase_count" for path, _ in messages)


def test_sample_loyalty_is_laid_over_the_defaults_key_by_key() -> None:
    context = sample_context("demo", {"loyalty": {"tier": "gold"}, "traits": {"vip": True}}, {}, {})
    loyalty = context["customer"]["loyalty"]
    assert loyalty["tier"] == "gold" and loyalty["available"] == 150 and loyalty["expiring_soon"] == []
    assert context["customer"]["history"]["top_categories"] == []
    assert context["customer"]["traits"] == {"vip": True}


def test_a_template_reading_loyalty_renders_against_the_sample(write: WriteJourney, workspace: Path) -> None:
    folder = workspace / "templates" / "expiring"
    folder.mkdir()
    (folder / "subject.txt").write_text("{{ customer.loyalty.expiring_soon[0].points }} points expire")
    (folder / "body.html").write_text("{{ customer.history.top_categories | join(', ') }}")
    (folder / "body.txt").write_text(
        "{{ customer.loyalty.next_tier }} in {{ customer.loyalty.points_to_next }}"
    )
    text = HEAD + "  - {id: mail, send: {email: expiring}}\n"
    sample = """sample:
  customer:
    loyalty: {expiring_soon: [{points: 120, date: 2027-01-15}], next_tier: gold, points_to_next: 300}
    history: {top_categories: [shoes]}
"""
    assert compile_file(write(text + sample, "good.yaml")).journey == "demo"

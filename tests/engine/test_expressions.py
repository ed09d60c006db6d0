"""Conditions: sandboxed, checked at compile time, a missing value counts as false."""

from __future__ import annotations

import re
from typing import Any

import pytest
from jinja2.exceptions import SecurityError

from engine.expressions import NAMES_ALL, ExpressionError, check, evaluate

CONTEXT: dict[str, Any] = {
    "customer": {"points": 600, "stage": "at_risk", "tier": "gold", "traits": {"city": "Jakarta"}},
    "event": {"name": "purchase_completed", "properties": {"total": 60, "items": ["shoes"]}},
    "data": {"attempts": 2, "tags": ["new"]},
    "journey": {"name": "winback", "version": "abc"},
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("customer.points >= 500", True),
        ("customer.points >= 1000", False),
        ("event.properties.total > 50 and customer.stage in ['at_risk', 'lapsed']", True),
        ("customer.tier == 'gold' or data.attempts > 5", True),
        ("not (customer.traits.city == 'Jakarta')", False),
        ("'shoes' in event.properties['items']", True),
        ("journey.name == 'winback'", True),
        ("customer.points is number and customer.tier | upper == 'GOLD'", True),
    ],
)
def test_evaluate(condition: str, expected: bool) -> None:
    check(condition)
    assert evaluate(condition, CONTEXT) is expected


@pytest.mark.parametrize(
    "condition",
    [
        "customer.favourite_colour",
        "customer.favourite_colour == 'teal'",
        "customer.traits.phone.country > 3",
        "customer.lifetime_points + 10 > 5",
        "customer.missing < 3",
        "'x' in customer.missing",
        "customer.missing is defined",
    ],
)
def test_a_missing_value_counts_as_false(condition: str) -> None:
    assert evaluate(condition, CONTEXT) is False


def test_a_missing_value_does_not_spoil_the_rest_of_the_condition() -> None:
    assert evaluate("customer.missing > 3 or customer.points > 3", CONTEXT) is True
    assert evaluate("not customer.missing", CONTEXT) is True


@pytest.mark.parametrize(
    "condition",
    ["customer.__class__", "customer.__class__.__mro__", "customer['__class__']", "data.tags.append(1)"],
)
def test_the_sandbox_refuses_unsafe_access(condition: str) -> None:
    with pytest.raises(SecurityError):
        evaluate(condition, CONTEXT)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("customer.points >", "\"customer.points >\" is not a valid condition: unexpected ')'"),
        ("x = 1", "\"x = 1\" is not a valid condition: expected token ')', got '='"),
        ("", "\"\" is not a valid condition: unexpected 'end of template'"),
        (
            "profile.complete",
            '"profile.complete" uses unknown name profile; a condition can use ' + ", ".join(NAMES_ALL),
        ),
        (
            "range(10) | length > 3",
            '"range(10) | length > 3" uses unknown name range; a condition can use ' + ", ".join(NAMES_ALL),
        ),
        (
            "customer.__class__",
            '"customer.__class__" reads "__class__"; names starting with _ are not allowed',
        ),
        (
            "customer['_secret']",
            '"customer[\'_secret\']" reads "_secret"; names starting with _ are not allowed',
        ),
    ],
)
def test_check_rejects(condition: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        check(condition)
    assert str(info.value) == message


def test_check_limits_names_where_only_some_apply() -> None:
    check("customer.points > 1 and event.properties.total > 1", ("customer", "event"))
    with pytest.raises(
        ExpressionError, match=re.escape("uses unknown name data; a condition can use customer, event") + "$"
    ):
        check("data.attempts > 1", ("customer", "event"))


def test_a_value_of_the_wrong_type_does_not_match_instead_of_failing() -> None:
    context = {"event": {"properties": {"total": "abc"}}}
    assert evaluate("event.properties.total > 100", context) is False
    assert evaluate("event.properties.total > 100", {"event": {"properties": {"total": 120}}}) is True


def test_filters_that_are_not_pure_are_refused() -> None:
    with pytest.raises(ExpressionError, match="No filter named 'random'"):
        check("[1, 2, 3] | random > 1")
    assert evaluate("customer.name | lower == 'ada'", {"customer": {"name": "Ada"}}) is True

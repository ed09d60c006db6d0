"""Hostile conditions: powers that never finish, method calls, deep nesting, huge literals.

``check`` refuses them from the syntax tree alone (Jinja would fold constants while compiling, so
nothing may be compiled before the tree is known to be in the language); ``evaluate`` never
raises for a condition ``check`` accepts, whatever the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import nodes
from jinja2.exceptions import SecurityError

from engine import expressions
from engine.errors import JourneyValidationError
from engine.expressions import NAMES_ALL, ExpressionError, check, evaluate
from engine.limits import MAX_EXPRESSION_BRACKETS, MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH
from engine.loader import compile_text

TEMPLATES = Path(__file__).resolve().parents[2] / "journeys" / "templates"
NO_CALLS = "a condition cannot call functions or methods"
CONTEXT: dict[str, Any] = {
    "customer": {"name": "Ada", "points": 600, "tags": ["a"] * 20_000, "traits": {"city": "Jakarta"}},
    "event": {"properties": {"total": 60, "sep": "x" * 100_000, "big": 2**4000}},
    "data": {},
    "journey": {"name": "j"},
}


@pytest.fixture
def nothing_is_folded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if Jinja computes an operator on constants (as its compiler does, folding)."""

    def refuse(*operands: object) -> object:
        raise AssertionError("an operator was computed at compile time")

    for table in (nodes._binop_to_func, nodes._uaop_to_func):
        for operator in list(table):
            monkeypatch.setitem(table, operator, refuse)


@pytest.mark.parametrize(
    "condition",
    ["7 ** (10 ** 7) > 1", "9 ** 9 ** 9 ** 9 > 1", "customer.points ** 2 > 10", "(2 ** 64) == 0"],
)
def test_a_power_is_refused_before_anything_is_computed(condition: str, nothing_is_folded: None) -> None:
    with pytest.raises(ExpressionError) as info:
        check(condition)
    assert str(info.value) == f'"{condition}" uses **; a condition cannot raise to a power'


def test_evaluating_an_unchecked_power_is_refused_without_computing_it(nothing_is_folded: None) -> None:
    with pytest.raises(SecurityError, match="cannot raise to a power"):
        evaluate("7 ** (10 ** 7) > 1", CONTEXT)


@pytest.mark.parametrize(
    ("condition", "callee"),
    [
        ("customer.traits.clear() is none", "clear"),
        ("event.properties.pop('x', 1) == 1", "pop"),
        ("customer.name.upper() == 'ADA'", "upper"),
        ("customer.tags.append(1)", "append"),
        ("(customer.traits.get)('city') == 'Jakarta'", "get"),
        ("customer.name.format(customer) == ''", "format"),
    ],
)
def test_calls_are_refused(condition: str, callee: str) -> None:
    with pytest.raises(ExpressionError) as info:
        check(condition)
    assert str(info.value) == f'"{condition}" calls {callee}(); {NO_CALLS}'
    with pytest.raises(SecurityError):
        evaluate(condition, CONTEXT)
    assert CONTEXT["customer"]["traits"] == {"city": "Jakarta"}


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            "customer.points if customer.vip else 0",
            '"customer.points if customer.vip else 0" uses if/else; a condition cannot (use and, or)',
        ),
        (
            "customer.points > 9223372036854775808",
            '"customer.points > 9223372036854775808" writes a number that is too large;'
            " numbers stay below 2**63",
        ),
        (
            "customer.tags | join(*event.x) == ''",
            "\"customer.tags | join(*event.x) == ''\" passes * or ** arguments, which a condition cannot",
        ),
        (
            "customer.points is callable",
            "\"customer.points is callable\" is not a valid condition: No test named 'callable';"
            " a condition can use "
            + ", ".join(name for name in expressions.SAFE_TESTS if name.isidentifier()),
        ),
        (
            "customer.tags | map('upper') | list == []",
            "\"customer.tags | map('upper') | list == []\" is not a valid condition: No filter named 'map'; a"
            " condition can use " + ", ".join(expressions.SAFE_FILTERS),
        ),
        (
            "loop.index > 1",
            '"loop.index > 1" uses unknown name loop; a condition can use ' + ", ".join(NAMES_ALL),
        ),
        ("1) }}{{ (2", "\"1) }}{{ (2\" is not a valid condition: unexpected ')'"),
        ("1) or (2", "\"1) or (2\" is not a valid condition: unexpected ')'"),
    ],
)
def test_what_is_outside_the_language_is_refused(condition: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        check(condition)
    assert str(info.value) == message


def test_a_condition_has_a_maximum_length() -> None:
    condition = "customer.points > " + "1" * (MAX_EXPRESSION_LENGTH - 17)
    with pytest.raises(ExpressionError) as info:
        check(condition)
    assert str(info.value) == f'"{condition[:60]}..." is 1001 characters long; a condition has at most 1000'


def test_brackets_nest_at_most_sixteen_deep() -> None:
    fine = "(" * MAX_EXPRESSION_BRACKETS + "customer.points" + ")" * MAX_EXPRESSION_BRACKETS + " > 1"
    check(fine)
    assert evaluate(fine, CONTEXT) is True
    deep = "(" + fine[: -len(" > 1")] + ") > 1"
    with pytest.raises(ExpressionError) as info:
        check(deep)
    assert str(info.value) == f'"{deep}" nests brackets 17 deep; a condition nests them at most 16 deep'


@pytest.mark.parametrize(
    ("condition", "depth"),
    [
        (" and ".join(["customer.points > 1"] * 40), 42),
        ("not " * 100 + "customer.points", 100),
        ("-" * 999 + "1", 999),
        ("customer" + ".a" * 40 + " == 1", 42),
    ],
)
def test_a_condition_nests_at_most_thirty_two_levels(condition: str, depth: int) -> None:
    with pytest.raises(ExpressionError) as info:
        check(condition)
    assert str(info.value) == f'"{condition}" is nested {depth} levels deep; a condition has at most 32'


def test_thirty_two_levels_are_fine() -> None:
    condition = " and ".join(["customer.points > 1"] * (MAX_EXPRESSION_DEPTH - 2))
    check(condition)
    assert evaluate(condition, CONTEXT) is True


@pytest.mark.parametrize(
    "condition",
    [
        "'x' * 1000000000 == 'x'",
        "customer.tags * 1000000 == []",
        "event.properties.big * event.properties.big > 1",
        "'%999999999d' % 1 == ''",
        "customer.tags | join(event.properties.sep) | length > 0",
        "customer.tags | sum(start=[]) == []",
        "customer.points is divisibleby 0",
        "customer.points / 0 > 1",
        "customer.name > 3",
        "customer.name.upper == 1 or customer.traits.clear",
    ],
)
def test_checked_conditions_that_fail_while_they_run_are_false(
    condition: str, nothing_is_folded: None
) -> None:
    check(condition)
    assert evaluate(condition, CONTEXT) is False


def test_bounded_arithmetic_still_works() -> None:
    for condition in (
        "'ab' * 3 == 'ababab'",
        "customer.points * 2 - 100 == 1100",
        "customer.name ~ '!' == 'Ada!'",
        "customer.points % 7 == 5",
        "customer.points // 7 == 85",
        "customer.tags | join(',') | length == 39999",
        "[1, 2, 3] | sum == 6",
        "{'a': 1}['a'] == 1 and [1, 2, 3][1:] == [2, 3]",
    ):
        check(condition)
        assert evaluate(condition, CONTEXT) is True, condition


def test_a_journey_with_a_power_is_refused_at_its_position() -> None:
    text = (
        "journey: demo\nstage: reach\n"
        'trigger: {event: signed_up, where: "7 ** (10 ** 7) > 1"}\n'
        "steps:\n"
        "  - id: b\n"
        "    branch: {cases: [{when: \"event.properties.pop('x', 1) == 1\", next: c}]}\n"
        "  - {id: c, exit: done}\n"
    )
    with pytest.raises(JourneyValidationError) as info:
        compile_text(text, "broken.yaml", TEMPLATES)
    assert [(e.file, e.line, e.column, e.path, e.message) for e in info.value.errors] == [
        (
            "broken.yaml",
            3,
            36,
            "trigger.where",
            '"7 ** (10 ** 7) > 1" uses **; a condition cannot raise to a power',
        ),
        (
            "broken.yaml",
            6,
            29,
            "steps[0].branch.cases[0].when",
            f"\"event.properties.pop('x', 1) == 1\" calls pop(); {NO_CALLS}",
        ),
    ]


CHECKED = [
    "customer.points >= 500",
    "event.properties.total > 50 and customer.stage in ['at_risk', 'lapsed']",
    "customer.tier == 'gold' or data.attempts > 5",
    "not (customer.traits.city == 'Jakarta')",
    "'shoes' in event.properties['items']",
    "customer.points is number and customer.tier | upper == 'GOLD'",
    "customer.points * 3 + data.attempts // 2 > event.properties.total % 7",
    "event.properties.items | join(', ') | length > customer.points",
    "event.properties.items | sum > 1 and event.properties.items | max > 1",
    "event.properties.name ~ customer.name == 'x'",
    "event.properties.items[1:customer.points] == data.tags",
    "customer.name | int(0) + customer.points | float > 1",
]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats()
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)
SOME_KEYS = st.sampled_from(
    ["points", "stage", "tier", "traits", "city", "total", "items", "name", "attempts", "tags"]
)
MAPPING = st.dictionaries(SOME_KEYS, JSON | st.dictionaries(SOME_KEYS, JSON, max_size=4), max_size=6)


@given(
    condition=st.sampled_from(CHECKED),
    customer=MAPPING,
    event=st.fixed_dictionaries({"properties": MAPPING}),
    data=MAPPING,
)
@settings(max_examples=100, deadline=1000, database=None, suppress_health_check=[HealthCheck.too_slow])
def test_evaluate_never_raises_for_a_checked_condition(
    condition: str, customer: dict[str, Any], event: dict[str, Any], data: dict[str, Any]
) -> None:
    check(condition)
    result = evaluate(condition, {"customer": customer, "event": event, "data": data, "journey": {}})
    assert result in (True, False)

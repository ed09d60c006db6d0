"""YAML with positions: values, keys, duplicate keys, times of day and syntax errors."""

from __future__ import annotations

import pytest

from engine.source import SourceSyntaxError, format_path, parse_source

TEXT = """\
journey: demo
steps:
  - id: first
    wait: {until: 10:00}
  - {id: second, exit: done}
"""


def test_positions_of_values_and_keys() -> None:
    source = parse_source(TEXT, "demo.yaml")
    assert source.values[("journey",)] == (1, 10)
    assert source.keys[("journey",)] == (1, 1)
    assert source.values[("steps", 0)] == (3, 5)
    assert source.values[("steps", 0, "id")] == (3, 9)
    assert source.keys[("steps", 1, "exit")] == (5, 18)
    assert source.values[("steps", 1, "exit")] == (5, 24)


def test_position_falls_back_to_the_nearest_ancestor() -> None:
    source = parse_source(TEXT, "demo.yaml")
    assert source.position(("steps", 1, "next")) == (5, 5)
    assert source.position(("steps", 1, "exit"), key=True) == (5, 18)
    assert source.position(("nothing", "here")) == (1, 1)


def test_a_clock_time_stays_text() -> None:
    # YAML 1.1 would read 10:00 as the number 600.
    source = parse_source(TEXT, "demo.yaml")
    assert source.data["steps"][0]["wait"] == {"until": "10:00"}


def test_duplicate_keys_are_remembered() -> None:
    source = parse_source("a: 1\nb: {c: 1, c: 2}\na: 3\n", "x.yaml")
    assert source.duplicate_keys == [("b", "c"), ("a",)]
    assert source.data == {"a": 3, "b": {"c": 2}}


def test_syntax_error_has_a_position() -> None:
    with pytest.raises(SourceSyntaxError) as info:
        parse_source("a: [1, 2\nb: 3\n", "x.yaml")
    assert (info.value.line, info.value.column) == (2, 2)
    assert (
        info.value.message
        == "YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence)"
    )


@pytest.mark.parametrize(
    ("path", "text"),
    [((), ""), (("steps", 3, "wait_for", "timeout"), "steps[3].wait_for.timeout"), (("goal",), "goal")],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text

"""The loader fuzzed: random YAML-ish text and random mutations of the example journeys.

Whatever the text, compiling it either gives a plan or raises ``JourneyValidationError`` whose
every error is positioned in the file; never any other exception.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import JourneyValidationError
from engine.loader import compile_bytes, compile_text, journey_files
from engine.plan import Plan

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"
TEMPLATES = JOURNEYS / "templates"
EXAMPLES = [path.read_text("utf-8") for path in journey_files(JOURNEYS)]
FUZZ = settings(
    max_examples=200,
    deadline=timedelta(seconds=2),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Pieces of YAML and of the journey language, hostile and not.
PIECES = [
    *"abcxyz019_.-",
    "&a ",
    "*a",
    "&b [*a, *a, *a]",
    "[",
    "]",
    "{",
    "}",
    ", ",
    ": ",
    "- ",
    "\n",
    "  ",
    "    ",
    "\t",
    "\r\n",
    "#",
    "'",
    '"',
    "\\",
    "? ",
    "---\n",
    "...\n",
    "<<: *a",
    "!!binary aGk=",
    "!!set ",
    "!!omap ",
    "!!python/object/apply:os.system [ls]",
    "!foo ",
    "%YAML 1.1\n",
    "\x00",
    "\x07",
    "\x1b",
    "\ufeff",
    "\ud800",
    "é",
    "9" * 60,
    "2024-13-45",
    "1e999",
    ".nan",
    "~",
    "null",
    "yes",
    "10:00",
    "3d",
    "../x",
    "/etc",
    "{{ ",
    " }}",
    "{{ 7 ** (10 ** 7) }}",
    "{{ range(10**9) | list }}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "7 ** (10 ** 7) > 1",
    "customer.traits.clear() is none",
    "customer.points > 1",
    "journey: ",
    "steps: ",
    "id: ",
    "send: {email: welcome}",
    "send: {webhook: sms, payload: {text: hi}}",
    "where: ",
    "when: ",
    "wait: 3d",
    "exit: done",
    "next: ",
    "sample: ",
]
TEXT = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)


def assert_only_validation_errors(compile_it: object) -> None:
    assert callable(compile_it)
    try:
        plan = compile_it()
    except JourneyValidationError as exc:
        assert exc.errors
        for error in exc.errors:
            assert error.file == "fuzz.yaml"
            assert error.line >= 1 and error.column >= 1
            assert error.message
    else:
        assert isinstance(plan, Plan)


@FUZZ
@given(text=TEXT)
def test_random_yaml_gives_a_plan_or_positioned_errors(text: str) -> None:
    assert_only_validation_errors(lambda: compile_text(text, "fuzz.yaml", TEMPLATES))


@st.composite
def mutated_example(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(EXAMPLES))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        where = draw(st.integers(min_value=0, max_value=len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        if kind == "insert":
            text = text[:where] + draw(st.sampled_from(PIECES)) + text[where:]
        elif kind == "delete":
            text = text[:where] + text[where + draw(st.integers(min_value=1, max_value=40)) :]
        elif kind == "replace":
            text = text[:where] + draw(st.sampled_from(PIECES)) + text[where + 1 :]
        else:
            size = draw(st.integers(min_value=1, max_value=200))
            text = text[:where] + text[where : where + size] * 2 + text[where + size :]
    return text


@FUZZ
@given(text=mutated_example())
def test_mutated_examples_give_a_plan_or_positioned_errors(text: str) -> None:
    assert_only_validation_errors(lambda: compile_text(text, "fuzz.yaml", TEMPLATES))


@st.composite
def mutated_bytes(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(EXAMPLES)).encode())
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        data[draw(st.integers(min_value=0, max_value=len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@FUZZ
@given(data=mutated_bytes())
def test_mutated_bytes_give_a_plan_or_positioned_errors(data: bytes) -> None:
    assert_only_validation_errors(lambda: compile_bytes(data, "fuzz.yaml", TEMPLATES))


def test_the_examples_themselves_compile() -> None:
    for text in EXAMPLES:
        assert isinstance(compile_text(text, "fuzz.yaml", TEMPLATES), Plan)

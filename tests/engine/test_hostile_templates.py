"""Hostile templates: powers, repetition, range, recursion, formats, loops and output without end.

Validation turns each into one positioned error; ``render_email`` and ``render_value`` raise a
``jinja2.TemplateError`` (and nothing else) for each, so the activity can fail the send for good.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jinja2 import TemplateError, TemplateSyntaxError

from engine.errors import JourneyValidationError
from engine.loader import compile_text
from engine.sandbox import LimitExceeded
from engine.templates import TemplateRenderError, environment, render_email, render_value, sample_context

TEMPLATES = Path(__file__).resolve().parents[2] / "journeys" / "templates"
JOURNEY = "journey: demo\nstage: reach\ntrigger: {event: signed_up}\nsteps:\n  - {id: a, send: {email: x}}\n"
DOES_NOT_RENDER = 'template "x" does not render: '
SYNTAX = 'template "x" has a syntax error at x/body.html:1: '
LONGER = "items is longer than 100000, the most one operation may make"
CASES = [
    ("{{ range(10**9) | list }}", "range gives at most 10000 items"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "calls are nested deeper than 20"),
    (
        "{{ 'x' * 10**9 }}",
        f"repeating makes a value of 1000000000 {LONGER}",
    ),
    (
        "{{ [0] * 10**9 }}",
        f"repeating makes a value of 1000000000 {LONGER}",
    ),
    ("{{ 7 ** (10 ** 7) }}", "7 ** 10000000 is larger than 4096 bits, the most an operation may make"),
    (
        "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}",
        "the template does more than 50000 operations (loop iterations, calls...)",
    ),
    ("{{ '{:>999999999}'.format(1) }}", "a width or precision of 999999999 in a format is over 1000"),
    ("{{ '{:{w}}'.format(1, w=5) }}", "a format may not take its width or precision from an argument"),
    ("{{ '%999999999d' % 1 }}", "a width or precision of 999999999 in a format is over 1000"),
    ("{{ '%*d' | format(999999999, 1) }}", "a width or precision of * in a format is over 1000"),
    ("{{ 'x'.ljust(10**9) }}", "ljust() with 1000000000 is over 100000"),
    ("{{ (1).to_bytes(10**9, 'big') }}", "to_bytes() with 1000000000 is over 100000"),
    ("{{ 'x' | center(10**9) }}", "a width of 1000000000 is over 1000"),
    (
        "{{ range(10000) | join('x' * 100000) }}",
        f"joining makes a value of 1000000000 {LONGER}",
    ),
    (
        "{% set s = 'x' * 100000 %}{% for i in range(10) %}{{ s }}{% endfor %}",
        "the template outputs more than 500000 characters",
    ),
    (
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        f"a value of 131072 {LONGER}",
    ),
    (
        "{% macro f(n) %}{% if n %}{% set a = f(n - 1) %}{{ a }}{{ a }}{{ a }}{{ a }}"
        "{% else %}xxxxx{% endif %}{% endmacro %}{{ f(19) }}",
        "the template outputs more than 500000 characters",
    ),
    ("{% for x in [1, 2] recursive %}{{ loop([1, 2]) }}{% endfor %}", "calls are nested deeper than 20"),
    ("{{ customer.traits.update({'a': 1}) }}", "access to attribute 'update' of 'dict' object is unsafe."),
    ("{{ [[1] * 1000] * 100 | sum(start=[]) }}", "sum adds numbers only"),
    ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
    ("{{ 2.0 ** 10000 }}", "OverflowError: (34, 'Numerical result out of range')"),
    (
        "{% include 'x/body.html' %}",
        "the template recurses too deeply (does it include or extend itself?)",
    ),
]


def rendered_problems(tmp_path: Path, body: str) -> list[tuple[int, int, str, str]]:
    folder = tmp_path / "templates" / "x"
    folder.mkdir(parents=True)
    (folder / "subject.txt").write_text("Hi")
    (folder / "body.txt").write_text("Hi")
    (folder / "body.html").write_text(body)
    with pytest.raises(JourneyValidationError) as info:
        compile_text(JOURNEY, "broken.yaml", folder.parent)
    return [(e.line, e.column, e.path, e.message) for e in info.value.errors]


@pytest.mark.parametrize(("body", "message"), CASES)
def test_validation_refuses_a_hostile_template_at_its_step(tmp_path: Path, body: str, message: str) -> None:
    assert rendered_problems(tmp_path, body) == [(5, 27, "steps[0].send.email", DOES_NOT_RENDER + message)]


@pytest.mark.parametrize(("body", "message"), CASES)
def test_render_email_raises_only_template_errors(body: str, message: str) -> None:
    sources = {"x/subject.txt": "Hi", "x/body.html": body, "x/body.txt": "Hi"}
    with pytest.raises(TemplateError) as info:
        render_email(sources, "x", sample_context("demo", {}, {}, {}))
    assert str(info.value) == message


def test_lipsum_is_gone(tmp_path: Path) -> None:
    [(_, _, _, message)] = rendered_problems(tmp_path, "{{ lipsum(10**6) }}")
    assert message.startswith(
        "template \"x\" does not render against the sample customer: 'lipsum' is undefined"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "{% for i in [1] %}" * 25 + "{% endfor %}" * 25,
            SYNTAX + "the template is too complex: too many statically nested blocks",
        ),
        (
            "{{ " + "(" * 300 + "1" + ")" * 300 + " }}",
            SYNTAX + "the template is nested too deeply",
        ),
        (
            "{% if 1 %}" * 60 + "{% endif %}" * 60,
            SYNTAX + "the template is nested 62 levels deep; at most 50 are allowed",
        ),
    ],
)
def test_templates_too_complex_to_compile_are_syntax_errors(tmp_path: Path, body: str, message: str) -> None:
    assert rendered_problems(tmp_path, body) == [(5, 27, "steps[0].send.email", message)]


def test_the_kinds_of_error_render_raises() -> None:
    context = sample_context("demo", {}, {}, {})

    def failure(body: str) -> TemplateError:
        with pytest.raises(TemplateError) as info:
            render_email({"x/subject.txt": "Hi", "x/body.html": body, "x/body.txt": "Hi"}, "x", context)
        return info.value

    assert isinstance(failure("{{ 'x' * 10**9 }}"), LimitExceeded)
    assert isinstance(failure("{{ 1 / 0 }}"), TemplateRenderError)
    assert isinstance(failure("{% for %}"), TemplateSyntaxError)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("{{ 7 ** (10 ** 7) }}", "7 ** 10000000 is larger than 4096 bits, the most an operation may make"),
        ("{{ range(10**9) }}", "range gives at most 10000 items"),
        (
            "{{ 'x' * 10**9 }}",
            f"repeating makes a value of 1000000000 {LONGER}",
        ),
        ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
    ],
)
def test_a_hostile_webhook_payload_is_refused_at_its_step(payload: str, message: str) -> None:
    text = (
        "journey: demo\nstage: reach\ntrigger: {event: signed_up}\nsteps:\n"
        f'  - {{id: a, send: {{webhook: sms, payload: {{text: "{payload}"}}}}}}\n'
    )
    with pytest.raises(JourneyValidationError) as info:
        compile_text(text, "broken.yaml", TEMPLATES)
    assert [(e.line, e.column, e.path, e.message) for e in info.value.errors] == [
        (5, 43, "steps[0].send.payload", f'template "payload" does not render: {message}')
    ]
    with pytest.raises(TemplateError) as raised:
        render_value({"a": ["x", {"b": payload}]}, sample_context("demo", {}, {}, {}))
    assert str(raised.value) == message


def test_a_payload_renders_within_one_budget() -> None:
    loop = "{% for i in range(5000) %}{% endfor %}"
    assert render_value({"a": loop * 4}, {}) == {"a": ""}  # 40,000 operations: within 50,000
    with pytest.raises(LimitExceeded, match=r"more than 50000 operations \(loop iterations, calls\.\.\.\)"):
        render_value({"a": loop * 4, "b": loop * 4}, {})


def test_what_templates_usually_do_still_works() -> None:
    body = (
        "{% macro money(x) %}{{ '%.2f' % x }}{% endmacro %}"
        "{{ money(3.14159) }} {{ '{:>5}'.format('a') }} {{ 2 ** 10 }} {{ 'ab' * 3 }}"
        " {{ range(5) | join(',') }} {% for i in range(3) %}{{ loop.index }}{% endfor %}"
        " {{ customer.first_name | center(9) }} {{ [1, 2, 3] | sum }} {{ 'a\nb' | indent(2) }}"
        " {{ ('x' * 50000) | length }} {% for row in [1, 2, 3] | batch(2, 0) %}{{ row }}{% endfor %}"
    )
    context: dict[str, Any] = sample_context("demo", {}, {}, {})
    email = render_email({"x/subject.txt": "Hi", "x/body.html": body, "x/body.txt": "Hi"}, "x", context)
    assert email.html == "3.14     a 1024 ababab 0,1,2,3,4 123    Ada    6 a\n  b 50000 [1, 2][3, 0]"


def test_the_payloads_of_a_journey_share_one_budget_when_validated() -> None:
    loop = "{% for i in range(5000) %}{% endfor %}"
    steps = "".join(
        f'  - {{id: s{i}, send: {{webhook: sms, payload: {{text: "{loop * 4}"}}}}}}\n' for i in range(3)
    )
    text = "journey: demo\nstage: reach\ntrigger: {event: signed_up}\nsteps:\n" + steps
    with pytest.raises(JourneyValidationError) as info:
        compile_text(text, "broken.yaml", TEMPLATES)
    assert [(e.line, e.path, e.message) for e in info.value.errors] == [
        (
            6,
            "steps[1].send.payload",
            'template "payload" does not render: the template does more than 50000 operations (loop'
            " iterations, calls...); a journey's payloads share this budget when validated",
        )
    ]
    # When sent, each payload has a budget of its own.
    assert render_value({"text": loop * 4}, {}) == {"text": ""}


@pytest.mark.parametrize(
    "text", ["abc", "abc\n", "abc\n\n", "a\r\nb\r\n", "a\rb", "", "\n", "a\u2028b", "}}", "%} #}", "a\n\r\n"]
)
def test_a_payload_string_without_template_syntax_renders_as_jinja_would(text: str) -> None:
    assert render_value([text], {}) == [environment({}).from_string(text).render()]


def test_thousands_of_template_strings_in_a_payload_stop_at_the_budget() -> None:
    payload = {"t": [f"{{{{ {i} }}}}" for i in range(3000)]}
    with pytest.raises(LimitExceeded, match="more than 50000 operations"):
        render_value(payload, {})
    assert render_value({"t": [f"{{{{ {i} }}}}" for i in range(100)]}, {})["t"][99] == "99"

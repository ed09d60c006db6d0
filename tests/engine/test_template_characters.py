"""Characters no template may hold, and none may render: lone surrogates and control characters.

A template file holding a C0 control character (tab and line breaks aside) is refused where it is
read, with the file, line and column; validating a journey puts that at the step that sends it.
``render_email`` raises ``TemplateRenderError`` for a subject that renders any control character or
a lone surrogate, and for an HTML or text body that renders a NUL or a lone surrogate, naming the
file (the locale variant that rendered) and the place in its output.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.errors import JourneyValidationError
from engine.loader import compile_text
from engine.templates import (
    TemplateMissing,
    TemplateRenderError,
    read_email_sources,
    render_email,
    sample_context,
    unusable_character,
)

JOURNEY = "journey: demo\nstage: reach\ntrigger: {event: signed_up}\nsteps:\n  - {id: a, send: {email: x}}\n"
RULE = "a template may hold no lone surrogate, and no control character but tab and line breaks"
CONTEXT = sample_context("demo", {}, {}, {})


def folder(tmp_path: Path, **parts: str) -> Path:
    templates = tmp_path / "templates"
    (templates / "x").mkdir(parents=True)
    files = {"subject.txt": "Hi", "body.html": "<p>Hi</p>", "body.txt": "Hi", **parts}
    for name, text in files.items():
        (templates / ("_layout.html" if name == "layout" else f"x/{name.replace('_', '.')}")).write_text(
            text, "utf-8"
        )
    return templates


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("a\x00b", "control character U+0000 (NUL) at line 1, column 2"),
        ("one\ntwo\x1b[0m", "control character U+001B at line 2, column 4"),
        ("\r\n\x0b", "control character U+000B at line 2, column 1"),
        ("x\x0c", "control character U+000C at line 1, column 2"),
        ("\ud800", "lone surrogate U+D800 at line 1, column 1"),
        ("ok \udc80", "lone surrogate U+DC80 at line 1, column 4"),
        ("tab\tline\nreturn\r\n\x7f\x85 é 😀", None),  # DEL and C1 are no C0; a surrogate pair is a character
    ],
)
def test_unusable_character_names_the_first_and_where_it_is(text: str, found: str | None) -> None:
    assert unusable_character(text) == found


@pytest.mark.parametrize(
    ("part", "where"),
    [
        ("body_html", "templates/x/body.html holds control character U+0000 (NUL) at line 2, column 3"),
        ("subject_txt", "templates/x/subject.txt holds control character U+0007 at line 1, column 3"),
        ("body_id_txt", "templates/x/body.id.txt holds control character U+001F at line 1, column 1"),
        ("layout", "templates/_layout.html holds control character U+0001 at line 1, column 1"),
    ],
)
def test_a_template_file_holding_a_control_character_is_refused_where_it_is_read(
    tmp_path: Path, part: str, where: str
) -> None:
    text = {"body_html": "<p>\n  \x00</p>", "subject_txt": "Hi\x07", "body_id_txt": "\x1f", "layout": "\x01"}[
        part
    ]
    templates = folder(tmp_path, **{part: text})
    with pytest.raises(TemplateMissing) as info:
        read_email_sources(templates, "x")
    assert info.value.message == f'email template "x" cannot be used: {where} ({RULE})'

    with pytest.raises(JourneyValidationError) as refused:
        compile_text(JOURNEY, "demo.yaml", templates)
    assert [(e.line, e.column, e.path, e.message) for e in refused.value.errors] == [
        (5, 27, "steps[0].send.email", info.value.message)
    ]


SUBJECT = "which an email subject (a header) cannot carry"
BODY = "which an email cannot carry"


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        (
            "x/subject.txt",
            "Hi {{ '\\ud800' }}",
            f"renders lone surrogate U+D800 at line 1, column 4 of its output, {SUBJECT}",
        ),
        (
            "x/subject.txt",
            "Hi {{ '\\x00' }}",
            f"renders control character U+0000 (NUL) at line 1, column 4 of its output, {SUBJECT}",
        ),
        (
            "x/subject.txt",
            "Hi {{ '\\x7f' }}",
            f"renders control character U+007F at line 1, column 4 of its output, {SUBJECT}",
        ),
        (
            "x/subject.txt",
            "Hi {{ '\\x9f' }}",
            f"renders control character U+009F at line 1, column 4 of its output, {SUBJECT}",
        ),
        (
            "x/subject.txt",
            "Hi\n\t{{ customer.first_name }}:{{ '\\x1b' }}",
            f"renders control character U+001B at line 1, column 8 of its output, {SUBJECT}",
        ),
        (
            "x/body.html",
            "<p>\n  {{ '\\udfff' }}</p>",
            f"renders lone surrogate U+DFFF at line 2, column 3 of its output, {BODY}",
        ),
        (
            "x/body.txt",
            "{{ '\\x00' }}",
            f"renders control character U+0000 (NUL) at line 1, column 1 of its output, {BODY}",
        ),
    ],
)
def test_rendering_a_character_no_email_can_carry_is_a_render_error(
    file: str, text: str, message: str
) -> None:
    sources = {"x/subject.txt": "Hi", "x/body.html": "<p>Hi</p>", "x/body.txt": "Hi", file: text}
    with pytest.raises(TemplateRenderError) as info:
        render_email(sources, "x", CONTEXT)
    assert str(info.value) == f"{file} {message}"


def test_the_locale_variant_that_rendered_it_is_named() -> None:
    sources = {
        "x/subject.txt": "Hi",
        "x/subject.id.txt": "Hai {{ '\\x00' }}",
        "x/body.html": "<p>Hi</p>",
        "x/body.txt": "Hi",
    }
    assert render_email(sources, "x", CONTEXT).subject == "Hi"
    with pytest.raises(TemplateRenderError, match=r"^x/subject\.id\.txt renders control character U\+0000 "):
        render_email(sources, "x", CONTEXT, "id")


def test_a_value_of_the_customer_is_checked_as_it_renders() -> None:
    sources = {
        "x/subject.txt": "Hi {{ customer.first_name }}",
        "x/body.html": "{{ customer.first_name }}",
        "x/body.txt": "",
    }
    for name, found in [
        ("Ada\ud800", "lone surrogate U+D800"),
        ("Ada\x00", "control character U+0000 (NUL)"),
    ]:
        with pytest.raises(
            TemplateRenderError, match="^" + re.escape(f"x/subject.txt renders {found} at line 1, column 7 ")
        ):
            render_email(sources, "x", sample_context("demo", {"first_name": name}, {}, {}))


def test_what_an_email_may_carry_still_renders() -> None:
    sources = {
        "x/subject.txt": "Hi\t{{ customer.first_name }}\r\n  and 😀 {{ '\\u00e9' }}",
        "x/body.html": "<p>\t{{ '\\x1b' }}\r\n{{ '\\x7f' }} 😀</p>",
        "x/body.txt": "Hi\x0c{{ '\\x01' }}",
    }
    rendered = render_email(sources, "x", CONTEXT)
    assert rendered.subject == "Hi Ada and 😀 é"
    assert rendered.html == "<p>\t\x1b\n\x7f 😀</p>"  # Jinja writes every line break as \n
    assert rendered.text == "Hi\x0c\x01"

"""Email templates: locale variants, autoescaping, strict undefined, shared layouts, webhook payloads."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import UndefinedError
from jinja2.exceptions import SecurityError

from engine.templates import TemplateMissing, read_email_sources, render_email, render_value, sample_context

TEMPLATES = Path(__file__).resolve().parents[2] / "journeys" / "templates"


def context(**customer: object) -> dict[str, object]:
    return sample_context("onboarding", customer, {}, {})


def test_read_email_sources_includes_shared_layouts() -> None:
    sources = read_email_sources(TEMPLATES, "welcome")
    assert sorted(sources) == [
        "_layout.html",
        "welcome/body.html",
        "welcome/body.id.html",
        "welcome/body.id.txt",
        "welcome/body.txt",
        "welcome/subject.id.txt",
        "welcome/subject.txt",
    ]


def test_render_email_uses_the_layout_and_the_unsubscribe_link() -> None:
    email = render_email(read_email_sources(TEMPLATES, "welcome"), "welcome", context())
    assert email.subject == "Welcome aboard, Ada!"
    assert "<h1>Welcome, Ada!</h1>" in email.html
    assert '<a href="https://example.com/unsubscribe/sample">Unsubscribe</a>' in email.html
    assert email.text.startswith("Welcome, Ada!")
    assert "Unsubscribe: https://example.com/unsubscribe/sample" in email.text


@pytest.mark.parametrize("locale", ["id", "id-ID", "ID"])
def test_locale_variant_is_chosen(locale: str) -> None:
    email = render_email(read_email_sources(TEMPLATES, "welcome"), "welcome", context(), locale)
    assert email.subject == "Selamat datang, Ada!"
    assert "<h1>Selamat datang, Ada!</h1>" in email.html
    assert email.text.startswith("Selamat datang, Ada!")


def test_unknown_locale_falls_back_to_the_default() -> None:
    email = render_email(read_email_sources(TEMPLATES, "welcome"), "welcome", context(), "fr")
    assert email.subject == "Welcome aboard, Ada!"


def test_html_is_autoescaped_text_is_not() -> None:
    email = render_email(read_email_sources(TEMPLATES, "welcome"), "welcome", context(first_name="<b>Bo</b>"))
    assert "Welcome, &lt;b&gt;Bo&lt;/b&gt;!" in email.html
    assert "<b>Bo</b>" not in email.html
    assert email.text.startswith("Welcome, <b>Bo</b>!")
    assert email.subject == "Welcome aboard, <b>Bo</b>!"


def test_subject_is_one_line() -> None:
    sources = {"x/subject.txt": "Hello\n  {{ customer.first_name }}\n", "x/body.html": "", "x/body.txt": ""}
    assert render_email(sources, "x", context()).subject == "Hello Ada"


def test_strict_undefined() -> None:
    sources = {"x/subject.txt": "{{ customer.nickname }}", "x/body.html": "", "x/body.txt": ""}
    with pytest.raises(UndefinedError, match="'dict object' has no attribute 'nickname'"):
        render_email(sources, "x", context())


def test_templates_are_sandboxed() -> None:
    sources = {"x/subject.txt": "{{ customer.__class__.__mro__ }}", "x/body.html": "", "x/body.txt": ""}
    with pytest.raises(SecurityError):
        render_email(sources, "x", context())


def test_missing_templates(tmp_path: Path) -> None:
    with pytest.raises(TemplateMissing) as info:
        read_email_sources(tmp_path, "welcome")
    assert str(info.value) == f'email template "welcome" does not exist (no folder {tmp_path / "welcome"})'
    (tmp_path / "welcome").mkdir()
    (tmp_path / "welcome" / "body.txt").write_text("hi")
    with pytest.raises(TemplateMissing) as info:
        read_email_sources(tmp_path, "welcome")
    assert (
        str(info.value) == f'email template "welcome" lacks subject.txt, body.html in {tmp_path / "welcome"}'
    )


def test_render_value_renders_every_string_in_a_payload() -> None:
    payload = {"text": "Hi {{ customer.first_name }}", "tags": ["{{ journey.name }}", 3], "n": 1}
    assert render_value(payload, context()) == {"text": "Hi Ada", "tags": ["onboarding", 3], "n": 1}
    assert render_value({"html": "{{ customer.first_name }}"}, context(first_name="<i>")) == {"html": "<i>"}


def test_sample_context_takes_the_journeys_sample_over_the_defaults() -> None:
    found = sample_context("j", {"first_name": "Budi", "tier": "gold"}, {"name": "x"}, {"code": "A1"})
    assert found["customer"]["first_name"] == "Budi"
    assert found["customer"]["email"] == "ada@example.com"
    assert found["event"] == {"name": "x", "properties": {}}
    assert found["data"] == {"code": "A1"}
    assert found["journey"] == {"name": "j", "version": "sample"}
    assert found["unsubscribe_url"] == "https://example.com/unsubscribe/sample"

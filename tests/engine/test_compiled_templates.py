"""The email templates' environments share one compiled code per template name and source: a layout
compiles once for every email that extends it, a changed layout compiles anew, and what each email
renders is its own."""

from __future__ import annotations

import pytest
from jinja2 import DictLoader, StrictUndefined, TemplateSyntaxError

from engine.compiled_templates import CompiledTemplates
from engine.sandbox import BoundedSandbox
from engine.templates import render_email

LAYOUT = "<html><body>{% block body %}{% endblock %}<p>{{ unsubscribe_url }}</p></body></html>"


def email(name: str, greeting: str, layout: str = LAYOUT) -> dict[str, str]:
    return {
        f"{name}/subject.txt": f"{greeting}, {{{{ customer.first_name }}}}",
        f"{name}/body.html": '{% extends "_layout.html" %}{% block body %}' + greeting + "{% endblock %}",
        f"{name}/body.txt": greeting,
        "_layout.html": layout,
    }


def environment(sources: dict[str, str], cache: CompiledTemplates) -> BoundedSandbox:
    return BoundedSandbox(loader=DictLoader(sources), undefined=StrictUndefined, bytecode_cache=cache)


def layout_code(env: BoundedSandbox) -> object:
    return env.get_template("_layout.html").root_render_func.__code__


def test_a_layout_compiles_once_for_every_environment_that_holds_it() -> None:
    cache = CompiledTemplates()
    welcome = environment(email("welcome", "Welcome"), cache)
    offer = environment(email("offer", "Ten percent off"), cache)
    assert layout_code(welcome) is layout_code(offer)
    changed = environment(email("tips", "Tips", layout=LAYOUT.replace("<p>", "<p class=f>")), cache)
    assert layout_code(changed) is not layout_code(welcome)
    assert len(cache) == 2


def test_each_email_renders_its_own_text_over_the_shared_layout() -> None:
    context = {"customer": {"first_name": "Ada"}, "unsubscribe_url": "https://example.com/u"}
    welcome = render_email(email("welcome", "Welcome"), "welcome", context)
    offer = render_email(email("offer", "Ten percent off"), "offer", context)
    assert (welcome.subject, offer.subject) == ("Welcome, Ada", "Ten percent off, Ada")
    assert welcome.html == "<html><body>Welcome<p>https://example.com/u</p></body></html>"
    assert offer.html == "<html><body>Ten percent off<p>https://example.com/u</p></body></html>"


def test_a_template_that_does_not_compile_fails_in_every_environment() -> None:
    cache = CompiledTemplates()
    broken = email("welcome", "Welcome", layout="{% block body %}")
    for _ in range(2):
        with pytest.raises(TemplateSyntaxError):
            environment(broken, cache).get_template("_layout.html")
    assert len(cache) == 0


def test_the_cache_keeps_only_the_most_recently_used_templates() -> None:
    cache = CompiledTemplates(capacity=2)

    def code(name: str) -> object:
        return environment({"a": "A", "b": "B", "c": "C"}, cache).get_template(name).root_render_func.__code__

    first_a, first_b = code("a"), code("b")
    assert code("a") is first_a  # used again: now the most recent
    first_c = code("c")  # b, the least recently used, goes
    assert len(cache) == 2
    assert code("a") is first_a
    assert code("b") is not first_b  # compiled again; c goes now
    assert code("a") is first_a
    assert code("c") is not first_c

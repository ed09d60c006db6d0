"""Email templates: one folder per email under ``templates/``, rendered with sandboxed Jinja2.

    templates/welcome/subject.txt       one line
    templates/welcome/body.html         may {% extends "_layout.html" %}
    templates/welcome/body.txt
    templates/welcome/subject.id.txt    optional locale variants (here: Bahasa Indonesia)

Files whose names start with ``_`` at the top of ``templates/`` are shared layouts and partials.
A plan carries the sources it needs, so a customer is always mailed with the version they entered on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import DictLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

EMAIL_PARTS = ("subject.txt", "body.html", "body.txt")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


class TemplateMissing(Exception):
    pass


def read_email_sources(templates_dir: Path, name: str) -> dict[str, str]:
    """Every file of email template ``name`` plus the shared ``_`` files, keyed by relative path."""
    folder = templates_dir / name
    if not folder.is_dir():
        raise TemplateMissing(f'email template "{name}" does not exist (no folder {folder})')
    missing = [part for part in EMAIL_PARTS if not (folder / part).is_file()]
    if missing:
        raise TemplateMissing(f'email template "{name}" lacks {", ".join(missing)} in {folder}')
    sources = {f"{name}/{f.name}": f.read_text("utf-8") for f in sorted(folder.iterdir()) if f.is_file()}
    for shared in sorted(templates_dir.glob("_*")):
        if shared.is_file():
            sources[shared.name] = shared.read_text("utf-8")
    return sources


def environment(sources: Mapping[str, str]) -> SandboxedEnvironment:
    """The Jinja2 environment for one set of template sources, shared while those sources are in use.

    Every customer on one journey version has the same sources; sharing the environment means each
    template compiles once per process instead of once per email.
    """
    return _environment(tuple(sorted(sources.items())))


@lru_cache(maxsize=64)
def _environment(sources: tuple[tuple[str, str], ...]) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=DictLoader(dict(sources)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def _variant(sources: Mapping[str, str], name: str, part: str, locale: str | None) -> str:
    if locale:
        stem, ext = part.rsplit(".", 1)
        localized = f"{name}/{stem}.{locale.split('-')[0].lower()}.{ext}"
        if localized in sources:
            return localized
    return f"{name}/{part}"


def render_email(
    sources: Mapping[str, str], name: str, context: Mapping[str, Any], locale: str | None = None
) -> RenderedEmail:
    """Render subject, HTML and text of email ``name``; raises Jinja2 errors on any problem."""
    env = environment(sources)
    parts = [env.get_template(_variant(sources, name, part, locale)).render(context) for part in EMAIL_PARTS]
    return RenderedEmail(subject=" ".join(parts[0].split()), html=parts[1], text=parts[2])


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every string inside a webhook payload as a (non-HTML) template."""
    if isinstance(value, str):
        return environment({}).from_string(value).render(context)
    if isinstance(value, list):
        return [render_value(item, context) for item in value]
    if isinstance(value, dict):
        return {key: render_value(item, context) for key, item in value.items()}
    return value


def sample_context(
    journey: str, customer: Mapping[str, Any], event: Mapping[str, Any], data: Mapping[str, Any]
) -> dict[str, Any]:
    """The context templates are checked against at compile time: a plausible customer."""
    base_customer: dict[str, Any] = {
        "id": "cust-sample",
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "name": "Ada Lovelace",
        "locale": "en",
        "timezone": "UTC",
        "stage": "acquisition",
        "points": 150,
        "lifetime_points": 150,
        "tier": "bronze",
        "badges": [],
        "traits": {},
    }
    base_customer.update(customer)
    base_event: dict[str, Any] = {"name": "sample", "properties": {}}
    base_event.update(event)
    return {
        "customer": base_customer,
        "event": base_event,
        "data": dict(data),
        "journey": {"name": journey, "version": "sample"},
        "unsubscribe_url": "https://example.com/unsubscribe/sample",
    }

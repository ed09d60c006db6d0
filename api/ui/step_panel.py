"""What the side panel shows for one step: its YAML and description, and for an email its subject,
HTML and text rendered for the journey's sample customer, in every locale the template has."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from jinja2 import TemplateError

from engine.plan import Node, Plan, SendEmailNode
from engine.source import SourceSyntaxError, parse_source
from engine.templates import RenderedEmail, render_email, sample_context


@dataclass(frozen=True)
class EmailPreview:
    locale: str | None  # None: the default files
    rendered: RenderedEmail | None
    error: str | None = None


@dataclass(frozen=True)
class StepSource:
    yaml: str
    from_source: bool  # False: the deployed YAML is not stored, this is the compiled step
    description: str = ""
    sample: dict[str, Any] = field(default_factory=dict)


def _journey_data(source: str, journey: str) -> dict[str, Any]:
    if not source.strip():
        return {}
    try:
        data = parse_source(source, f"{journey}.yaml").data
    except SourceSyntaxError:
        return {}
    return data if isinstance(data, dict) else {}


def step_source(plan: Plan, node: Node, source: str) -> StepSource:
    """The step as written in the deployed file, or as compiled when the file is not stored."""
    data = _journey_data(source, plan.journey)
    sample, steps = data.get("sample"), data.get("steps")
    sample = sample if isinstance(sample, dict) else {}
    steps = steps if isinstance(steps, list) else []
    written = next((s for s in steps if isinstance(s, dict) and s.get("id") == node.id), None)
    if written is None:
        compiled = node.model_dump(exclude_defaults=True)
        text = yaml.safe_dump(compiled, sort_keys=False, allow_unicode=True, width=80)
        return StepSource(yaml=text, from_source=False, sample=sample)
    text = yaml.safe_dump(written, sort_keys=False, allow_unicode=True, width=80)
    description = written.get("description")
    return StepSource(
        yaml=text,
        from_source=True,
        description=description if isinstance(description, str) else "",
        sample=sample,
    )


def locales(plan: Plan, template: str) -> list[str | None]:
    """The default files first, then each locale with a variant (``subject.id.txt``: ``id``)."""
    found = {
        file.split("/", 1)[1].split(".")[1]
        for file in plan.templates
        if file.startswith(f"{template}/") and file.count(".") == 2
    }
    return [None, *sorted(found)]


def _part(sample: dict[str, Any], key: str) -> dict[str, Any]:
    value = sample.get(key)
    return value if isinstance(value, dict) else {}


def context(plan: Plan, sample: dict[str, Any]) -> dict[str, Any]:
    customer, event, data = (_part(sample, key) for key in ("customer", "event", "data"))
    return sample_context(plan.journey, customer, event, data)


def preview(plan: Plan, node: SendEmailNode, sample: dict[str, Any], locale: str | None) -> EmailPreview:
    try:
        rendered = render_email(plan.templates, node.template, context(plan, sample), locale)
    except TemplateError as exc:  # render_email raises nothing else for a failure inside a template
        return EmailPreview(locale=locale, rendered=None, error=str(exc))
    return EmailPreview(locale=locale, rendered=rendered)


def previews(plan: Plan, node: SendEmailNode, sample: dict[str, Any]) -> list[EmailPreview]:
    return [preview(plan, node, sample, locale) for locale in locales(plan, node.template)]

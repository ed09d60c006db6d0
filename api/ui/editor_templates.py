"""The editor's template tabs: the email templates a journey uses, file by file, and a preview of
one rendered for an editable sample customer, with the files as edited (not yet saved).

``POST /ui/journeys/{name}/templates/preview`` answers the subject, text and any error as JSON;
``POST /ui/journeys/{name}/templates/preview.html`` (a form the page targets at a sandboxed frame)
answers the HTML under the same policy as every email preview: no script, nothing but images."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse
from jinja2 import TemplateError, TemplateSyntaxError
from pydantic import BaseModel, Field, ValidationError

from api.auth import UiPrincipalDep
from api.deps import SettingsDep
from api.routes.journeys import off_loop
from api.ui.params import JourneyName
from api.ui.steps import EMAIL_POLICY
from api.ui.template_edits import TemplateEditError, readable, with_edits
from engine.limits import MAX_FILE_BYTES, TEMPLATE_NAME
from engine.plan import Plan, SendEmailNode
from engine.source import SourceSyntaxError, parse_source
from engine.templates import EMAIL_PARTS, RenderedEmail, TemplateMissing, read_email_sources, render_email
from engine.templates import sample_context as base_context

router = APIRouter(prefix="/ui")
MOST_SAMPLE_BYTES = 16 * 1024


class TemplateTab(BaseModel):
    name: str  # the template (a folder under templates/), or "_shared" for the shared files
    files: dict[str, str]  # file as the plan names it (welcome/body.html) -> its text
    locales: list[str]  # locale variants it has (id, …), besides the default


class PreviewRequest(BaseModel):
    template: str = Field(pattern=TEMPLATE_NAME.pattern)
    locale: str | None = Field(None, pattern=r"^[a-z]{2,3}$")
    sample: dict[str, Any] = Field(
        default_factory=dict, description="the sample: customer (traits), event, data, as a journey's sample:"
    )
    templates: dict[str, str] = Field(default_factory=dict, description="edited files over the saved ones")


class PreviewAnswer(BaseModel):
    subject: str | None = None
    text: str | None = None
    error: str | None = None  # why it does not render (the file and line where known)
    file: str | None = None  # the file the error is in, when known


def _order(name: str) -> tuple[int, str, str]:
    """Subject, HTML, text; each default first, then its locale variants."""
    part = name.split("/", 1)[-1]
    pieces = part.split(".")
    locale = pieces[1] if len(pieces) == 3 else ""
    plain = f"{pieces[0]}.{pieces[-1]}"
    index = EMAIL_PARTS.index(plain) if plain in EMAIL_PARTS else len(EMAIL_PARTS)
    return index, locale, part


def template_tabs(plan: Plan) -> list[TemplateTab]:
    """The plan's email templates (in the order its steps send them) and its shared files."""
    used = list(dict.fromkeys(n.template for n in plan.nodes if isinstance(n, SendEmailNode)))
    tabs = []
    for name in used:
        files = {f: t for f, t in plan.templates.items() if f.startswith(f"{name}/")}
        ordered = dict(sorted(files.items(), key=lambda item: _order(item[0])))
        locales = sorted({f.rsplit("/", 1)[-1].split(".")[1] for f in files if f.count(".") == 2})
        tabs.append(TemplateTab(name=name, files=ordered, locales=locales))
    shared = {f: t for f, t in plan.templates.items() if "/" not in f}
    if shared:
        tabs.append(TemplateTab(name="_shared", files=shared, locales=[]))
    return tabs


def sample_of(source: str) -> dict[str, Any]:
    """The journey's ``sample:`` (customer, event, data: what validation renders templates for)."""
    try:
        data = parse_source(source, "journey.yaml").data
    except SourceSyntaxError:
        return {"customer": {}, "event": {}, "data": {}}
    sample = data.get("sample") if isinstance(data, dict) else None
    sample = sample if isinstance(sample, dict) else {}
    return {key: dict(sample.get(key) or {}) for key in ("customer", "event", "data")}


def _context(journey: str, sample: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(sample, default=str)) > MOST_SAMPLE_BYTES:
        raise TemplateEditError(f"the sample is larger than {MOST_SAMPLE_BYTES // 1024} KB")
    parts = []
    for key in ("customer", "event", "data"):
        part = sample.get(key) or {}
        if not isinstance(part, dict):
            raise TemplateEditError(f"the sample's {key} must be a mapping, not {type(part).__name__}")
        parts.append(part)
    return base_context(journey, *parts)


def _render(settings: SettingsDep, journey: str, ask: PreviewRequest) -> RenderedEmail | PreviewAnswer:
    def work(folder: Any) -> RenderedEmail:
        sources = read_email_sources(folder, ask.template)
        context = _context(journey, ask.sample)
        return render_email(sources, ask.template, context, ask.locale)

    try:
        return with_edits(settings.journeys_dir / "templates", ask.templates, work)
    except TemplateSyntaxError as exc:
        where = f"{exc.name or exc.filename}:{exc.lineno}"
        return PreviewAnswer(
            error=readable(f"syntax error at {where}: {exc.message}"), file=exc.name or exc.filename
        )
    except TemplateError as exc:
        return PreviewAnswer(error=readable(f"does not render for this customer: {exc}"))
    except (TemplateMissing, TemplateEditError) as exc:
        return PreviewAnswer(error=readable(str(exc)))


async def _rendered(settings: SettingsDep, name: str, ask: PreviewRequest) -> RenderedEmail | PreviewAnswer:
    return await off_loop(f"{ask.template} template", lambda: _render(settings, name, ask))


@router.post("/journeys/{name}/templates/preview", response_model=PreviewAnswer)
async def preview_email(
    ask: PreviewRequest, name: JourneyName, _: UiPrincipalDep, settings: SettingsDep
) -> PreviewAnswer:
    """Subject and text of ``ask.template`` rendered for the sample customer, or why not."""
    found = await _rendered(settings, name, ask)
    if isinstance(found, PreviewAnswer):
        return found
    return PreviewAnswer(subject=found.subject, text=found.text)


@router.post("/journeys/{name}/templates/preview.html", response_class=HTMLResponse)
async def preview_email_html(
    name: JourneyName,
    _: UiPrincipalDep,
    settings: SettingsDep,
    payload: str = Form(max_length=4 * MAX_FILE_BYTES),
) -> HTMLResponse:
    """The HTML of the preview, for the page's sandboxed frame (a form posts ``payload``: the same
    JSON as the preview route)."""
    try:
        ask = PreviewRequest.model_validate_json(payload)
    except ValidationError as exc:
        return _email_page(f"<p>The preview asked for is not valid: {exc.error_count()} problem(s).</p>")
    found = await _rendered(settings, name, ask)
    if isinstance(found, PreviewAnswer):
        return _email_page("<p>This email does not render: see the message beside it.</p>")
    return _email_page(found.html)


def _email_page(body: str) -> HTMLResponse:
    return HTMLResponse(body, headers={"Content-Security-Policy": EMAIL_POLICY, "Cache-Control": "no-store"})

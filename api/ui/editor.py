"""The editor page: a journey's YAML beside its live diagram, checked after each pause in typing.

``GET /ui/journeys/{name}/edit`` (anyone signed in; viewers, or everyone when JOURNEYS_UI_EDIT is
false, get it read-only) and ``POST /ui/journeys/{name}/check`` (the text as typed, answered with
its problems or its diagram). Saving is ``POST /ui/journeys/{name}/save`` (api/ui/editor_save.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.auth import Principal, UiPrincipalDep
from api.deps import SettingsDep, StoreDep
from api.ui.checking import Checked, CheckRequest, check
from api.ui.completions import vocabulary
from api.ui.editor_templates import sample_of, template_tabs
from api.ui.graph import diagram
from api.ui.params import JourneyName
from api.ui.templating import page
from api.ui.versions import shown
from config.settings import Settings

router = APIRouter(prefix="/ui")
CHECK_DELAY_MS = 200  # the pause in typing after which the text is checked (bench/ui_editor.py)


def may_save(principal: Principal, settings: Settings) -> tuple[bool, str]:
    """Whether ``principal`` may deploy from the editor, and if not, why (shown on the page)."""
    if not settings.ui_edit:
        return False, "Editing in the browser is turned off here (JOURNEYS_UI_EDIT=false): deploy from git."
    if not principal.can_edit:
        return False, f"{principal.name} is a viewer: viewers may read the journey but not change it."
    return True, ""


@router.get("/journeys/{name}/edit", response_class=HTMLResponse)
async def editor_page(
    request: Request, name: JourneyName, principal: UiPrincipalDep, store: StoreDep, settings: SettingsDep
) -> HTMLResponse:
    view = await shown(store, name, None)
    current = next(v for v in view.versions if v.is_current)
    can_save, why_not = may_save(principal, settings)
    tabs = template_tabs(view.plan)
    context = {
        "plan": view.plan,
        "source": current.source,
        "diagram": diagram(view.plan),
        "templates": tabs,
        "templates_data": [tab.model_dump() for tab in tabs],
        "sample": sample_of(current.source),
        "vocabulary": await vocabulary(store, settings.journeys_dir),
        "can_save": can_save,
        "why_not": why_not,
        "check_delay_ms": CHECK_DELAY_MS,
    }
    return page(request, "editor.html", principal, context, style_nonce=True)


@router.post("/journeys/{name}/check", response_model=Checked)
async def check_text(
    body: CheckRequest, name: JourneyName, _: UiPrincipalDep, settings: SettingsDep
) -> Checked:
    """The problems of the YAML (with the edited template files over the saved ones), each at its
    line, column, step and template, with the CLI's words; or, when it has none, its diagram.
    Changes nothing (a viewer may check too)."""
    data = body.source.encode("utf-8")
    return await check(data, f"{name}.yaml", settings.journeys_dir, journey=name, templates=body.templates)

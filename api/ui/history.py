"""A journey's history page: who deployed which version when (``GET /ui/journeys/{name}/history``),
the YAML and plan diff between any two deployed versions (``?before=…&after=…``), and, for editors
where JOURNEYS_UI_EDIT allows, rolling back to an earlier version (``POST …/rollback``, recorded in
the history under the editor's name, through the one deploy path ``api.deploying.rollback``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.auth import UiPrincipalDep
from api.deploying import rollback
from api.deps import RouterDep, SettingsDep, StoreDep
from api.routes.journeys import off_loop
from api.ui.editor import may_save
from api.ui.params import JourneyName, Version
from api.ui.templating import page
from engine.plan_diff import diff_plans, yaml_diff
from store.deployments import StoredVersion

router = APIRouter(prefix="/ui")
MOST_ROWS = 200
VERSION_FORM = Form(pattern=r"^[A-Za-z0-9._-]+$", max_length=100)


async def _stored(store: StoreDep, name: str, version: str) -> StoredVersion:
    found = await store.deployments.get(name, version)
    if found is None:
        raise HTTPException(404, detail=f"journey {name!r} has no version {version!r}")
    return found


@router.get("/journeys/{name}/history", response_class=HTMLResponse)
async def history_page(
    request: Request,
    name: JourneyName,
    principal: UiPrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
    before: Version = None,
    after: Version = None,
    rolled_back: Version = None,
) -> HTMLResponse:
    current = await store.deployments.get(name)
    if current is None:
        raise HTTPException(404, detail=f"no journey {name!r} is deployed")
    rows = await store.deployments.history(name, limit=MOST_ROWS)
    versions = await store.deployments.versions(name)
    after = after or current.version
    before = before or next((v.version for v in versions if v.version != after), after)
    old, new = await _stored(store, name, before), await _stored(store, name, after)
    file = f"{name}.yaml"
    text = await off_loop(
        file,
        lambda: yaml_diff(
            old.source, new.source, before_name=f"{file}@{before}", after_name=f"{file}@{after}"
        ),
    )
    can_roll_back, why_not = may_save(principal, settings)
    context = {
        "name": name,
        "current": current,
        "rows": rows,
        "versions": versions,
        "before": before,
        "after": after,
        "plan_diff": diff_plans(old.plan, new.plan),
        "yaml_diff": text,
        "can_roll_back": can_roll_back,
        "why_not": why_not,
        "rolled_back": rolled_back,
    }
    return page(request, "history.html", principal, context)


@router.post("/journeys/{name}/rollback")
async def roll_back(
    name: JourneyName,
    principal: UiPrincipalDep,
    store: StoreDep,
    events: RouterDep,
    settings: SettingsDep,
    version: Annotated[str, VERSION_FORM],
) -> RedirectResponse:
    allowed, why_not = may_save(principal, settings)
    if not allowed:
        raise HTTPException(403, detail=why_not)
    result = await rollback(
        name, version, store=store, events=events, settings=settings, deployed_by=principal.name
    )
    if result is None:
        raise HTTPException(404, detail=f"journey {name!r} has no version {version!r}")
    return RedirectResponse(
        f"/ui/journeys/{quote(name)}/history?rolled_back={quote(version)}", status_code=303
    )

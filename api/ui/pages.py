"""The pages: ``/ui`` (to the journeys page), the journeys page, and a journey drawn with live counts."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.auth import UiPrincipalDep
from api.deps import StoreDep
from api.ui.graph import diagram
from api.ui.live import live_counts
from api.ui.overview import journey_rows
from api.ui.params import JourneyName, Version
from api.ui.templating import page
from api.ui.versions import shown

router = APIRouter(prefix="/ui")
REFRESH_SECONDS = 3


@router.get("")
async def home() -> RedirectResponse:
    return RedirectResponse("/ui/journeys", status_code=303)


@router.get("/journeys", response_class=HTMLResponse)
async def journeys_page(request: Request, principal: UiPrincipalDep, store: StoreDep) -> HTMLResponse:
    rows = await journey_rows(store, datetime.now(UTC))
    return page(request, "journeys.html", principal, {"rows": rows})


@router.get("/journeys/{name}", response_class=HTMLResponse)
async def journey_page(
    request: Request, name: JourneyName, principal: UiPrincipalDep, store: StoreDep, version: Version = None
) -> HTMLResponse:
    view = await shown(store, name, version)
    drawn = diagram(view.plan)
    counts = await store.steps.counts(name, view.plan.version)
    context = {
        "plan": view.plan,
        "view": view,
        "diagram": drawn,
        "counts": live_counts(drawn, counts),
        "paused": await store.deployments.is_paused(name),
        "refresh_seconds": REFRESH_SECONDS,
    }
    return page(request, "journey.html", principal, context)

"""The results panel of the journey page (``/ui/journeys/{name}/results``, an HTML fragment the page
loads after it is drawn): the journey's results as ``GET /v1/journeys/{name}/results`` answers
them — every version's customers, the current version's steps — per step, variant and split, and
against the global control group when the channel policy has one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.auth import UiPrincipalDep
from api.deps import StoreDep
from api.routes.journeys import current
from api.routes.reports import get_results
from api.ui.incrementality_view import incrementality_view
from api.ui.params import JourneyName
from api.ui.results_view import results_view
from api.ui.templating import page

router = APIRouter(prefix="/ui")
WindowDays = Annotated[int, Query(ge=1, le=90, description="attribution window after a message, in days")]


@router.get("/journeys/{name}/results", response_class=HTMLResponse)
async def results_panel(
    request: Request,
    name: JourneyName,
    principal: UiPrincipalDep,
    store: StoreDep,
    window_days: WindowDays = 7,
) -> HTMLResponse:
    plan = await current(store, name)
    results = await get_results(name, store, window_days=window_days, alpha=0.05)
    view = results_view(plan, results)
    against_control = incrementality_view(results.incrementality, view.confidence)
    return page(
        request, "results_panel.html", principal, {"results": view, "incrementality": against_control}
    )

"""The segments page: every segment of ``journeys/segments`` with its condition as written and its
size now, read as ``GET /v1/segments`` reads them (``api.routes.segments.sized_segments``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.auth import UiPrincipalDep
from api.deps import RouterDep, StoreDep
from api.routes.segments import sized_segments
from api.ui.templating import page

router = APIRouter(prefix="/ui")


@router.get("/segments", response_class=HTMLResponse)
async def segments_page(
    request: Request, principal: UiPrincipalDep, store: StoreDep, events: RouterDep
) -> HTMLResponse:
    segments = await sized_segments(store, events)
    return page(request, "segments.html", principal, {"segments": segments})

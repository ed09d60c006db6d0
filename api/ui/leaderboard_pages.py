"""The leaderboards page: every board of the active loyalty program, this period or the one before."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.auth import UiPrincipalDep
from api.deps import StoreDep
from api.ui.leaderboard_view import leaderboards_view
from api.ui.templating import page
from store.leaderboards import Which
from store.types import utcnow

router = APIRouter(prefix="/ui")
Period = Annotated[Which, Query(description="this week or month, or the one before")]


@router.get("/leaderboards", response_class=HTMLResponse)
async def leaderboards_page(
    request: Request, principal: UiPrincipalDep, store: StoreDep, period: Period = "current"
) -> HTMLResponse:
    view = await leaderboards_view(store, period, utcnow())
    return page(request, "leaderboards.html", principal, {"view": view})

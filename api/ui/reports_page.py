"""The reports page ``/ui/reports``: lifecycle stages per day and the changes between them,
sign-ups by source with the share reaching a first purchase, and lifetime value overall and by
source, for a range of UTC days (``from`` and ``to``, as the report routes take them). A range
the reports refuse answers the page with the form and what is wrong (422), not JSON."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.auth import UiPrincipalDep
from api.deps import StoreDep
from api.routes.reports import get_acquisition, get_clv, get_lifecycle
from api.ui.report_view import reports_view
from api.ui.templating import page
from measurement.ranges import DayRange, RangeError, day_range
from store.types import utcnow

router = APIRouter(prefix="/ui")
DAY_TEXT = 10  # YYYY-MM-DD
FromDay = Annotated[str | None, Query(alias="from", max_length=40, description="first UTC day, YYYY-MM-DD")]
ToDay = Annotated[str | None, Query(alias="to", max_length=40, description="last UTC day, YYYY-MM-DD")]


class BadRange(ValueError):
    pass


def _day(text: str | None, name: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None  # an emptied date field
    try:
        if len(text) != DAY_TEXT:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise BadRange(f"“{name}” is not a date (YYYY-MM-DD): {text[:40]}") from exc


def parse_range(first: str | None, last: str | None, today: date) -> DayRange:
    """The range the form asks for; without either day, the 30 days to ``today``."""
    try:
        return day_range(_day(first, "From"), _day(last, "To"), today)
    except RangeError as exc:
        raise BadRange(str(exc)) from exc


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(
    request: Request,
    principal: UiPrincipalDep,
    store: StoreDep,
    first: FromDay = None,
    last: ToDay = None,
) -> HTMLResponse:
    today = utcnow().date()
    try:
        days = parse_range(first, last, today)
    except BadRange as exc:
        context = {"error": str(exc), "asked": {"from": (first or "")[:40], "to": (last or "")[:40]}}
        return page(request, "reports.html", principal, {"view": None, **context}, status_code=422)
    shown = {"from": days.first.isoformat(), "to": days.last.isoformat()}
    lifecycle = await get_lifecycle(store, shown["from"], shown["to"])
    acquisition = await get_acquisition(store, shown["from"], shown["to"])
    clv = await get_clv(store, limit=1, offset=0)
    view = reports_view(days, today, lifecycle, acquisition, clv)
    return page(request, "reports.html", principal, {"view": view, "error": None, "asked": shown})

"""Open and click tracking of emails, without a key (like unsubscribe links): the signed token is
the whole authority, and names one message (and one of its links).

GET /t/o/{token} counts an open and answers a 1x1 GIF that no cache keeps. GET /t/c/{token} counts a
click and redirects (302) to the link's URL as the store kept it when the email was sent: nothing in
the request picks the target, so no one can send a visitor elsewhere through us. A token that is
forged, damaged, too long, of a message not tracked here, or of a link the message does not have,
gets a 404 page and no redirect.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activities.tracking_tokens import verify_click, verify_open
from api.deps import SettingsDep, StoreDep
from api.routes.unsubscribe import INVALID_LINK, page
from store.engagement import record_click, record_open
from store.types import utcnow

router = APIRouter(prefix="/t", tags=["tracking"])

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")  # 1x1, transparent
NO_CACHE = {"Cache-Control": "no-store, no-cache, must-revalidate, max-age=0", "Pragma": "no-cache"}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "content": {"text/html": {"schema": {"type": "string"}}},
        "description": "The link is forged, damaged or unknown: nothing is counted, nothing redirected",
    },
    422: INVALID_LINK[422],  # FastAPI's own, declared as the ValidationProblem every 422 is
}


def not_found() -> HTMLResponse:
    return page("Link not found", "<p>This link is not valid.</p>", status_code=404, headers={**NO_CACHE})


@router.get(
    "/o/{token}",
    response_class=Response,
    responses={
        200: {
            "content": {"image/gif": {"schema": {"type": "string", "format": "binary"}}},
            "description": "A 1x1 GIF",
        },
        **NOT_FOUND,
    },
    summary="Open pixel of an email",
)
async def opened(token: str, settings: SettingsDep, store: StoreDep) -> Response:
    message = verify_open(token, settings.unsubscribe_secret)
    if message is None or not await record_open(store.engine, message, utcnow()):
        return not_found()
    return Response(PIXEL, media_type="image/gif", headers=NO_CACHE)


@router.get(
    "/c/{token}",
    status_code=302,
    response_class=Response,
    responses={
        302: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "To the link's URL as sent (empty body)",
            "headers": {"Location": {"schema": {"type": "string"}, "description": "the link's URL"}},
        },
        **NOT_FOUND,
    },
    summary="Tracked link of an email",
)
async def clicked(token: str, settings: SettingsDep, store: StoreDep) -> Response:
    click = verify_click(token, settings.unsubscribe_secret)
    url = None if click is None else await record_click(store.engine, click.message, click.link, utcnow())
    if url is None:
        return not_found()
    return RedirectResponse(url, status_code=302, headers={**NO_CACHE, "Referrer-Policy": "no-referrer"})

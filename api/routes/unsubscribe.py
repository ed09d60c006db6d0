"""Unsubscribe links from emails: a confirmation page (GET) and RFC 8058 one-click (POST).

GET never unsubscribes (mail scanners follow links); POST routes an ``unsubscribed`` event: the router
withdraws consent in the store first, then tells the journeys that ``exit_on`` it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from html import escape
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from activities.unsubscribe_tokens import verify_token
from api.deps import RouterDep, SettingsDep
from api.errors import INVALID, RETRY_AFTER_SECONDS, Responses
from contracts.events import CustomerEvent
from ingest.outages import is_outage
from ingest.router import UNSUBSCRIBE_EVENT

router = APIRouter(prefix="/unsubscribe", tags=["unsubscribe"])
log = logging.getLogger("journeys.api")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.6rem 1.2rem}}</style></head>
<body><h1>{title}</h1>{body}</body></html>
"""
HTML: dict[str, Any] = {"content": {"text/html": {"schema": {"type": "string"}}}}
INVALID_LINK: Responses = {
    400: {**HTML, "description": "The link is malformed or forged"},
    # Declared by hand: these routes answer HTML, but FastAPI's own 422 is JSON.
    422: {
        "description": INVALID[422]["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}},
    },
}


def page(
    title: str, body: str, status_code: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(title=escape(title), body=body), status_code=status_code, headers=headers
    )


def invalid_link() -> HTMLResponse:
    return page("Invalid link", "<p>This unsubscribe link is not valid.</p>", status_code=400)


@router.get(
    "/{token}",
    response_class=HTMLResponse,
    responses={200: {**HTML, "description": "A confirmation page"}, **INVALID_LINK},
    summary="Unsubscribe confirmation page",
)
async def confirm(token: str, settings: SettingsDep) -> HTMLResponse:
    if verify_token(token, settings.unsubscribe_secret) is None:
        return invalid_link()
    form = (
        "<p>Stop receiving marketing email from us?</p>"
        f'<form method="post" action="/unsubscribe/{escape(token)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return page("Unsubscribe", form)


@router.post(
    "/{token}",
    response_class=HTMLResponse,
    responses={
        200: {**HTML, "description": "Unsubscribed"},
        **INVALID_LINK,
        503: {
            **HTML,
            "description": "Consent was withdrawn, but journeys could not be told yet: retry",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        },
    },
    summary="Unsubscribe (RFC 8058 one-click)",
)
async def unsubscribe(token: str, settings: SettingsDep, events: RouterDep) -> HTMLResponse:
    """The body (``List-Unsubscribe=One-Click``) is not needed: the signed token names the customer."""
    customer_id = verify_token(token, settings.unsubscribe_secret)
    if customer_id is None:
        return invalid_link()
    # Consent is withdrawn before any journey is told: an outage of Temporal still unsubscribes.
    event = CustomerEvent(
        event_id=f"unsubscribe-{uuid.uuid4().hex}",
        customer_id=customer_id,
        name=UNSUBSCRIBE_EVENT,
        timestamp=datetime.now(UTC),
    )
    try:
        await events.route(event)
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("unsubscribe of %s recorded, but journeys not told: %s", customer_id, exc)
        return page(
            "Please try again",
            "<p>We stopped your marketing email, but could not finish. Please try again in a moment.</p>",
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return page("You are unsubscribed", "<p>You will receive no more marketing email from us.</p>")

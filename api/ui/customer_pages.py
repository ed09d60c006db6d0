"""The customer pages: find a customer by id or email, a customer's page, and an email they were
sent, as sent (its HTML framed, sandboxed, under the same policy as the step panel's preview).
Unknown customers and messages get a page in the UI's style (404), not JSON."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import Principal, UiPrincipalDep
from api.deps import SettingsDep, StoreDep
from api.ui import customer_reads as reads
from api.ui.customer_loyalty import refusal_words
from api.ui.customer_view import customer_view, display_name
from api.ui.params import storable
from api.ui.steps import EMAIL_POLICY
from api.ui.templating import page
from contracts.ids import id_problem
from store.customers import Customer
from store.database import Store

router = APIRouter(prefix="/ui")
MATCHES_SHOWN = 50  # customers listed for one email
QUERY_LENGTH = 320  # the longest id (200) or email (320) there can be
MESSAGE_KEY_LENGTH = 500  # an idempotency key's column

Message = Annotated[str | None, Query(max_length=MESSAGE_KEY_LENGTH, description="the delivery's key")]
LedgerBefore = Annotated[
    int | None, Query(ge=1, le=2**62, description="the ledger entry the page starts before")
]


def customer_url(customer_id: str) -> str:
    return f"/ui/customers/{quote(customer_id, safe='')}"


def _missing(request: Request, principal: Principal, what: str, query: str = "") -> HTMLResponse:
    return page(request, "customer_missing.html", principal, {"what": what, "query": query}, status_code=404)


async def _known(store: Store, customer_id: str) -> Customer | None:
    return None if id_problem(customer_id) else await store.customers.get(customer_id)


@router.get("/customers", response_class=HTMLResponse)
async def find_page(
    request: Request, principal: UiPrincipalDep, store: StoreDep, q: str | None = None
) -> Response:
    """Exact id first, else exact email whatever its case: one match opens that customer's page."""
    query = (q or "").strip()
    matches: list[reads.Found] = []
    if query and len(query) <= QUERY_LENGTH and storable(query):
        if await _known(store, query) is not None:
            return RedirectResponse(customer_url(query), status_code=303)
        matches = await reads.by_email(store, query, limit=MATCHES_SHOWN + 1)
        if len(matches) == 1:
            return RedirectResponse(customer_url(matches[0].id), status_code=303)
    context = {
        "query": query[:QUERY_LENGTH],
        "searched": bool(query),
        "matches": matches[:MATCHES_SHOWN],
        "more_matches": len(matches) > MATCHES_SHOWN,
    }
    return page(request, "customers.html", principal, context)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
async def customer_page(
    request: Request,
    customer_id: str,
    principal: UiPrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
    ledger_before: LedgerBefore = None,
) -> HTMLResponse:
    customer = await _known(store, customer_id)
    if customer is None:
        return _missing(request, principal, f"No customer with id “{customer_id[:QUERY_LENGTH]}”.")
    view = await customer_view(store, settings, customer, ledger_before=ledger_before)
    context = {
        "view": view,
        "customer": customer,
        "base": customer_url(customer.id),
        "refusal": refusal_words,
    }
    return page(request, "customer.html", principal, context)


@router.get("/customers/{customer_id}/messages", response_class=HTMLResponse)
async def message_page(
    request: Request, customer_id: str, principal: UiPrincipalDep, store: StoreDep, key: Message = None
) -> HTMLResponse:
    """An email the customer was sent: subject, recipient and text, the HTML in a sandboxed frame."""
    customer = await _known(store, customer_id)
    if customer is None:
        return _missing(request, principal, f"No customer with id “{customer_id[:QUERY_LENGTH]}”.")
    message = await store.deliveries.sent_message(key) if key and storable(key) else None
    if message is None or message.customer_id != customer.id:
        return _missing(
            request, principal, f"{display_name(customer)} was sent no email kept as “{key or ''}”."
        )
    context = {
        "customer": customer,
        "name": display_name(customer),
        "message": message,
        "base": customer_url(customer.id),
        "frame_url": f"{customer_url(customer.id)}/messages/html?key={quote(message.key, safe='')}",
    }
    return page(request, "customer_message.html", principal, context)


@router.get("/customers/{customer_id}/messages/html", response_class=HTMLResponse)
async def message_html(
    customer_id: str, _: UiPrincipalDep, store: StoreDep, key: Message = None
) -> HTMLResponse:
    """The HTML of an email as sent, for the frame: no script, nothing loaded but images."""
    message = await store.deliveries.sent_message(key) if key and storable(key) else None
    if message is None or message.customer_id != customer_id or message.html is None:
        body, status = "<p>This email has no HTML part to show.</p>", 404
    else:
        body, status = message.html, 200
    headers = {
        "Content-Security-Policy": EMAIL_POLICY,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return HTMLResponse(body, status_code=status, headers=headers)

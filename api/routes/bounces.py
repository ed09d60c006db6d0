"""POST /v1/webhooks/bounces: an email provider reports a hard bounce or a complaint, and the address
is suppressed. Generic: ``{email, type: bounce|complaint, reason?, message_id?}`` (a provider's own
payload is mapped to it by a small relay, or by the provider's templated webhooks).

The suppression is stored first (no email goes to the address again: the send path skips it with
``suppressed: bounce``), then every customer with the address (at most ``MAX_CUSTOMERS``) gets an
``unsubscribed`` event, as an unsubscribe link gives: consent is withdrawn and journeys that
``exit_on: [unsubscribed]`` end. A report again (providers retry) changes nothing: the same event
ids are duplicates. During a Temporal outage the answer is 503 with ``Retry-After``; the address is
suppressed already, and the retry tells the journeys.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api.deps import RouterDep, StoreDep
from api.errors import IN_FLIGHT, INVALID, TOO_LARGE, UNAUTHORIZED, UNAVAILABLE, responses
from api.schemas import NO_CONTROL
from contracts.events import CustomerEvent
from contracts.ids import derived_id
from ingest.router import UNSUBSCRIBE_EVENT
from store.suppressions import address_key, suppress
from store.types import utcnow

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
# Looser than a customer's e-mail (a provider reports what it was given), but one line of text.
BOUNCED_ADDRESS = rf"^[^@\s{NO_CONTROL}]+@[^@\s{NO_CONTROL}]+$"
_CONTROL = re.compile(rf"[{NO_CONTROL}]")
# JSON may carry a lone surrogate ("\ud800"), which is no text: no driver can send it to the store.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _one_line(value: Any) -> Any:
    """A provider's diagnostic often spans lines (and could hold a NUL, which PostgreSQL refuses, or
    a lone surrogate, which no UTF-8 store takes): kept as one line of text, control characters as
    spaces and lone surrogates as U+FFFD, never a reason to refuse the report and lose the suppression."""
    if not isinstance(value, str):
        return value
    return _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", value))


ProviderText = Annotated[str, BeforeValidator(_one_line)]


class BounceReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        min_length=3, max_length=320, pattern=BOUNCED_ADDRESS, description="the address that bounced"
    )
    type: Literal["bounce", "complaint"] = Field(description="a hard bounce, or a spam complaint")
    reason: ProviderText | None = Field(
        None, max_length=500, description="the provider's words, kept with it (control characters as spaces)"
    )
    message_id: ProviderText | None = Field(None, max_length=500, description="the Message-ID of the email")


class BounceAccepted(BaseModel):
    suppressed: str = Field(description="what the address is suppressed for: the first report's type")
    duplicate: bool = Field(description="the address was suppressed already; this report changed nothing")
    customers: int = Field(description="customers with the address, unsubscribed")


@router.post(
    "/bounces",
    responses=responses(UNAUTHORIZED, TOO_LARGE, INVALID, IN_FLIGHT, UNAVAILABLE),
    summary="Report a bounce or complaint (suppresses the address)",
)
async def bounced(report: BounceReport, store: StoreDep, events: RouterDep) -> BounceAccepted:
    now = utcnow()
    result = await suppress(
        store.engine, report.email, report.type, reason=report.reason, message_id=report.message_id, at=now
    )
    reason = f"suppressed: {result.kind}"
    for customer_id in result.customers:
        await events.route(
            CustomerEvent(
                # One id per address and customer: a repeated report is a duplicate event.
                event_id=derived_id(
                    f"suppressed/{address_key(report.email)[:32]}/{customer_id}", "unsubscribed"
                ),
                customer_id=customer_id,
                name=UNSUBSCRIBE_EVENT,
                properties={"reason": reason},
                timestamp=now,
            )
        )
    return BounceAccepted(suppressed=result.kind, duplicate=not result.new, customers=len(result.customers))

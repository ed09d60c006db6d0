"""The variables a step's templates see: customer, trigger event, journey data, unsubscribe link."""

from __future__ import annotations

from typing import Any

from contracts.activities import StepContext
from contracts.customers import CustomerSnapshot


def template_context(
    req: StepContext,
    customer: CustomerSnapshot,
    event: dict[str, Any],
    data: dict[str, Any],
    unsubscribe_url: str,
) -> dict[str, Any]:
    return {
        "customer": customer.as_context(),
        "event": event,
        "data": data,
        "journey": {"name": req.journey, "version": req.version},
        "unsubscribe_url": unsubscribe_url,
    }

"""Which Temporal failures are outages (answer 503 and let the sender retry) rather than bugs."""

from __future__ import annotations

from temporalio.service import RPCError, RPCStatusCode

OUTAGE_STATUSES = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)


class TemporalUnavailable(Exception):
    """Temporal could not be reached; the event was not acknowledged and should be sent again."""


def is_outage(exc: RPCError) -> bool:
    return exc.status in OUTAGE_STATUSES


def unavailable_or(exc: RPCError) -> Exception:
    """Outages become ``TemporalUnavailable`` (the API answers 503 + Retry-After); bugs stay errors."""
    return TemporalUnavailable(str(exc)) if is_outage(exc) else exc

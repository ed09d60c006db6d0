"""Which Temporal failures are outages (answer 503 and let the sender retry) rather than bugs."""

from __future__ import annotations

from temporalio.service import RPCError, RPCStatusCode

# RESOURCE_EXHAUSTED: Temporal is overloaded or rate-limits the namespace; it asks to be called later.
OUTAGE_STATUSES = (
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
)


class TemporalUnavailable(Exception):
    """Temporal could not be reached; the event was not acknowledged and should be sent again."""


def is_outage(exc: BaseException) -> bool:
    """Temporal could not be reached: said so, a failed call, or a lazy client that could not connect."""
    if isinstance(exc, TemporalUnavailable):
        return True
    if isinstance(exc, RPCError):
        return exc.status in OUTAGE_STATUSES
    # A lazily connected client that cannot reach Temporal raises this rather than an RPCError.
    return isinstance(exc, RuntimeError) and str(exc).startswith("Failed client connect")


def unavailable_or(exc: RPCError) -> Exception:
    """Outages become ``TemporalUnavailable`` (the API answers 503 + Retry-After); bugs stay errors."""
    return TemporalUnavailable(str(exc)) if is_outage(exc) else exc

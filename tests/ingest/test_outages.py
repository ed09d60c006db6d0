"""Which Temporal failures the API answers 503 + Retry-After (send again) and which 502."""

from __future__ import annotations

import pytest
from temporalio.service import RPCError, RPCStatusCode

from ingest.outages import is_outage


@pytest.mark.parametrize(
    "status",
    [
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.RESOURCE_EXHAUSTED,  # overloaded or rate-limited: it asks to be called later
    ],
)
def test_a_temporal_that_cannot_answer_now_is_an_outage(status: RPCStatusCode) -> None:
    assert is_outage(RPCError("try later", status, b""))


@pytest.mark.parametrize(
    "status", [RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.NOT_FOUND]
)
def test_a_call_temporal_refuses_for_what_it_is_is_not(status: RPCStatusCode) -> None:
    assert not is_outage(RPCError("refused", status, b""))


def test_a_lazy_client_that_could_not_connect_is_an_outage() -> None:
    assert is_outage(RuntimeError("Failed client connect: connection refused"))
    assert not is_outage(RuntimeError("something else"))

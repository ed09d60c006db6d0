"""A customer's runs in Temporal: which journeys are in flight for them, their status, ending them.

Workflow ids are deterministic (``journey/{name}/{customer}``), so this needs no visibility query:
one describe and one ``status`` query per deployed journey, side by side.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from contracts.visibility import workflow_id
from workflows.models import JourneyStatus

QUERY_TIMEOUT = timedelta(seconds=10)
SENDS = {"send_email", "send_webhook"}


async def _describe(client: Client, journey: str, customer_id: str) -> WorkflowExecutionDescription | None:
    """The run, if one is running."""
    handle = client.get_workflow_handle(workflow_id(journey, customer_id))
    try:
        description = await handle.describe(rpc_timeout=QUERY_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return description if description.status == WorkflowExecutionStatus.RUNNING else None


async def running(client: Client, journey: str, customer_id: str) -> bool:
    return await _describe(client, journey, customer_id) is not None


def retrying(description: WorkflowExecutionDescription) -> str | None:
    """Why a send of the run is being retried (``retrying: <reason>``), or None if none is."""
    for pending in description.raw_description.pending_activities:
        if pending.activity_type.name in SENDS and pending.attempt > 1:
            reason = pending.last_failure.message or "failed"
            return f"retrying: {reason} (attempt {pending.attempt})"
    return None


async def status(client: Client, journey: str, customer_id: str) -> JourneyStatus | None:
    """The status of the customer's run of ``journey``, or None if none is running. A step whose
    send is being retried (SMTP down, say) shows ``retrying: <reason>`` as its outcome."""
    description = await _describe(client, journey, customer_id)
    if description is None:
        return None
    try:
        found: JourneyStatus = await client.get_workflow_handle(workflow_id(journey, customer_id)).query(
            "status", result_type=JourneyStatus, rpc_timeout=QUERY_TIMEOUT
        )
    except (WorkflowQueryFailedError, RPCError) as exc:
        if isinstance(exc, RPCError) and exc.status != RPCStatusCode.NOT_FOUND:
            raise
        return None  # ended between the describe and the query
    trouble = retrying(description)
    if trouble is not None and found.steps and found.steps[-1].step == found.current_step:
        found.steps[-1] = found.steps[-1].model_copy(update={"outcome": trouble})
    return found


async def in_flight(client: Client, journeys: list[str], customer_id: str) -> list[JourneyStatus]:
    """The status of every run of the customer among ``journeys``, in that order."""
    found = await asyncio.gather(*(status(client, name, customer_id) for name in journeys))
    return [run for run in found if run is not None]


async def end_runs(client: Client, journeys: list[str], customer_id: str, reason: str) -> list[str]:
    """Terminate the customer's running journeys; the names of those that were running."""

    async def end(journey: str) -> str | None:
        if not await running(client, journey, customer_id):
            return None
        try:
            await client.get_workflow_handle(workflow_id(journey, customer_id)).terminate(reason=reason)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None  # it ended on its own meanwhile
            raise
        return journey

    ended = await asyncio.gather(*(end(name) for name in journeys))
    return [name for name in ended if name is not None]

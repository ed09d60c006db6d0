"""Referrals and challenges of one customer: their code, their referees and refused referrals, and
their progress in the program's challenges."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from api.deps import StoreDep
from api.errors import INVALID, UNAUTHORIZED, responses
from api.routes.customers import NOT_FOUND, CustomerId, existing
from api.schemas_referrals import ChallengeProgressOut, ChallengesOut, ReferralCodeOut, ReferralsOut
from store import challenges, referrals
from store.reading import reading
from store.types import utcnow

router = APIRouter(prefix="/customers/{customer_id}", tags=["referrals"])


@router.get(
    "/referral-code",
    response_model=ReferralCodeOut,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID),
    summary="The customer's referral code",
)
async def get_referral_code(customer_id: CustomerId, store: StoreDep) -> ReferralCodeOut:
    """Made on the first request (unique, 9 characters without 0/O and 1/I), the same ever after."""
    await existing(store, customer_id)
    async with store.engine.begin() as conn:
        code = await referrals.code_for(conn, customer_id, utcnow())
    return ReferralCodeOut(customer_id=customer_id, code=code)


@router.get(
    "/referrals",
    response_model=ReferralsOut,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID),
    summary="The customer's referees, with status, and refused referrals with their reasons",
)
async def get_referrals(customer_id: CustomerId, store: StoreDep) -> ReferralsOut:
    """At most 500 referees and 500 refused attempts, newest first."""
    await existing(store, customer_id)
    async with reading(store.engine).connect() as conn:
        view = await referrals.referrals_view(conn, customer_id)
    return ReferralsOut.model_validate({"customer_id": customer_id, **asdict(view)})


@router.get(
    "/challenges",
    response_model=ChallengesOut,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID),
    summary="The customer's progress in every challenge of the active program",
)
async def get_challenges(customer_id: CustomerId, store: StoreDep) -> ChallengesOut:
    """An empty list when no loyalty program is deployed."""
    await existing(store, customer_id)
    program = await store.loyalty_programs.active()
    found: list[challenges.Progress] = []
    if program is not None:
        async with reading(store.engine).connect() as conn:
            found = await challenges.progress(conn, program, customer_id, utcnow())
    return ChallengesOut(
        customer_id=customer_id,
        challenges=[ChallengeProgressOut.model_validate(asdict(item)) for item in found],
    )

"""The loyalty program over HTTP: the program (read, deploy), the rewards catalog, redeeming a reward,
a customer's wallet and ledger, and uploading a reward's voucher pool."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse

from api.deploying import deploy_program
from api.deps import RouterDep, SettingsDep, StoreDep
from api.errors import INVALID, TOO_LARGE, UNAUTHORIZED, problem, responses
from api.routes.customers import NOT_FOUND, CustomerId, existing
from api.routes.journeys import invalid, yaml_body
from api.routes.program_files import active_or_404, active_with_source, deployed_fields, file_invalid
from api.schemas_loyalty import (
    LedgerPageOut,
    LedgerRowOut,
    ProgramDeployedOut,
    ProgramOut,
    RedeemRewardIn,
    RedemptionOut,
    RewardOut,
    RewardRefusedProblem,
    TierOut,
    VoucherUploadIn,
    VoucherUploadOut,
    WalletOut,
)
from engine.errors import JourneyValidationError
from engine.loyalty.program import Program
from store import rewards, wallet_read
from store.database import Store
from store.types import utcnow

router = APIRouter(tags=["loyalty"])
RewardId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=100, description="reward id")]
NO_PROGRAM = problem(404, "No loyalty program has been deployed")
NO_REWARD = problem(404, "No such customer, or no such reward in the active program")
REFUSED = problem(
    409,
    "The redemption was refused (reason: points, tier, stock, limit, pool_empty, key_reused, with the "
    "numbers behind it); nothing was changed",
    RewardRefusedProblem,
)
NOT_A_POOL = problem(409, "The reward's vouchers are generated, not taken from a pool")
PROGRAM_INVALID = file_invalid("program")
YAML_BODY = yaml_body("the loyalty program file (YAML)")
NO_PROGRAM_DETAIL = "no loyalty program has been deployed"


async def active(store: Store) -> Program:
    return await active_or_404(store.loyalty_programs, NO_PROGRAM_DETAIL)


def program_out(program: Program, source: str) -> ProgramOut:
    tiers = program.source.tiers
    return ProgramOut(
        program=program.source.program,
        version=program.version,
        description=program.source.description,
        qualify_on=tiers.qualify_on,
        tiers=[TierOut.model_validate(tier.model_dump()) for tier in tiers.levels],
        definition=program.source.model_dump(mode="json"),
        source=source,
    )


@router.get(
    "/loyalty/program",
    response_model=ProgramOut,
    responses=responses(UNAUTHORIZED, NO_PROGRAM),
    summary="The active loyalty program",
)
async def get_program(store: StoreDep) -> ProgramOut:
    program, source = await active_with_source(store.loyalty_programs, NO_PROGRAM_DETAIL)
    return program_out(program, source)


@router.put(
    "/loyalty/program",
    response_model=ProgramDeployedOut,
    responses=responses(UNAUTHORIZED, TOO_LARGE, PROGRAM_INVALID),
    openapi_extra=YAML_BODY,
    summary="Deploy the loyalty program (journeys/loyalty.yaml)",
)
async def put_program(
    request: Request, store: StoreDep, events: RouterDep, settings: SettingsDep
) -> ProgramDeployedOut | JSONResponse:
    """Validated like a journey (422 with every problem, positioned); the new version applies from
    the next event. Deploying the active version again changes nothing (``new: false``)."""
    try:
        result = await deploy_program(await request.body(), store=store, events=events, settings=settings)
    except JourneyValidationError as exc:
        return invalid(exc.errors)
    return ProgramDeployedOut(program=result.deployed.source.program, **deployed_fields(result))


@router.get(
    "/loyalty/rewards",
    response_model=list[RewardOut],
    responses=responses(UNAUTHORIZED),
    summary="The rewards catalog, with what is left of each",
)
async def get_rewards(store: StoreDep) -> list[RewardOut]:
    """An empty list when no loyalty program is deployed."""
    program = await store.loyalty_programs.active()
    if program is None:
        return []
    return [
        RewardOut(
            **item.reward.model_dump(include={"id", "name", "cost", "tier", "stock", "per_customer"}),
            valid_for=item.reward.valid_for,
            vouchers=item.reward.vouchers,
            stock_left=item.stock_left,
            redeemed=item.redeemed,
            pool_available=item.pool_available,
        )
        for item in await rewards.catalog(store.engine, program)
    ]


def reward_key(customer_id: str, key: str) -> str:
    """Client keys live in their own namespace, per customer (as ``api.routes.points.ledger_key``)."""
    return f"reward/{customer_id}/{key}"


@router.post(
    "/customers/{customer_id}/rewards/{reward_id}/redeem",
    response_model=RedemptionOut,
    responses=responses(UNAUTHORIZED, NO_REWARD, REFUSED, TOO_LARGE, INVALID),
    summary="Redeem a reward for its voucher",
)
async def redeem_reward(
    customer_id: CustomerId, reward_id: RewardId, body: RedeemRewardIn, store: StoreDep, events: RouterDep
) -> RedemptionOut | JSONResponse:
    """Spends the reward's cost (oldest-expiring points first) and issues a voucher, all at once, or
    refuses with 409 and the reason, changing nothing. A repeat with the same ``key`` answers as the
    first call did. ``reward_redeemed`` is sent (once) to the customer's journeys."""
    await existing(store, customer_id)
    program = await store.loyalty_programs.active()
    try:
        done = await rewards.redeem(
            store.engine, program, customer_id, reward_id, reward_key(customer_id, body.key), utcnow()
        )
    except rewards.RewardRefused as exc:
        if exc.reason == "unknown_reward":
            raise HTTPException(404, detail=str(exc)) from exc
        refusal = RewardRefusedProblem.model_validate(
            {"detail": str(exc), "reason": exc.reason, **exc.numbers}
        )
        return JSONResponse(refusal.model_dump(exclude_none=True), status_code=409)
    await events.emit(done.event())  # after the commit; its id is the key's, so a repeat adds nothing
    return RedemptionOut(
        customer_id=customer_id,
        key=body.key,
        reward=done.reward_id,
        cost=done.cost,
        voucher=done.voucher,
        expires_at=done.expires_at,
        redeemed_at=done.created_at,
        balance=done.balance_after,
        duplicate=done.duplicate,
    )


@router.get(
    "/customers/{customer_id}/wallet",
    response_model=WalletOut,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID),
    summary="The customer's wallet: available, pending, expiring, tier and progress",
)
async def get_wallet(customer_id: CustomerId, store: StoreDep) -> WalletOut:
    await existing(store, customer_id)
    program = await store.loyalty_programs.active()
    found = await wallet_read.wallet(store.engine, program, customer_id, utcnow())
    return WalletOut.model_validate(found.model_dump())


@router.get(
    "/customers/{customer_id}/ledger",
    response_model=LedgerPageOut,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID),
    summary="The customer's points ledger, a page at a time, newest first",
)
async def get_ledger(
    customer_id: CustomerId,
    store: StoreDep,
    after: Annotated[
        int | None, Query(ge=1, le=2**62, description="the `next` of the previous page; omit for the newest")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=wallet_read.MAX_PAGE, description="rows per page")] = (
        wallet_read.DEFAULT_PAGE
    ),
) -> LedgerPageOut:
    await existing(store, customer_id)
    page = await wallet_read.ledger(store.engine, customer_id, after, limit)
    return LedgerPageOut(
        customer_id=customer_id,
        entries=[LedgerRowOut.model_validate(entry.model_dump()) for entry in page.entries],
        next=page.next,
    )


@router.post(
    "/loyalty/rewards/{reward_id}/vouchers",
    response_model=VoucherUploadOut,
    responses=responses(UNAUTHORIZED, NO_REWARD, NOT_A_POOL, TOO_LARGE, INVALID),
    summary="Add voucher codes to a reward's pool",
)
async def upload_vouchers(reward_id: RewardId, body: VoucherUploadIn, store: StoreDep) -> VoucherUploadOut:
    """Codes already known (to any reward) or repeated in the upload are listed, not added."""
    program = await store.loyalty_programs.active()
    reward = program.reward(reward_id) if program is not None else None
    if program is None or reward is None:
        raise HTTPException(404, detail=f"there is no reward {reward_id!r} in the loyalty program")
    if reward.vouchers != "pool":
        raise HTTPException(409, detail=f"{reward_id} generates its voucher codes; it has no pool")
    result = await rewards.upload(store.engine, reward_id, body.codes, utcnow())
    left = next(
        item.pool_available
        for item in await rewards.catalog(store.engine, program)
        if item.reward.id == reward_id
    )
    return VoucherUploadOut(
        reward=reward_id, added=result.added, duplicates=result.duplicates, pool_available=left or 0
    )

"""Leaderboards: the program's boards, one board's standings this period or the last, and a customer's
choice to be left out."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query

from api.deps import StoreDep
from api.errors import INVALID, TOO_LARGE, UNAUTHORIZED, problem, responses
from api.routes.customers import NOT_FOUND, CustomerId, existing
from api.schemas_referrals import BoardOut, LeaderboardOut, LeaderboardsOut, OptOutIn, OptOutOut, StandingOut
from engine.schema import SLUG
from store import leaderboards
from store.reading import reading
from store.types import utcnow

router = APIRouter(tags=["leaderboards"])
NO_BOARD = problem(404, "The active loyalty program has no leaderboard with this id (or none is deployed)")
BoardId = Annotated[str, Path(min_length=1, max_length=100, pattern=SLUG, description="the board's id")]


@router.get(
    "/leaderboards",
    response_model=LeaderboardsOut,
    responses=responses(UNAUTHORIZED),
    summary="The leaderboards of the active loyalty program",
)
async def list_leaderboards(store: StoreDep) -> LeaderboardsOut:
    """Empty when no loyalty program is deployed."""
    program = await store.loyalty_programs.active()
    boards = [] if program is None else program.source.leaderboards
    return LeaderboardsOut(
        leaderboards=[
            LeaderboardOut(id=board.id, name=board.name or board.id, period=board.period, top=board.top)
            for board in boards
        ]
    )


@router.get(
    "/leaderboards/{board_id}",
    response_model=BoardOut,
    responses=responses(UNAUTHORIZED, NO_BOARD, INVALID),
    summary="A leaderboard's standings",
)
async def get_leaderboard(
    board_id: BoardId,
    store: StoreDep,
    period: Annotated[
        Literal["current", "previous"], Query(description="this week or month, or the one before")
    ] = "current",
    top: Annotated[
        int | None, Query(ge=1, le=1000, description="how many (the board's own top if absent)")
    ] = None,
) -> BoardOut:
    """Most points first; ties share a rank (1, 1, 3) and are ordered by customer id; customers who
    opted out are left out. A tie at the cut-off is cut: the list is never longer than ``top``."""
    program = await store.loyalty_programs.active()
    if program is None or program.board(board_id) is None:
        raise HTTPException(404, detail=f"no leaderboard {board_id!r} in the active loyalty program")
    async with reading(store.engine).connect() as conn:
        found = await leaderboards.board(conn, program, board_id, utcnow(), top, period)
    return BoardOut(
        id=found.id,
        name=found.name,
        period=found.period,
        top=found.top,
        standings=[
            StandingOut(rank=s.rank, customer_id=s.customer_id, points=s.points) for s in found.standings
        ],
    )


@router.put(
    "/customers/{customer_id}/leaderboard-opt-out",
    response_model=OptOutOut,
    responses=responses(UNAUTHORIZED, NOT_FOUND, TOO_LARGE, INVALID),
    summary="Leave the leaderboards, or join them again",
)
async def put_opt_out(customer_id: CustomerId, body: OptOutIn, store: StoreDep) -> OptOutOut:
    """The customer's points keep counting; they are only left out of what the boards show."""
    await existing(store, customer_id)
    async with store.engine.begin() as conn:
        await leaderboards.set_opt_out(conn, customer_id, body.opt_out, utcnow())
    return OptOutOut(customer_id=customer_id, opt_out=body.opt_out)

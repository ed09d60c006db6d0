"""Journeys: list, read (versions, plan, diagram with live counts), validate, pause, stats; and the
bounded compile every route that takes a journey's YAML uses (deploying and reviewing: ``versions``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path as FsPath
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse

from api.deps import RouterDep, SettingsDep, StoreDep
from api.errors import INVALID, TOO_LARGE, UNAUTHORIZED, problem, responses
from api.schemas import (
    JourneyDetail,
    JourneyProblem,
    JourneyProblemItem,
    JourneyState,
    JourneyStatsOut,
    JourneySummary,
    JourneyValid,
    JourneyVersionOut,
    ValidationProblem,
)
from api.stats import stats_out, step_counts
from engine.diagram import mermaid
from engine.errors import JourneyError, JourneyValidationError
from engine.limits import VALIDATION_SECONDS
from engine.loader import compile_text, decode_journey
from engine.plan import Plan
from store.database import Store

router = APIRouter(prefix="/journeys", tags=["journeys"])
JourneyName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=100, description="journey id")]
NOT_FOUND = problem(404, "No journey with this name has been deployed")
JOURNEY_INVALID = problem(
    422,
    "The journey has problems (every one, with file, line, column and path), or the request is malformed",
    JourneyProblem | ValidationProblem,
)


def yaml_body(description: str) -> dict[str, Any]:
    """The OpenAPI request body of a route that takes one YAML file (``openapi_extra``)."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/yaml": {"schema": {"type": "string"}}},
        }
    }


YAML_BODY = yaml_body("the journey file (YAML)")


async def current(store: Store, name: str) -> Plan:
    plan = await store.deployments.current(name)
    if plan is None:
        raise HTTPException(404, detail=f"no journey {name!r}")
    return plan


async def summary(store: Store, plan: Plan) -> JourneySummary:
    versions = await store.deployments.versions(plan.journey)
    deployed_at = next(v.deployed_at for v in versions if v.version == plan.version)
    return JourneySummary(
        name=plan.journey,
        version=plan.version,
        description=plan.description,
        stage=plan.stage,
        trigger=plan.trigger.event,
        paused=await store.deployments.is_paused(plan.journey),
        deployed_at=deployed_at,
    )


def invalid(errors: list[JourneyError]) -> JSONResponse:
    body = JourneyProblem(
        detail=f"the journey has {len(errors)} problem(s)",
        errors=[
            JourneyProblemItem(file=e.file, line=e.line, column=e.column, path=e.path, message=e.message)
            for e in errors
        ],
    )
    return JSONResponse(body.model_dump(), status_code=422)


# Validation runs off the event loop, on threads of its own: a journey that takes long to check
# (the engine bounds the work, see engine.limits) delays no other request, /healthz included.
# At most VALIDATION_THREADS run at once; a validation still waiting for a thread when its time
# budget is up never starts. A thread cannot be stopped, which is why only bounded work runs in one.
VALIDATION_THREADS = 2
_executor: ThreadPoolExecutor | None = None
T = TypeVar("T")


async def off_loop(file: str, work: Callable[[], T]) -> T:
    """Run ``work`` on a validation thread within VALIDATION_SECONDS, else a positioned error."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(VALIDATION_THREADS, thread_name_prefix="journey-validation")
    running = asyncio.get_running_loop().run_in_executor(_executor, work)
    try:
        return await asyncio.wait_for(running, timeout=VALIDATION_SECONDS)
    except TimeoutError as exc:
        message = (
            f"the journey could not be validated within {VALIDATION_SECONDS:g} s; try again, or simplify it"
        )
        raise JourneyValidationError([JourneyError(file, 1, 1, "", message)]) from exc


def compile_body(data: bytes, file: str, journeys_dir: FsPath) -> tuple[str, Plan]:
    """Decode and compile against the deployed templates (``<journeys_dir>/templates``)."""
    text = decode_journey(data, file)
    return text, compile_text(text, file, journeys_dir / "templates")


@router.get("", response_model=list[JourneySummary], responses=UNAUTHORIZED, summary="List journeys")
async def list_journeys(store: StoreDep) -> list[JourneySummary]:
    """Every deployed journey with its current version, paused or not."""
    found = []
    for name in await store.deployments.names():
        plan = await store.deployments.current(name)
        if plan is not None:
            found.append(await summary(store, plan))
    return found


@router.post(
    "/validate",
    response_model=JourneyValid,
    responses=responses(UNAUTHORIZED, TOO_LARGE, JOURNEY_INVALID),
    openapi_extra=YAML_BODY,
    summary="Validate a journey without deploying it",
)
async def validate(request: Request, settings: SettingsDep) -> JourneyValid | JSONResponse:
    """Answers as a deploy would (422 with every problem), without deploying: for CI and editors."""
    file = "journey.yaml"
    data = await request.body()
    try:
        _, plan = await off_loop(file, lambda: compile_body(data, file, settings.journeys_dir))
    except JourneyValidationError as exc:
        return invalid(exc.errors)
    return JourneyValid(
        journey=plan.journey, version=plan.version, steps=len(plan.nodes), diagram=mermaid(plan)
    )


@router.get(
    "/{name}",
    response_model=JourneyDetail,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID),
    summary="Read a journey: versions, plan, diagram with live counts",
)
async def get_journey(name: JourneyName, store: StoreDep) -> JourneyDetail:
    plan = await current(store, name)
    versions = await store.deployments.versions(name)
    stats = await store.steps.stats(name)
    return JourneyDetail(
        **(await summary(store, plan)).model_dump(),
        versions=[JourneyVersionOut.model_validate(v.model_dump()) for v in versions],
        plan=plan,
        diagram=mermaid(plan, step_counts(stats)),
        source=next(v.source for v in versions if v.is_current),
    )


async def set_paused(name: str, paused: bool, store: Store, events: RouterDep) -> JourneyState:
    await current(store, name)
    await store.deployments.set_paused(name, paused)
    await events.reload()
    return JourneyState(name=name, paused=paused)


@router.post(
    "/{name}/pause",
    response_model=JourneyState,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID),
    summary="Pause a journey",
)
async def pause(name: JourneyName, store: StoreDep, events: RouterDep) -> JourneyState:
    """No new customers enter; customers in flight hold before their next send until resumed."""
    return await set_paused(name, True, store, events)


@router.post(
    "/{name}/resume",
    response_model=JourneyState,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID),
    summary="Resume a paused journey",
)
async def resume(name: JourneyName, store: StoreDep, events: RouterDep) -> JourneyState:
    return await set_paused(name, False, store, events)


@router.get(
    "/{name}/stats",
    response_model=JourneyStatsOut,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID),
    status_code=status.HTTP_200_OK,
    summary="Per-step counts: entered, waiting, completed, sends, skips, conversions, points",
)
async def stats(name: JourneyName, store: StoreDep) -> JourneyStatsOut:
    plan = await current(store, name)
    return stats_out(plan, await store.steps.stats(name), await store.retries.by_step(name))

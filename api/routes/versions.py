"""Versions of a journey: deploy (YAML), review a change before deploying it, the deploy history,
the diff between any two versions, rollback. Viewers read; deploying, reviewing and rolling back are
for editors (as ``POST /v1/journeys/validate``, a review is a POST with the YAML as its body)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal, PrincipalDep
from api.deploying import DeployResult, compile_for, deploy_source, rollback
from api.deps import RouterDep, SettingsDep, StoreDep
from api.errors import INVALID, TOO_LARGE, UNAUTHORIZED, problem, responses
from api.review import Review, build_review, live_versions
from api.routes.journeys import JOURNEY_INVALID, NOT_FOUND, YAML_BODY, JourneyName, current, invalid, off_loop
from api.schemas import JourneyDeployed, JourneyVersionOut
from config.settings import Settings
from engine.errors import JourneyValidationError
from engine.plan_diff import PlanDiff, diff_plans, yaml_diff
from store.database import Store

router = APIRouter(prefix="/journeys", tags=["journeys"])
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
Version = Annotated[str, Path(pattern=VERSION_PATTERN, max_length=100, description="a deployed version")]


class JourneyDeployedOut(JourneyDeployed):
    deployed_by: str = Field(description="the API key's name")
    action: Literal["deploy", "rollback"] | None = Field(
        description="what the deploy history recorded; null when this version was current already"
    )
    previous: str | None = Field(description="the version current before; null for a new journey")
    saved_to: str | None = Field(description="the file written under JOURNEYS_SAVE_DIR, if set")
    save_error: str | None = Field(None, description="why that file could not be written (the deploy stands)")


class DeployRecordOut(BaseModel):
    version: str
    deployed_by: str | None = Field(
        description="the API key's name, cli, journeys setup, journeys up; null before 0007"
    )
    at: datetime
    action: Literal["deploy", "rollback"]
    is_current: bool = Field(description="this row's version is the current version")


class VersionHistory(BaseModel):
    name: str
    current: str
    ui_edit: bool = Field(description="whether the browser editor may save and roll back (JOURNEYS_UI_EDIT)")
    history: list[DeployRecordOut] = Field(
        description="who made which version current and when, newest first"
    )


class VersionDiff(BaseModel):
    name: str
    before: str
    after: str
    yaml_diff: str = Field(description="unified diff of the two versions' YAML; empty when equal")
    plan_diff: PlanDiff


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str = Field(pattern=VERSION_PATTERN, max_length=100, description="a version deployed before")


def refuse_browser_edits(principal: Principal, settings: Settings) -> None:
    """JOURNEYS_UI_EDIT=false: a browser session deploys nothing, here either (keys still do)."""
    if principal.csrf is not None and not settings.ui_edit:
        raise HTTPException(
            403, detail="editing in the browser is turned off here (JOURNEYS_UI_EDIT=false): deploy from git"
        )


UNKNOWN_VERSION = problem(404, "No journey with this name, or no such version of it, has been deployed")


async def _answer(store: Store, result: DeployResult, deployed_by: str) -> JourneyDeployedOut:
    name = result.plan.journey
    versions = await store.deployments.versions(name)
    return JourneyDeployedOut(
        name=name,
        version=result.plan.version,
        new_version=result.deployment.new_version,
        versions=[JourneyVersionOut.model_validate(v.model_dump()) for v in versions],
        deployed_by=deployed_by,
        action=result.deployment.action,
        previous=result.deployment.previous,
        saved_to=str(result.saved_to) if result.saved_to else None,
        save_error=result.save_error,
    )


@router.put(
    "/{name}",
    response_model=JourneyDeployedOut,
    responses=responses(UNAUTHORIZED, TOO_LARGE, JOURNEY_INVALID),
    openapi_extra=YAML_BODY,
    summary="Deploy a journey (YAML)",
)
async def deploy(
    name: JourneyName,
    request: Request,
    store: StoreDep,
    events: RouterDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> JourneyDeployedOut | JSONResponse:
    """Make this YAML the current version, recorded in the history under the key's name (and
    written to JOURNEYS_SAVE_DIR when set). Customers in flight keep the version they entered on."""
    refuse_browser_edits(principal, settings)
    try:
        result = await deploy_source(
            await request.body(),
            name,
            store=store,
            events=events,
            settings=settings,
            deployed_by=principal.name,
        )
    except JourneyValidationError as exc:
        return invalid(exc.errors)
    return await _answer(store, result, principal.name)


@router.post(
    "/{name}/review",
    response_model=Review,
    responses=responses(UNAUTHORIZED, TOO_LARGE, JOURNEY_INVALID),
    openapi_extra=YAML_BODY,
    summary="Review a change before deploying it: YAML diff, plan diff, customers in flight",
)
async def review(
    name: JourneyName, request: Request, store: StoreDep, settings: SettingsDep
) -> Review | JSONResponse:
    """What deploying this YAML would change, against the current version (everything is new for a
    journey not deployed yet), and where the customers in flight wait: those on steps it removes or
    changes finish on their version. Invalid YAML gets the 422 a deploy would; nothing is deployed."""
    file = f"{name}.yaml"
    try:
        text, plan = await compile_for(name, await request.body(), settings)
        stored = await store.deployments.get(name)
        live = await live_versions(store, name)
        return await off_loop(file, lambda: build_review(stored, plan, text, live, after_name=file))
    except JourneyValidationError as exc:
        return invalid(exc.errors)


@router.get(
    "/{name}/versions",
    response_model=VersionHistory,
    responses=responses(UNAUTHORIZED, NOT_FOUND, INVALID),
    summary="The deploy history: who deployed which version, when",
)
async def versions(
    name: JourneyName,
    store: StoreDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="most rows, newest first")] = 100,
) -> VersionHistory:
    plan = await current(store, name)
    history = await store.deployments.history(name, limit=limit)
    return VersionHistory(
        name=name,
        current=plan.version,
        ui_edit=settings.ui_edit,
        history=[DeployRecordOut.model_validate(row.model_dump()) for row in history],
    )


@router.get(
    "/{name}/versions/{before}/diff/{after}",
    response_model=VersionDiff,
    responses=responses(UNAUTHORIZED, UNKNOWN_VERSION, INVALID),
    summary="The YAML diff and plan diff between two deployed versions",
)
async def diff(name: JourneyName, before: Version, after: Version, store: StoreDep) -> VersionDiff:
    found = {version: await store.deployments.get(name, version) for version in (before, after)}
    missing = [version for version, stored in found.items() if stored is None]
    if missing:
        raise HTTPException(404, detail=f"journey {name!r} has no version {missing[0]!r}")
    old, new = found[before], found[after]
    assert old is not None and new is not None
    file = f"{name}.yaml"
    text = await off_loop(
        file,
        lambda: yaml_diff(
            old.source, new.source, before_name=f"{file}@{before}", after_name=f"{file}@{after}"
        ),
    )
    return VersionDiff(
        name=name, before=before, after=after, yaml_diff=text, plan_diff=diff_plans(old.plan, new.plan)
    )


@router.post(
    "/{name}/rollback",
    response_model=JourneyDeployedOut,
    responses=responses(UNAUTHORIZED, UNKNOWN_VERSION, TOO_LARGE, INVALID),
    summary="Roll back: make an earlier version current again",
)
async def roll_back(
    name: JourneyName,
    body: RollbackIn,
    store: StoreDep,
    events: RouterDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> JourneyDeployedOut:
    """Deploys the stored version again, recorded in the history as a rollback under the key's name
    (and written to JOURNEYS_SAVE_DIR when set). Customers in flight keep the version they entered on."""
    refuse_browser_edits(principal, settings)
    result = await rollback(
        name, body.version, store=store, events=events, settings=settings, deployed_by=principal.name
    )
    if result is None:
        raise HTTPException(404, detail=f"journey {name!r} has no version {body.version!r}")
    return await _answer(store, result, principal.name)

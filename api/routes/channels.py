"""The channel policy over HTTP (``journeys/channels.yaml``, docs/channels.md): read the active one,
deploy a new one."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from api.deploying import deploy_policy
from api.deps import SettingsDep, StoreDep
from api.errors import TOO_LARGE, UNAUTHORIZED, problem, responses
from api.routes.journeys import invalid
from api.schemas import JourneyProblem, ValidationProblem
from api.schemas_channels import PolicyDeployedOut, PolicyOut
from engine.errors import JourneyValidationError
from store.policy_tables import channel_policies
from store.reading import reading

router = APIRouter(tags=["channels"])
NO_POLICY = problem(404, "No channel policy has been deployed (every send goes as if there were none)")
POLICY_INVALID = problem(
    422,
    "The policy file has problems (each with file, line, column and path), or the request is malformed",
    JourneyProblem | ValidationProblem,
)
YAML_BODY = {
    "requestBody": {
        "required": True,
        "description": "the channel policy file (YAML)",
        "content": {"application/yaml": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/channels/policy",
    response_model=PolicyOut,
    responses=responses(UNAUTHORIZED, NO_POLICY),
    summary="The active channel policy: classes, frequency caps, quiet hours, the control group",
)
async def get_policy(store: StoreDep) -> PolicyOut:
    policy = await store.channel_policies.active()
    if policy is None:
        raise HTTPException(404, detail="no channel policy has been deployed")
    async with reading(store.engine).connect() as conn:
        source = await conn.scalar(
            sa.select(channel_policies.c.source).where(channel_policies.c.version == policy.version)
        )
    return PolicyOut(
        policy=policy.source.policy,
        version=policy.version,
        definition=policy.source.model_dump(mode="json"),
        source=str(source or ""),
    )


@router.put(
    "/channels/policy",
    response_model=PolicyDeployedOut,
    responses=responses(UNAUTHORIZED, TOO_LARGE, POLICY_INVALID),
    openapi_extra=YAML_BODY,
    summary="Deploy the channel policy (journeys/channels.yaml)",
)
async def put_policy(
    request: Request, store: StoreDep, settings: SettingsDep
) -> PolicyDeployedOut | JSONResponse:
    """Validated like a journey (422 with every problem, positioned); every send from then on follows
    it. Deploying the active version again changes nothing (``new: false``)."""
    try:
        result = await deploy_policy(await request.body(), store=store, settings=settings)
    except JourneyValidationError as exc:
        return invalid(exc.errors)
    return PolicyDeployedOut(
        policy=result.policy.source.policy,
        version=result.policy.version,
        new=result.new,
        saved_to=str(result.saved_to) if result.saved_to else None,
        save_error=result.save_error,
    )

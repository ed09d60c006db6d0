"""The channel policy over HTTP (``journeys/channels.yaml``, docs/channels.md): read the active one,
deploy a new one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deploying import deploy_policy
from api.deps import SettingsDep, StoreDep
from api.errors import TOO_LARGE, UNAUTHORIZED, problem, responses
from api.routes.journeys import invalid, yaml_body
from api.routes.program_files import active_with_source, deployed_fields, file_invalid
from api.schemas_channels import PolicyDeployedOut, PolicyOut
from engine.errors import JourneyValidationError

router = APIRouter(tags=["channels"])
NO_POLICY = problem(404, "No channel policy has been deployed (every send goes as if there were none)")
POLICY_INVALID = file_invalid("policy")
YAML_BODY = yaml_body("the channel policy file (YAML)")


@router.get(
    "/channels/policy",
    response_model=PolicyOut,
    responses=responses(UNAUTHORIZED, NO_POLICY),
    summary="The active channel policy: classes, frequency caps, quiet hours, the control group",
)
async def get_policy(store: StoreDep) -> PolicyOut:
    policy, source = await active_with_source(store.channel_policies, "no channel policy has been deployed")
    return PolicyOut(
        policy=policy.source.policy,
        version=policy.version,
        definition=policy.source.model_dump(mode="json"),
        source=source,
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
    return PolicyDeployedOut(policy=result.deployed.source.policy, **deployed_fields(result))

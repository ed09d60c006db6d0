"""``POST /v1/journeys/edit``: one canvas edit of a journey's YAML (``engine.edits``), stateless.

The text comes in with the operation; the new text goes out with its problems (as validation lists
them) and, when it is valid, its plan. Nothing is stored. Bounded as ``POST /v1/journeys/validate``
is, by the same code: the body limit (``BodyLimitMiddleware``), the journey file limits (the engine
reads the source as it reads a file) and the validation threads and time budget (``off_loop``).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import SettingsDep
from api.errors import TOO_LARGE, UNAUTHORIZED, problem, responses
from api.routes.journeys import invalid, off_loop
from api.schemas import JourneyProblem, JourneyProblemItem, ValidationProblem
from engine.edits import EditRefused, EditResult, Operation, apply
from engine.errors import JourneyValidationError
from engine.plan import Plan

router = APIRouter(prefix="/journeys", tags=["journeys"])
FILE = "journey.yaml"
EDIT_REFUSED = problem(
    422,
    "The edit cannot be made, or the source cannot be read within the journey file limits (each problem "
    "with file, line, column and path), or the request is malformed",
    JourneyProblem | ValidationProblem,
)


class EditRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="the journey's YAML, as the editor holds it")
    operation: Operation = Field(
        examples=[
            {"op": "insert_step", "edge": "welcome>signup_bonus#0", "kind": "wait", "fields": {"wait": "2d"}}
        ]
    )


class EditOut(BaseModel):
    source: str = Field(description="the edited YAML: only what the edit changed is rewritten")
    valid: bool
    problems: list[JourneyProblemItem] = Field(
        description="every problem of the edited YAML, as validation lists them"
    )
    plan: Plan | None = Field(description="the compiled plan of the edited YAML, when it is valid")


def _out(result: EditResult) -> EditOut:
    problems = [
        JourneyProblemItem(file=e.file, line=e.line, column=e.column, path=e.path, message=e.message)
        for e in result.problems
    ]
    return EditOut(source=result.source, valid=result.valid, problems=problems, plan=result.plan)


@router.post(
    "/edit",
    response_model=EditOut,
    responses=responses(UNAUTHORIZED, TOO_LARGE, EDIT_REFUSED),
    summary="Edit a journey's YAML as the canvas does (insert, delete, retarget, set fields)",
)
async def edit(body: EditRequest, settings: SettingsDep) -> EditOut | JSONResponse:
    """Carry out one operation on ``source`` and answer the new text, validated. An edit that leaves
    the journey invalid (a step no longer reached, ...) is answered with its problems; one that
    cannot be made (an edge that is not there, a step with several ways out deleted without
    ``reconnect_to``) gets 422 saying why and where. Editors only."""
    templates = settings.journeys_dir / "templates"
    try:
        result = await off_loop(
            FILE, lambda: apply(body.source, body.operation, templates_dir=templates, file=FILE)
        )
    except EditRefused as exc:
        refused = JourneyProblem(
            detail=f"the edit cannot be made: {len(exc.errors)} problem(s)",
            errors=[
                JourneyProblemItem(file=e.file, line=e.line, column=e.column, path=e.path, message=e.message)
                for e in exc.errors
            ],
        )
        return JSONResponse(refused.model_dump(), status_code=422)
    except JourneyValidationError as exc:  # past the time budget
        return invalid(exc.errors)
    return _out(result)

"""The edits as data: how an edge of the diagram is named, and each operation, as the API receives
them (``apply`` in ``engine.edits.operations`` carries one out)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from engine.edits.routing import END, ENTRY
from engine.edits.values import BadValue, check_value
from engine.limits import MAX_ID_LENGTH, MAX_NODES
from engine.schema import SLUG

EDGE_ID = r"^[a-z_][a-z0-9_]*>[a-z_][a-z0-9_]*#[0-9]{1,5}$"

StepName = Annotated[str, Field(pattern=SLUG, max_length=MAX_ID_LENGTH, description="a step id")]
Target = Annotated[
    str,
    Field(
        pattern=rf"^(?:[a-z][a-z0-9_]*|{END})$",
        max_length=MAX_ID_LENGTH,
        description=f"a step id, or {END} for the end of the journey",
    ),
]
EdgeId = Annotated[
    str,
    Field(
        pattern=EDGE_ID,
        max_length=2 * MAX_ID_LENGTH + 8,
        description=(
            "an edge as the journey diagram names it: <step>><target>#<n>, the n-th way out of the step "
            f"(wait_profile>profile_bonus#0); {ENTRY}><first step>#0 for the trigger's edge"
        ),
        examples=["wait_profile>profile_bonus#0"],
    ),
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Edge(Model):
    """An edge by the step it leaves and the way out it is: ``next`` (of a step with one way out),
    ``event`` and ``timeout`` (wait_for), ``case`` (with its index) and ``else`` (branch),
    ``variant`` (with its index; split), or ``entry`` (the trigger's edge into the first step)."""

    step: str = Field(
        pattern=rf"^(?:[a-z][a-z0-9_]*|{ENTRY})$",
        max_length=MAX_ID_LENGTH,
        description=f"the step the edge leaves ({ENTRY} for the trigger)",
    )
    way: Literal["entry", "next", "event", "timeout", "case", "else", "variant"]
    index: int = Field(0, ge=0, le=MAX_NODES, description="which case or variant (from 0)")


EdgeRef = EdgeId | Edge


def _within_limits(fields: dict[str, Any]) -> dict[str, Any]:
    """The engine's limits on a journey file hold for the fields too (checked without recursion)."""
    try:
        check_value(fields, "fields")
    except BadValue as exc:
        raise ValueError(str(exc)) from exc
    return fields


Fields = Annotated[dict[str, Any], AfterValidator(_within_limits)]


class InsertStep(Model):
    """Insert a new step on an edge: the edge goes to it, and it goes where the edge went."""

    op: Literal["insert_step"]
    edge: EdgeRef
    kind: Literal["send", "wait", "wait_for", "branch", "split", "award", "set_stage", "exit"]
    fields: Fields = Field(
        default_factory=dict,
        description='the step\'s keys as the YAML writes them, besides id: {"wait": "2d"}',
        examples=[{"wait": "2d"}],
    )
    id: StepName | None = Field(None, description="the new step's id (default: <kind>_<n>, e.g. wait_1)")


class DeleteStep(Model):
    """Delete a step; the edges that led to it lead where it went (or to ``reconnect_to``)."""

    op: Literal["delete_step"]
    step: StepName
    reconnect_to: Target | None = Field(
        None, description="where the edges into the step go instead: needed when it has several ways out"
    )


class RetargetEdge(Model):
    """Point an edge at another step (or the end, where the language can say so)."""

    op: Literal["retarget_edge"]
    edge: EdgeRef
    target: Target


class SetFields(Model):
    """Change a step's keys: mappings merge key by key, lists item by item, null removes a key."""

    op: Literal["set_fields"]
    step: StepName
    fields: Fields = Field(examples=[{"wait_for": {"timeout": "5d"}}])


Operation = Annotated[InsertStep | DeleteStep | RetargetEdge | SetFields, Field(discriminator="op")]

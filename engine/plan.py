"""The compiled plan: plain, serialisable data that a workflow interprets.

Every edge is explicit (no implicit list order), durations are seconds, conditions are text that
``engine.expressions`` evaluates. ``version`` is a content hash of the journey and its templates.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer


class PlanModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeBase(PlanModel):
    id: str
    next: str | None = None


class SendNode(NodeBase):
    """What both channels' sends say of the channel policy; left out of the plan's JSON when unset,
    so a journey that says neither compiles to the version (content hash) it had before they existed."""

    message_class: Literal["transactional", "marketing"] | None = Field(
        None, exclude_if=lambda value: value is None
    )
    quiet_hours: Literal["hold", "skip"] | None = Field(None, exclude_if=lambda value: value is None)


class SendEmailNode(SendNode):
    kind: Literal["send_email"] = "send_email"
    template: str


class SendWebhookNode(SendNode):
    kind: Literal["send_webhook"] = "send_webhook"
    message_type: str
    payload: dict[str, Any] = Field(default_factory=dict)


class WaitNode(NodeBase):
    kind: Literal["wait"] = "wait"
    seconds: int = 0
    until: str | None = None


class WaitForNode(NodeBase):
    kind: Literal["wait_for"] = "wait_for"
    event: str
    where: str | None = None
    timeout_seconds: int
    on_event: str | None
    on_timeout: str | None


class BranchCase(PlanModel):
    when: str
    next: str


class BranchNode(NodeBase):
    kind: Literal["branch"] = "branch"
    cases: list[BranchCase]
    otherwise: str | None


class SplitVariant(PlanModel):
    name: str
    weight: int
    next: str | None


class SplitNode(NodeBase):
    kind: Literal["split"] = "split"
    variants: list[SplitVariant]
    control_percent: int = 0


class AwardNode(NodeBase):
    """``points`` given, or computed by ``points_expression`` when the step runs (``points`` is then
    0); ``to`` names the recipient: the journey's customer or their referrer.

    The two newer keys are left out of the plan's JSON at their defaults, so a journey that uses
    neither compiles to the version (content hash) it had before they existed.
    """

    kind: Literal["award"] = "award"
    points: int
    reason: str
    badge: str | None = None
    points_expression: str | None = None
    to: Literal["customer", "referrer"] = "customer"

    def gives(self) -> list[str]:
        """What the step gives, in words for diagrams: ``["+100 points", "badge gold", "to referrer"]``."""
        parts = [f"+{self.points} points"] if self.points else []
        if self.points_expression is not None:
            shown = self.points_expression
            parts.append(f"points {shown if len(shown) <= 40 else shown[:39] + '…'}")
        if self.badge:
            parts.append(f"badge {self.badge}")
        if self.to != "customer":
            parts.append(f"to {self.to}")
        return parts

    @model_serializer(mode="wrap")
    def _without_defaults(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("points_expression") is None:
            data.pop("points_expression", None)
        if data.get("to") == "customer":
            data.pop("to", None)
        return data


class SetStageNode(NodeBase):
    kind: Literal["set_stage"] = "set_stage"
    stage: str


class ExitNode(NodeBase):
    kind: Literal["exit"] = "exit"
    reason: str


Node = Annotated[
    SendEmailNode
    | SendWebhookNode
    | WaitNode
    | WaitForNode
    | BranchNode
    | SplitNode
    | AwardNode
    | SetStageNode
    | ExitNode,
    Field(discriminator="kind"),
]


class PlanSchedule(PlanModel):
    """A scheduled trigger: the members of ``segment`` enter ``every`` day (or weekday) at ``at``
    in their own time zone (``engine.schedule_times``)."""

    every: str
    at: str
    segment: str


# The trigger name of a scheduled journey's entries: never routed from outside (``ingest.router``).
SCHEDULED_EVENT = "scheduled"


class PlanTrigger(PlanModel):
    event: str
    where: str | None = None
    # Left out of the JSON when absent, so event-triggered journeys keep their versions.
    schedule: PlanSchedule | None = Field(None, exclude_if=lambda schedule: schedule is None)

    def label(self) -> str:
        """What starts the journey, in words for diagrams: ``signed_up``, ``every monday 09:00 (vip)``."""
        if self.schedule is None:
            return self.event
        return f"every {self.schedule.every} {self.schedule.at} ({self.schedule.segment})"


class PlanEntry(PlanModel):
    mode: Literal["once", "always", "cooldown"]
    cooldown_seconds: int = 0


class PlanGoal(PlanModel):
    event: str
    within_seconds: int
    stage: str | None = None
    where: str | None = None
    exit: bool = False


class Plan(PlanModel):
    journey: str
    version: str
    description: str = ""
    stage: str
    trigger: PlanTrigger
    entry: PlanEntry
    exit_on: list[str] = Field(default_factory=list)
    goal: PlanGoal | None = None
    start: str
    nodes: list[Node]
    templates: dict[str, str] = Field(default_factory=dict, description="template file -> source")
    # Opens and clicks counted; left out of the JSON when true, so journeys that do not say
    # ``tracking`` compile to the versions (content hashes) they had before it existed.
    tracking: bool = Field(True, exclude_if=lambda tracking: tracking is True)

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(f"journey {self.journey} v{self.version} has no step {node_id!r}")

    def events(self) -> list[str]:
        """Every event name this journey listens to, trigger first, without repeats."""
        return list(dict.fromkeys([self.trigger.event, *self.signalled_events()]))

    def signalled_events(self) -> list[str]:
        """The events a run in flight reacts to (exits, the goal, waits), without repeats."""
        names = list(self.exit_on)
        if self.goal is not None:
            names.append(self.goal.event)
        names += [n.event for n in self.nodes if isinstance(n, WaitForNode)]
        return list(dict.fromkeys(names))

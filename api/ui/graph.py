"""A journey's plan as the journey page draws it: one node per step (kind, words, icon), the entry
(trigger and audience) and the end, and every edge with its label. Pure data: the browser lays it
out with ELK and draws it; ``api.ui.live`` puts numbers on the same node and edge ids.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from engine.durations import format_duration
from engine.plan import (
    AwardNode,
    BranchNode,
    ExitNode,
    Node,
    Plan,
    SendEmailNode,
    SendWebhookNode,
    SetStageNode,
    SplitNode,
    WaitForNode,
    WaitNode,
)

# Step ids start with a letter, so these cannot collide with a step.
ENTRY, END = "__entry", "__end"
SHORT_LABEL = 26  # characters of a condition drawn on an edge; the whole text is on hover and focus

EdgeKind = Literal["entry", "next", "event", "timeout", "case", "else", "variant", "control"]
KIND_LABELS = {
    "trigger": "Starts on",
    "send_email": "Email",
    "send_webhook": "Webhook",
    "wait": "Wait",
    "wait_for": "Wait for event",
    "branch": "Branch",
    "split": "A/B split",
    "award": "Award",
    "set_stage": "Set stage",
    "exit": "Exit",
    "end": "End",
}


class DiagramNode(BaseModel):
    id: str  # the step id, or ENTRY / END
    kind: str  # a plan node kind, "trigger" or "end"
    kind_label: str
    title: str
    summary: str  # one line under the title (may be shortened when drawn; ``title`` attribute has it all)


class DiagramEdge(BaseModel):
    id: str
    source: str
    target: str
    kind: EdgeKind
    label: str  # drawn on the edge (shortened)
    full_label: str  # on hover and focus
    outcome: str  # the detail a "completed" step record carries when a customer took this edge


class GoalCard(BaseModel):
    event: str
    within: str
    stage: str | None
    where: str | None
    exits: bool


class Diagram(BaseModel):
    journey: str
    version: str
    nodes: list[DiagramNode]
    edges: list[DiagramEdge]
    exit_on: list[str]
    goal: GoalCard | None

    def step_ids(self) -> list[str]:
        return [node.id for node in self.nodes if node.id not in (ENTRY, END)]


def duration(seconds: int) -> str:
    """As people write it: whole days in days (``7d``, ``30d``), anything else in the journey notation."""
    day = 86400
    return f"{seconds // day}d" if seconds >= day and seconds % day == 0 else format_duration(seconds)


def shorten(text: str, limit: int = SHORT_LABEL) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def summary(node: Node) -> str:
    """What the step does, in a few words."""
    if isinstance(node, SendEmailNode):
        return f"template {node.template}"
    if isinstance(node, SendWebhookNode):
        return f"message {node.message_type}"
    if isinstance(node, WaitNode):
        parts = [duration(node.seconds)] if node.seconds else []
        if node.until:
            parts.append(f"until {node.until}")
        return " then ".join(parts)
    if isinstance(node, WaitForNode):
        where = f" where {node.where}" if node.where else ""
        return f"{node.event}{where} · up to {duration(node.timeout_seconds)}"
    if isinstance(node, BranchNode):
        cases = len(node.cases)
        return f"{cases} condition{'s' if cases != 1 else ''}, else"
    if isinstance(node, SplitNode):
        control = f" · control {node.control_percent}%" if node.control_percent else ""
        return f"{len(node.variants)} variants{control}"
    if isinstance(node, AwardNode):
        parts = node.gives()
        return " · ".join(parts)
    if isinstance(node, SetStageNode):
        return f"to {node.stage}"
    assert isinstance(node, ExitNode)
    return node.reason


def _split_percent(node: SplitNode, weight: int) -> str:
    total = sum(v.weight for v in node.variants) or 1
    share = weight / total * (100 - node.control_percent)
    return f"{share:.0f}%" if share == round(share) else f"{share:.1f}%"


def _edges_of(node: Node) -> list[tuple[str | None, EdgeKind, str, str]]:
    """(target, kind, label, full label) of each way out of ``node``, in the plan's order."""
    if isinstance(node, ExitNode):
        return []
    if isinstance(node, WaitForNode):
        timeout = duration(node.timeout_seconds)
        return [
            (node.on_event, "event", node.event, f"when {node.event} arrives"),
            (node.on_timeout, "timeout", f"timeout {timeout}", f"no {node.event} within {timeout}"),
        ]
    if isinstance(node, BranchNode):
        cases: list[tuple[str | None, EdgeKind, str, str]] = [
            (case.next, "case", shorten(case.when), f"if {case.when}") for case in node.cases
        ]
        return [*cases, (node.otherwise, "else", "else", "when no condition holds")]
    if isinstance(node, SplitNode):
        ways: list[tuple[str | None, EdgeKind, str, str]] = []
        for variant in node.variants:
            percent = _split_percent(node, variant.weight)
            full = f"variant {variant.name}: {percent} of customers (weight {variant.weight})"
            ways.append((variant.next, "variant", f"{variant.name} {percent}", full))
        if node.control_percent:
            control = f"control {node.control_percent}%"
            ways.append((None, "control", control, f"control group: {node.control_percent}% get nothing"))
        return ways
    return [(node.next, "next", "", "")]


def _outcome(node: Node, target: str | None, kind: EdgeKind) -> str:
    # workflows.journey records where a completed step went: the next step, "end", or why it left.
    if kind == "control":
        return f"left: control group of {node.id}"
    return target or "end"


def diagram(plan: Plan) -> Diagram:
    audience = plan.trigger.where or "everyone"
    entry_mode: str = plan.entry.mode
    if plan.entry.mode == "cooldown":
        entry_mode = f"again after {duration(plan.entry.cooldown_seconds)}"
    nodes = [
        DiagramNode(
            id=ENTRY,
            kind="trigger",
            kind_label=KIND_LABELS["trigger"],
            title=plan.trigger.label(),
            summary=f"{audience} · {entry_mode}",
        )
    ]
    nodes += [
        DiagramNode(id=n.id, kind=n.kind, kind_label=KIND_LABELS[n.kind], title=n.id, summary=summary(n))
        for n in plan.nodes
    ]
    edges = [
        DiagramEdge(
            id=f"{ENTRY}>{plan.start}#0",
            source=ENTRY,
            target=plan.start,
            kind="entry",
            label="",
            full_label="",
            outcome="",
        )
    ]
    ends = False
    for node in plan.nodes:
        for index, (target, kind, label, full) in enumerate(_edges_of(node)):
            ends = ends or target is None
            edges.append(
                DiagramEdge(
                    id=f"{node.id}>{target or END}#{index}",
                    source=node.id,
                    target=target or END,
                    kind=kind,
                    label=label,
                    full_label=full,
                    outcome=_outcome(node, target, kind),
                )
            )
    if ends:
        nodes.append(DiagramNode(id=END, kind="end", kind_label=KIND_LABELS["end"], title="End", summary=""))
    goal = None
    if plan.goal is not None:
        goal = GoalCard(
            event=plan.goal.event,
            within=duration(plan.goal.within_seconds),
            stage=plan.goal.stage,
            where=plan.goal.where,
            exits=plan.goal.exit,
        )
    return Diagram(
        journey=plan.journey,
        version=plan.version,
        nodes=nodes,
        edges=edges,
        exit_on=list(plan.exit_on),
        goal=goal,
    )

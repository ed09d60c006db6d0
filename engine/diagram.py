"""A journey drawn as a Mermaid flowchart, optionally with live counts per step."""

from __future__ import annotations

from collections.abc import Mapping

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


def _label(node: Node) -> str:
    if isinstance(node, SendEmailNode):
        return f"email: {node.template}"
    if isinstance(node, SendWebhookNode):
        return f"webhook: {node.message_type}"
    if isinstance(node, WaitNode):
        parts = [format_duration(node.seconds)] if node.seconds else []
        if node.until:
            parts.append(f"until {node.until}")
        return "wait " + " then ".join(parts)
    if isinstance(node, WaitForNode):
        return f"wait for {node.event}<br/>up to {format_duration(node.timeout_seconds)}"
    if isinstance(node, BranchNode):
        return "branch"
    if isinstance(node, SplitNode):
        return "A/B split"
    if isinstance(node, AwardNode):
        parts = node.gives()
        return "award " + ", ".join(parts)
    if isinstance(node, SetStageNode):
        return f"stage: {node.stage}"
    return f"exit: {node.reason}"


def _text(value: str) -> str:
    return value.replace('"', "#quot;")


# Step ids are lower-case slugs, so upper-case names cannot collide with them; Mermaid reads a
# node called ``end`` as the end of a block, so that one step id is drawn capitalised.
_START, _FINISH = "START", "FINISH"


def _id(step_id: str | None) -> str:
    if step_id is None:
        return _FINISH
    return "End" if step_id == "end" else step_id


def _shape(node: Node, text: str) -> str:
    node_id = _id(node.id)
    if isinstance(node, BranchNode | SplitNode):
        return f'{node_id}{{"{text}"}}'
    if isinstance(node, WaitNode | WaitForNode):
        return f'{node_id}(["{text}"])'
    if isinstance(node, ExitNode):
        return f'{node_id}(("{text}"))'
    return f'{node_id}["{text}"]'


def mermaid(plan: Plan, counts: Mapping[str, int] | None = None) -> str:
    """Mermaid ``flowchart TD`` source: steps, labelled outcomes, and counts when given."""
    lines = ["flowchart TD", f'    {_START}(("{_text(plan.trigger.label())}")) --> {_id(plan.start)}']
    ends = False
    for node in plan.nodes:
        text = f"{node.id}<br/>{_text(_label(node))}"
        if counts is not None:
            text += f"<br/><b>{counts.get(node.id, 0)}</b>"
        lines.append("    " + _shape(node, text))
    for node in plan.nodes:
        for target, label in _edges(node):
            # A quoted label may hold anything a condition holds: quotes, >=, --, |.
            arrow = f'-->|"{_text(label)}"|' if label else "-->"
            lines.append(f"    {_id(node.id)} {arrow} {_id(target)}")
            ends = ends or target is None
    if ends:
        lines.append(f'    {_FINISH}(("end"))')
    return "\n".join(lines) + "\n"


def _edges(node: Node) -> list[tuple[str | None, str]]:
    if isinstance(node, ExitNode):
        return []
    if isinstance(node, WaitForNode):
        return [(node.on_event, node.event), (node.on_timeout, "timeout")]
    if isinstance(node, BranchNode):
        return [(c.next, c.when) for c in node.cases] + [(node.otherwise, "else")]
    if isinstance(node, SplitNode):
        edges: list[tuple[str | None, str]] = [(v.next, f"{v.name} {v.weight}") for v in node.variants]
        if node.control_percent:
            edges.append((None, f"control {node.control_percent}%"))
        return edges
    return [(node.next, "")]

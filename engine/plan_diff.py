"""What changed between two compiled plans of a journey — steps added, removed and changed (which
fields), edges, the journey's own settings, template files — and the unified diff of their YAML.

Pure: plans and text in, plain data out. The work is bounded: a plan has at most ``MAX_STEPS``
steps, and the YAML diff matches lines only where that costs at most ``MAX_DIFF_CELLS``.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from engine.durations import format_duration
from engine.plan import (
    BranchNode,
    ExitNode,
    Node,
    Plan,
    SendEmailNode,
    SplitNode,
    WaitForNode,
)

MAX_DIFF_CELLS = 4_000_000
"""Largest (lines removed x lines added) the YAML diff matches line by line, once the lines both
texts start and end with are set aside (about 0.1 s at worst); past it, the part between those
lines is shown removed and added whole."""

JOURNEY_FIELDS = ("trigger", "entry", "goal", "exit_on", "start", "stage", "description")
"""The journey's own settings the plan diff compares, besides its steps and templates."""

# Kinds whose ``next`` is never followed: their edges are on_event/on_timeout, cases, variants.
_NEXT_UNUSED = (WaitForNode, BranchNode, SplitNode, ExitNode)


class FieldChange(BaseModel):
    field: str
    before: Any = None
    after: Any = None


class StepChange(BaseModel):
    step: str
    kind: str = Field(description="the step's kind in the new plan")
    fields: list[FieldChange] = Field(description="the plan fields whose values differ")
    template_files: list[str] = Field(
        default_factory=list, description="files of the step's email added, removed or changed"
    )

    def names(self) -> list[str]:
        """The changed fields by name, as a marketer reads them."""
        return [change.field for change in self.fields] + (["email content"] if self.template_files else [])


class PlanEdge(BaseModel):
    source: str
    target: str | None = Field(description="None: the journey ends there")
    label: str = Field(description="the event, condition, variant or 'timeout' that takes it; empty for next")


class PlanDiff(BaseModel):
    journey: str
    before: str | None = Field(description="the version compared from; None when nothing was deployed")
    after: str
    steps_added: list[str] = Field(default_factory=list)
    steps_removed: list[str] = Field(default_factory=list)
    steps_changed: list[StepChange] = Field(default_factory=list)
    edges_added: list[PlanEdge] = Field(default_factory=list)
    edges_removed: list[PlanEdge] = Field(default_factory=list)
    journey_changed: list[FieldChange] = Field(
        default_factory=list, description="trigger, entry, goal, exit_on, start, stage, description"
    )
    templates_added: list[str] = Field(default_factory=list)
    templates_removed: list[str] = Field(default_factory=list)
    templates_changed: list[str] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.before == self.after

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> list[str]:
        """The changes in words, a line each (edges are told by the steps they leave from)."""
        lines = [f"adds step `{step}`" for step in self.steps_added]
        lines += [f"removes step `{step}`" for step in self.steps_removed]
        for change in self.steps_changed:
            said = [_said(f) for f in change.fields]
            if change.template_files:
                said.append(f"email files {', '.join(change.template_files)}")
            lines.append(f"changes step `{change.step}`: {'; '.join(said)}")
        lines += [
            f"changes the journey's {_said(f)}" for f in self.journey_changed if self.before is not None
        ]
        shared = [
            n for n in self.templates_changed if not any(n in c.template_files for c in self.steps_changed)
        ]
        if shared:
            lines.append(f"changes template files {', '.join(shared)}")
        return lines

    def changed_step(self, step: str) -> StepChange | None:
        return next((change for change in self.steps_changed if change.step == step), None)


def _said(change: FieldChange) -> str:
    """One field's change in words: durations as journeys write them, settings key by key."""
    name = change.field.removesuffix("_seconds")
    before, after = change.before, change.after
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [key for key in dict.fromkeys([*before, *after]) if before.get(key) != after.get(key)]
        parts = [_said(FieldChange(field=key, before=before.get(key), after=after.get(key))) for key in keys]
        return f"{name} {', '.join(parts)}"

    def value(v: Any) -> str | None:
        if v is None:
            return "none"
        if change.field.endswith("_seconds") and isinstance(v, int):
            return format_duration(v)
        return str(v) if isinstance(v, str | int | bool) else None

    was, now = value(before), value(after)
    return f"{name} {was} → {now}" if was is not None and now is not None else name


def diff_plans(before: Plan | None, after: Plan) -> PlanDiff:
    """Everything that differs from ``before`` (None: a journey not deployed yet) to ``after``."""
    if before is None:
        return PlanDiff(
            journey=after.journey,
            before=None,
            after=after.version,
            steps_added=[node.id for node in after.nodes],
            edges_added=edges(after),
            journey_changed=[FieldChange(field=f, after=_value(after, f)) for f in JOURNEY_FIELDS],
            templates_added=sorted(after.templates),
        )
    old = {node.id: node for node in before.nodes}
    new = {node.id: node for node in after.nodes}
    old_edges, new_edges = Counter(_keys(edges(before))), Counter(_keys(edges(after)))
    return PlanDiff(
        journey=after.journey,
        before=before.version,
        after=after.version,
        steps_added=[step for step in new if step not in old],
        steps_removed=[step for step in old if step not in new],
        steps_changed=[
            change
            for step, node in new.items()
            if step in old and (change := _step_change(old[step], node, before, after)) is not None
        ],
        edges_added=_edges(new_edges - old_edges),
        edges_removed=_edges(old_edges - new_edges),
        journey_changed=[
            FieldChange(field=f, before=_value(before, f), after=_value(after, f))
            for f in JOURNEY_FIELDS
            if _value(before, f) != _value(after, f)
        ],
        templates_added=sorted(set(after.templates) - set(before.templates)),
        templates_removed=sorted(set(before.templates) - set(after.templates)),
        templates_changed=sorted(
            name
            for name in set(before.templates) & set(after.templates)
            if before.templates[name] != after.templates[name]
        ),
    )


def edges(plan: Plan) -> list[PlanEdge]:
    """Every edge of a plan, in step order: where each step can lead, and on what."""
    return [
        PlanEdge(source=node.id, target=target, label=label)
        for node in plan.nodes
        for target, label in _out(node)
    ]


def _out(node: Node) -> Iterator[tuple[str | None, str]]:
    if isinstance(node, WaitForNode):
        yield node.on_event, node.event
        yield node.on_timeout, "timeout"
    elif isinstance(node, BranchNode):
        for case in node.cases:
            yield case.next, case.when
        yield node.otherwise, "else"
    elif isinstance(node, SplitNode):
        for variant in node.variants:
            yield variant.next, variant.name
    elif not isinstance(node, ExitNode):
        yield node.next, ""


def _keys(found: list[PlanEdge]) -> list[tuple[str, str | None, str]]:
    return [(edge.source, edge.target, edge.label) for edge in found]


def _edges(keys: Counter[tuple[str, str | None, str]]) -> list[PlanEdge]:
    return [
        PlanEdge(source=source, target=target, label=label)
        for (source, target, label), n in keys.items()
        for _ in range(n)
    ]


def _fields(node: Node) -> dict[str, Any]:
    fields = node.model_dump(mode="json", exclude={"id"})
    if isinstance(node, _NEXT_UNUSED):
        fields.pop("next", None)
    return fields


def _step_change(old: Node, new: Node, before: Plan, after: Plan) -> StepChange | None:
    was, now = _fields(old), _fields(new)
    names = list(dict.fromkeys([*now, *was]))
    if was.get("kind") != now.get("kind"):
        names = ["kind", *(name for name in names if name != "kind")]
    changes = [
        FieldChange(field=name, before=was.get(name), after=now.get(name))
        for name in names
        if was.get(name) != now.get(name)
    ]
    files: list[str] = []
    if isinstance(old, SendEmailNode) and isinstance(new, SendEmailNode) and old.template == new.template:
        prefix = f"{new.template}/"
        names_before = {n for n in before.templates if n.startswith(prefix)}
        names_after = {n for n in after.templates if n.startswith(prefix)}
        files = sorted(
            n for n in names_before | names_after if before.templates.get(n) != after.templates.get(n)
        )
    if not changes and not files:
        return None
    return StepChange(step=new.id, kind=new.kind, fields=changes, template_files=files)


def _value(plan: Plan, field: str) -> Any:
    value = getattr(plan, field)
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def yaml_diff(before: str, after: str, *, before_name: str, after_name: str, context: int = 3) -> str:
    """The unified diff of two texts (empty when they are equal), as ``diff -u`` prints it."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    if a == b:
        return ""
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    a_end, b_end = len(a) - tail, len(b) - tail
    middle: list[Opcode]
    if (a_end - head) * (b_end - head) <= MAX_DIFF_CELLS:
        matcher = difflib.SequenceMatcher(None, a[head:a_end], b[head:b_end], autojunk=True)
        middle = [
            (tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        ]
    else:
        middle = [("replace", head, a_end, head, b_end)]
    opcodes: list[Opcode] = []
    if head:
        opcodes.append(("equal", 0, head, 0, head))
    opcodes += middle
    if tail:
        opcodes.append(("equal", a_end, len(a), b_end, len(b)))
    lines = [f"--- {before_name}\n", f"+++ {after_name}\n"]
    for group in _Given(opcodes).get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        lines.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += _lines(" ", a[i1:i2])
                continue
            if tag in ("replace", "delete"):
                lines += _lines("-", a[i1:i2])
            if tag in ("replace", "insert"):
                lines += _lines("+", b[j1:j2])
    return "".join(lines)


Opcode = tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]


class _Given(difflib.SequenceMatcher[str]):
    """A matcher that answers the opcodes it is given (to group them into hunks as difflib does)."""

    def __init__(self, opcodes: list[Opcode]) -> None:
        super().__init__(None, [], [])
        self._given = opcodes

    def get_opcodes(self) -> list[Opcode]:
        return self._given


def _range(start: int, stop: int) -> str:
    """A hunk's line range as unified diffs write it (difflib's ``_format_range_unified``)."""
    beginning, length = start + 1, stop - start
    if length == 1:
        return f"{beginning}"
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


def _lines(mark: str, found: Sequence[str]) -> list[str]:
    return [mark + (line if line.endswith("\n") else line + "\n") for line in found]

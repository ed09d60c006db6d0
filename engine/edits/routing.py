"""Where each step goes: its ways out as the diagram draws them, where each is written, and the
writes that keep every way out going where it should after steps are inserted, moved or removed.

A way out names its target itself (``on_timeout: nudge``) or falls back on the step's default: its
``next``, else the step below it in the list, else the end. A step's default moves when the list
changes around it, so ``keep_routes`` compares every way out with where it should go and writes
what is needed (an explicit ``next``, or the way's own key), the fewest writes first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from engine.schema import step_kind

ENTRY, END = "__entry", "__end"
"""The diagram's trigger and end nodes (``api.ui.graph`` names them so too): no step id starts with _."""

WayKind = Literal["next", "event", "timeout", "case", "else", "variant"]
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Way:
    """One way out of a step, in the order the diagram numbers them (``#0``, ``#1``, ...)."""

    kind: WayKind
    index: int = 0  # the case or variant
    path: FieldPath | None = None  # where the way writes its own target; None: only the default

    def describe(self) -> str:
        if self.kind in ("case", "variant"):
            return f"{self.kind} {self.index}"
        return {"next": "next", "event": "event", "timeout": "timeout", "else": "else"}[self.kind]


Step = Mapping[str, Any]
Key = tuple[int, WayKind, int]  # (id() of the step's mapping, way kind, index): steps move, ids may repeat


def ways(step: Step) -> list[Way]:
    """The ways out of ``step``: none for an exit; a split's control group is no way to another step."""
    kind = step_kind(dict(step)) if isinstance(step, Mapping) else None
    if kind == "exit":
        return []
    if kind == "wait_for":
        return [Way("event", 0, ("on_event",)), Way("timeout", 0, ("on_timeout",))]
    if kind == "branch":
        cases = _items(step, "branch", "cases")
        found = [Way("case", i, ("branch", "cases", i, "next")) for i in range(len(cases))]
        return [*found, Way("else", 0, ("branch", "else"))]
    if kind == "split":
        variants = _items(step, "split", "variants")
        return [Way("variant", i, ("split", "variants", i, "next")) for i in range(len(variants))]
    return [Way("next")]


def has_control(step: Step) -> bool:
    split = step.get("split")
    return isinstance(split, Mapping) and isinstance(split.get("control"), int) and split["control"] > 0


def _items(step: Step, kind: str, key: str) -> list[Any]:
    spec = step.get(kind)
    items = spec.get(key) if isinstance(spec, Mapping) else None
    return list(items) if isinstance(items, list) else []


def read(step: Step, path: FieldPath) -> Any:
    current: Any = step
    for part in path:
        if isinstance(part, int):
            current = current[part] if isinstance(current, list) and part < len(current) else None
        else:
            current = current.get(part) if isinstance(current, Mapping) else None
    return current


def own_target(step: Step, way: Way) -> str | None:
    """The target ``way`` writes itself, or None when it falls back on the step's default."""
    if way.path is None:
        return None
    value = read(step, way.path)
    return value if isinstance(value, str) else None


def default_target(steps: Sequence[Step], position: int) -> str | None:
    step = steps[position]
    written = step.get("next")
    if isinstance(written, str):
        return written
    return str(steps[position + 1]["id"]) if position + 1 < len(steps) else None


def target(steps: Sequence[Step], position: int, way: Way) -> str | None:
    """Where ``way`` out of ``steps[position]`` goes: a step id, or None for the end."""
    return own_target(steps[position], way) or default_target(steps, position)


def key(step: Step, way: Way) -> Key:
    return (id(step), way.kind, way.index)


def routes(steps: Sequence[Step]) -> dict[Key, str | None]:
    """Where every way out of every step goes now."""
    return {key(step, way): target(steps, i, way) for i, step in enumerate(steps) for way in ways(step)}


@dataclass(frozen=True)
class Write:
    """Set ``path`` of ``step`` to ``value``; None removes the key."""

    step: Step
    path: FieldPath
    value: str | None


class Unroutable(Exception):
    """A way out should end the journey where the language cannot write that."""

    def __init__(self, position: int, way: Way) -> None:
        super().__init__(position, way)
        self.position = position
        self.way = way


def keep_routes(steps: Sequence[Step], wanted: Mapping[Key, str | None]) -> list[Write]:
    """The fewest writes after which every way out of ``steps`` goes where ``wanted`` says (ways it
    does not name go where they go in ``steps``); ``Unroutable`` when one cannot.

    Only the last step can end the journey without an exit step (by having nowhere to fall to), so a
    way out that should end elsewhere cannot be written.
    """
    writes: list[Write] = []
    for position, step in enumerate(steps):
        step_ways = ways(step)
        if step_ways:
            writes += _step_writes(steps, position, step, step_ways, wanted)
    return writes


def _step_writes(
    steps: Sequence[Step], position: int, step: Step, step_ways: list[Way], wanted: Mapping[Key, str | None]
) -> list[Write]:
    following = str(steps[position + 1]["id"]) if position + 1 < len(steps) else None
    written_next = step.get("next") if isinstance(step.get("next"), str) else None
    want = {way: wanted.get(key(step, way), target(steps, position, way)) for way in step_ways}
    # The step's default may stay, be written (next: X) or be removed (falling to the step below).
    defaults: list[tuple[str | None, list[Write]]] = [(written_next or following, [])]
    for goal in dict.fromkeys(value for value in want.values() if value is not None):
        if goal != written_next:
            defaults.append((goal, [Write(step, ("next",), goal)]))
    if written_next is not None:
        defaults.append((following, [Write(step, ("next",), None)]))
    best: list[Write] | None = None
    for default, changes in defaults:
        found = _ways_writes(step, want, default)
        if found is not None and (best is None or len(changes) + len(found) < len(best)):
            best = changes + found
    if best is None:
        way = next(w for w, goal in want.items() if goal is None)
        raise Unroutable(position, way)
    return best


def _ways_writes(step: Step, want: Mapping[Way, str | None], default: str | None) -> list[Write] | None:
    """The writes of each way's own key with the step's default ``default``; None if one cannot."""
    writes: list[Write] = []
    for way, goal in want.items():
        own = own_target(step, way)
        if way.path is None:  # a way that is the step's default and nothing else
            if goal != default:
                return None
        elif own is not None and own != goal:
            if goal is not None:
                writes.append(Write(step, way.path, goal))
            elif default is None and way.kind != "case":  # a case always names its target
                writes.append(Write(step, way.path, None))
            else:
                return None
        elif own is None and goal != default:
            if goal is None:
                return None
            writes.append(Write(step, way.path, goal))
    return writes

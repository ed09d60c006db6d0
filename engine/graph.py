"""The step graph of a journey: resolved successors, reachability and loops that never wait."""

from __future__ import annotations

from dataclasses import dataclass

from engine.schema import (
    BranchStep,
    ExitStep,
    Journey,
    SplitStep,
    StepBase,
    WaitForStep,
    WaitStep,
)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str | None  # None: the journey ends here
    label: str
    field: tuple[str | int, ...]  # where the target is written, relative to the step


def edges(journey: Journey) -> list[Edge]:
    """Every edge of the journey, with steps running in list order unless told otherwise."""
    steps: list[StepBase] = list(journey.steps)
    result: list[Edge] = []
    for index, step in enumerate(steps):
        following = steps[index + 1].id if index + 1 < len(steps) else None
        default = step.next if step.next is not None else following
        default_field: tuple[str | int, ...] = ("next",) if step.next is not None else ()
        if isinstance(step, ExitStep):
            continue
        if isinstance(step, WaitForStep):
            on_event = step.on_event if step.on_event is not None else default
            on_timeout = step.on_timeout if step.on_timeout is not None else default
            event_field = ("on_event",) if step.on_event is not None else default_field
            timeout_field = ("on_timeout",) if step.on_timeout is not None else default_field
            result.append(Edge(step.id, on_event, step.wait_for.event, event_field))
            result.append(Edge(step.id, on_timeout, f"timeout {step.wait_for.timeout}", timeout_field))
        elif isinstance(step, BranchStep):
            for i, case in enumerate(step.branch.cases):
                result.append(Edge(step.id, case.next, case.when, ("branch", "cases", i, "next")))
            otherwise = step.branch.otherwise if step.branch.otherwise is not None else default
            field = ("branch", "else") if step.branch.otherwise is not None else default_field
            result.append(Edge(step.id, otherwise, "else", field))
        elif isinstance(step, SplitStep):
            for i, variant in enumerate(step.split.variants):
                target = variant.next if variant.next is not None else default
                field = ("split", "variants", i, "next") if variant.next is not None else default_field
                result.append(Edge(step.id, target, f"{variant.name} ({variant.weight})", field))
        else:
            result.append(Edge(step.id, default, "", default_field))
    return result


def unreachable(journey: Journey) -> list[str]:
    """Step ids that no path from the first step reaches, in list order."""
    ids = [step.id for step in journey.steps]
    outgoing: dict[str, list[str]] = {step_id: [] for step_id in ids}
    for edge in edges(journey):
        if edge.target in outgoing:
            outgoing[edge.source].append(edge.target)
    seen = {ids[0]}
    frontier = [ids[0]]
    while frontier:
        current = frontier.pop()
        for target in outgoing[current]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return [step_id for step_id in ids if step_id not in seen]


def loops_without_wait(journey: Journey) -> list[list[str]]:
    """Cycles made only of steps that do not wait: a customer would spin there forever."""
    waiting = {s.id for s in journey.steps if isinstance(s, WaitStep | WaitForStep)}
    ids = [s.id for s in journey.steps if s.id not in waiting]
    outgoing: dict[str, list[str]] = {step_id: [] for step_id in ids}
    for edge in edges(journey):
        if edge.source in outgoing and edge.target in outgoing:
            outgoing[edge.source].append(edge.target)
    return [c for c in _components(ids, outgoing) if len(c) > 1 or c[0] in outgoing[c[0]]]


def _components(ids: list[str], outgoing: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan's, without recursion: a journey may have thousands of
    steps in a row), each in list order of the journey."""
    position = {step_id: i for i, step_id in reversed(list(enumerate(ids)))}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in ids:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work: list[tuple[str, int]] = [(root, 0)]  # (node, how many of its targets were looked at)
        while work:
            node, next_target = work[-1]
            targets = outgoing[node]
            if next_target < len(targets):
                work[-1] = (node, next_target + 1)
                target = targets[next_target]
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component, key=position.__getitem__))
    return found

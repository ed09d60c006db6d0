"""The four canvas edits of a journey source: insert a step on an edge, delete a step, retarget an
edge, set a step's fields. Each rewrites only what it changes and keeps every other way out of every
other step going where it went; each result is validated as ``journeys validate`` would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from engine.checks import did_you_mean
from engine.edits import routing, values
from engine.edits.document import Document, EditRefused, load
from engine.edits.model import DeleteStep, Edge, EdgeRef, InsertStep, Operation, RetargetEdge
from engine.edits.routing import END, ENTRY, Unroutable, Way, Write
from engine.errors import JourneyError, JourneyValidationError
from engine.limits import MAX_ID_LENGTH
from engine.loader import compile_text
from engine.plan import Plan
from engine.schema import SLUG, STEP_KINDS

FILE = "journey.yaml"
_EDGE_ID = re.compile(r"^([a-z_][a-z0-9_]*)>([a-z_][a-z0-9_]*)#([0-9]{1,5})$")
_ROUTING_KEYS = ("next", "on_event", "on_timeout")


@dataclass(frozen=True)
class EditResult:
    """The edited source and its problems as ``journeys validate`` lists them; the plan when valid."""

    source: str
    problems: list[JourneyError]
    plan: Plan | None

    @property
    def valid(self) -> bool:
        return not self.problems


def validated(text: str, templates_dir: Path, file: str = FILE) -> EditResult:
    try:
        plan = compile_text(text, file, templates_dir)
    except JourneyValidationError as exc:
        return EditResult(text, exc.errors, None)
    return EditResult(text, [], plan)


def insert_step(
    source: str,
    edge: EdgeRef,
    kind: str,
    fields: Mapping[str, Any],
    *,
    step_id: str | None = None,
    templates_dir: Path,
    file: str = FILE,
) -> EditResult:
    """Insert a new ``kind`` step on ``edge``: the edge goes to it, and it goes where the edge went.

    ``fields`` are the step's keys besides its id, as the YAML writes them (``{"wait": "2d"}``,
    ``{"send": {"email": "welcome"}}``); an exit needs none. A branch case without ``next`` goes
    where the edge went. The id is ``<kind>_<n>`` (``wait_1``, ``wait_2``, ...) unless given.
    """
    document = load(source, file)
    _insert(document, edge, kind, fields, step_id)
    return validated(document.dump(), templates_dir, file)


def delete_step(
    source: str, step_id: str, *, reconnect_to: str | None = None, templates_dir: Path, file: str = FILE
) -> EditResult:
    """Delete ``step_id``; every edge that led to it leads where it went (its one way out), or to
    ``reconnect_to`` (a step, or ``__end``), which a step with several ways out needs."""
    document = load(source, file)
    _delete(document, step_id, reconnect_to)
    return validated(document.dump(), templates_dir, file)


def retarget_edge(
    source: str, edge: EdgeRef, target: str, *, templates_dir: Path, file: str = FILE
) -> EditResult:
    """Point ``edge`` at the step ``target`` (or ``__end``, where only the end of the list can say it)."""
    document = load(source, file)
    _retarget(document, edge, target)
    return validated(document.dump(), templates_dir, file)


def set_fields(
    source: str, step_id: str, fields: Mapping[str, Any], *, templates_dir: Path, file: str = FILE
) -> EditResult:
    """Write ``fields`` into the step: a mapping merges key by key (``{"award": {"points": 75}}``
    keeps the reason), a list item by item, anything else replaces; null removes a key (``exit:``
    it empties). ``{"id": "new"}`` renames the step and every way out that names it."""
    document = load(source, file)
    _set_fields(document, step_id, fields)
    return validated(document.dump(), templates_dir, file)


def apply(source: str, operation: Operation, *, templates_dir: Path, file: str = FILE) -> EditResult:
    """Carry out one operation as the API receives it."""
    if isinstance(operation, InsertStep):
        return insert_step(
            source,
            operation.edge,
            operation.kind,
            operation.fields,
            step_id=operation.id,
            templates_dir=templates_dir,
            file=file,
        )
    if isinstance(operation, DeleteStep):
        return delete_step(
            source,
            operation.step,
            reconnect_to=operation.reconnect_to,
            templates_dir=templates_dir,
            file=file,
        )
    if isinstance(operation, RetargetEdge):
        return retarget_edge(source, operation.edge, operation.target, templates_dir=templates_dir, file=file)
    return set_fields(source, operation.step, operation.fields, templates_dir=templates_dir, file=file)


# --------------------------------------------------------------------------- finding things


@dataclass(frozen=True)
class _Located:
    position: int | None  # the step the edge leaves; None for the trigger's edge
    way: Way | None
    target: str | None  # where it goes now; None: the end


def _ids(document: Document) -> list[str]:
    return [str(step["id"]) for step in document.steps]


def _position(document: Document, step_id: str, what: str = "step") -> int:
    ids = _ids(document)
    found = [i for i, known in enumerate(ids) if known == step_id]
    if not found:
        raise document.refuse(("steps",), f'there is no {what} "{step_id}"' + did_you_mean(step_id, ids))
    if len(found) > 1:
        raise document.refuse(
            ("steps", found[1], "id"),
            f'step id "{step_id}" is used twice (steps[{found[0]}] and steps[{found[1]}]); fix that first',
        )
    return found[0]


def _describe(document: Document, position: int, way: Way) -> str:
    return f'the {way.describe()} way out of "{document.steps[position]["id"]}"'


def _locate(document: Document, edge: EdgeRef) -> _Located:
    steps = document.steps
    if isinstance(edge, Edge):
        return _locate_way(document, edge)
    match = _EDGE_ID.match(edge)
    if match is None:
        raise document.refuse(
            (), f'"{edge[:80]}" is not an edge: write <step>><target>#<n> as the diagram names it'
        )
    source, drawn_target, number = match.group(1), match.group(2), int(match.group(3))
    if source == ENTRY:
        if number != 0:
            raise document.refuse((), f'the trigger has one edge, #0; there is no "{edge}"')
        located = _Located(None, None, str(steps[0]["id"]))
    else:
        position = _position(document, source)
        step_ways = routing.ways(steps[position])
        if number < len(step_ways):
            way = step_ways[number]
        elif number == len(step_ways) and routing.has_control(steps[position]):
            raise _control(document, position)
        else:
            count = len(step_ways)
            raise document.refuse(
                ("steps", position),
                f'step "{source}" has {count} way{"s" if count != 1 else ""} out; there is no "{edge}"',
            )
        located = _Located(position, way, routing.target(steps, position, way))
    now = located.target or END
    if drawn_target != now:
        where = (
            "the trigger's edge"
            if located.way is None
            else _describe(document, located.position or 0, located.way)
        )
        raise document.refuse(
            ("steps", located.position) if located.position is not None else ("steps",),
            f'"{edge}" is out of date: {where} goes to "{now}" now; draw the journey again',
        )
    return located


def _locate_way(document: Document, edge: Edge) -> _Located:
    steps = document.steps
    if edge.way == "entry" or edge.step == ENTRY:
        if edge.way != "entry" or edge.step != ENTRY:
            raise document.refuse((), f'the trigger\'s edge is {{"step": "{ENTRY}", "way": "entry"}}')
        return _Located(None, None, str(steps[0]["id"]))
    position = _position(document, edge.step)
    step_ways = routing.ways(steps[position])
    for way in step_ways:
        if way.kind == edge.way and way.index == edge.index:
            return _Located(position, way, routing.target(steps, position, way))
    names = ", ".join(way.describe() for way in step_ways) or "none (it ends the journey)"
    wanted = f"{edge.way} {edge.index}" if edge.way in ("case", "variant") else edge.way
    raise document.refuse(
        ("steps", position), f'step "{edge.step}" has no "{wanted}" way out; its ways out: {names}'
    )


def _control(document: Document, position: int) -> EditRefused:
    return document.refuse(
        ("steps", position, "split", "control"),
        f'the control group of "{document.steps[position]["id"]}" always leaves the journey at the split; '
        "change control to hold out fewer or none",
    )


# --------------------------------------------------------------------------- the operations


def _apply_writes(writes: list[Write]) -> None:
    for change in writes:
        assert isinstance(change.step, CommentedMap)
        values.write(change.step, change.path, change.value)


def _unroutable(document: Document, exc: Unroutable, doing: str, instead: str) -> EditRefused:
    step = document.steps[exc.position]
    return document.refuse(
        document.step_path(str(step["id"])),
        f'{doing}: the {exc.way.describe()} way out of "{step["id"]}" would have to end the journey, and '
        f"only the last step can end it without an exit step; {instead}",
    )


def _move(steps: CommentedSeq, source: int, destination: int) -> None:
    """Move a step, the comment lines above it and its end-of-line comment with it."""
    comments = steps.ca.items.get(source)
    item = steps[source]
    del steps[source]
    steps.insert(destination, item)
    if comments is not None:
        steps.ca.items[destination] = comments


def _check_new_id(document: Document, step_id: str) -> None:
    if not re.match(SLUG, step_id) or len(step_id) > MAX_ID_LENGTH:
        raise document.refuse(
            ("steps",),
            f'"{step_id[:MAX_ID_LENGTH]}" is not a valid step id: use lower case letters, digits and _, '
            f"starting with a letter, at most {MAX_ID_LENGTH} characters",
        )
    if step_id in _ids(document):
        raise document.refuse(("steps", _ids(document).index(step_id), "id"), f'step id "{step_id}" is taken')


def fresh_id(kind: str, taken: Sequence[str]) -> str:
    """``<kind>_<n>`` with the smallest n from 1 that no step has."""
    used = set(taken)
    number = 1
    while f"{kind}_{number}" in used:
        number += 1
    return f"{kind}_{number}"


def _new_step(
    document: Document, kind: str, fields: Mapping[str, Any], step_id: str | None
) -> dict[str, Any]:
    if kind not in STEP_KINDS:
        raise document.refuse((), f'"{kind}" is not a step kind; use one of {", ".join(STEP_KINDS)}')
    _check_fields(document, fields)
    for key in ("id", *_ROUTING_KEYS):
        if key in fields:
            message = (
                "give the new step's id as id, beside kind and fields"
                if key == "id"
                else f"the new step goes where the edge went; leave {key} out and retarget it after inserting"
            )
            raise document.refuse(("steps",), f'fields must not hold "{key}": {message}')
    others = [k for k in STEP_KINDS if k in fields and k != kind]
    if others:
        raise document.refuse(("steps",), f"a {kind} step cannot also be a {' or '.join(others)} step")
    if kind not in fields and kind != "exit":
        raise document.refuse(
            ("steps",), f'a new {kind} step needs its "{kind}" field, e.g. {_EXAMPLES[kind]}'
        )
    new_id = step_id if step_id is not None else fresh_id(kind, _ids(document))
    _check_new_id(document, new_id)
    step: dict[str, Any] = {"id": new_id}
    if "description" in fields:
        step["description"] = fields["description"]
    step[kind] = fields.get(kind)
    step.update({key: value for key, value in fields.items() if key not in step})
    return step


_EXAMPLES = {
    "send": '{"send": {"email": "welcome"}}',
    "wait": '{"wait": "2d"}',
    "wait_for": '{"wait_for": {"event": "purchase_completed", "timeout": "7d"}}',
    "branch": '{"branch": {"cases": [{"when": "customer.points >= 500"}]}}',
    "split": '{"split": {"variants": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]}}',
    "award": '{"award": {"points": 50, "reason": "Profile completed"}}',
    "set_stage": '{"set_stage": "retention"}',
    "exit": '{"exit": "done"}',
}


def _check_fields(document: Document, fields: Mapping[str, Any]) -> None:
    try:
        values.check_value(dict(fields), "fields")
    except values.BadValue as exc:
        raise document.refuse((), f"{exc.path}: {exc.message}") from exc


def _fill_cases(step: dict[str, Any], target: str | None) -> None:
    """Branch cases without a next go where the edge went (a case always names its step)."""
    branch = step.get("branch")
    if target is None or not isinstance(branch, dict) or not isinstance(branch.get("cases"), list):
        return
    cases = [
        {**case, "next": target} if isinstance(case, dict) and "next" not in case else case
        for case in branch["cases"]
    ]
    step["branch"] = {**branch, "cases": cases}


def _insert(
    document: Document, edge: EdgeRef, kind: str, fields: Mapping[str, Any], step_id: str | None
) -> None:
    steps = document.steps
    located = _locate(document, edge)
    plain = _new_step(document, kind, fields, step_id)
    _fill_cases(plain, located.target)
    before = routing.routes(steps)
    source_step = steps[located.position] if located.position is not None else None
    start = plain if source_step is None else steps[0]  # where the journey must start after

    def goals(new: Mapping[str, Any]) -> dict[routing.Key, str | None]:
        wanted = dict(before)
        if source_step is not None and located.way is not None:
            wanted[routing.key(source_step, located.way)] = str(new["id"])
        wanted.update({routing.key(new, way): located.target for way in routing.ways(new)})
        return wanted

    # Right after the step the edge leaves, right before the step it went to, or last: where the
    # fewest other steps need a next written (the first of them on a tie).
    if source_step is None or located.position is None:
        candidates = [0]
    else:
        ids = _ids(document)
        before_target = ids.index(located.target) if located.target in ids else None
        candidates = [p for p in dict.fromkeys((located.position + 1, before_target, len(steps))) if p]
    best: tuple[int, int] | None = None  # (writes, position)
    for position in candidates:
        trial: list[Any] = list(steps)
        trial.insert(position, plain)
        if trial[0] is not start:
            continue
        try:
            count = len(routing.keep_routes(trial, goals(plain)))
        except Unroutable:
            continue
        if best is None or count < best[0]:
            best = (count, position)
    if best is None:
        assert located.position is not None and located.way is not None  # the entry always fits
        raise document.refuse(
            ("steps", located.position),
            f"cannot insert on {_describe(document, located.position, located.way)}: it ends the journey, "
            "and so does another way out of the same step, while only the last step can end it without "
            "an exit step; insert an exit step instead",
        )
    position = best[1]
    # A step of plain values is written on one line where a step next to it is (as most are).
    neighbours = [steps[p] for p in (position - 1, position) if 0 <= p < len(steps)]
    flow = any(values.is_flow(step) for step in neighbours) and all(
        not isinstance(value, list) and not (isinstance(value, Mapping) and not _flat(value))
        for value in plain.values()
    )
    new = values.node(plain, flow=flow)
    steps.insert(position, new)
    _apply_writes(routing.keep_routes(steps, goals(new)))


def _flat(value: Mapping[str, Any]) -> bool:
    return all(not isinstance(item, Mapping | list) for item in value.values())


def _delete(document: Document, step_id: str, reconnect_to: str | None) -> None:
    steps = document.steps
    position = _position(document, step_id)
    if len(steps) == 1:
        raise document.refuse(
            ("steps", 0),
            f'"{step_id}" is the only step, and a journey needs at least one; it cannot be deleted',
        )
    step = steps[position]
    step_ways = routing.ways(step)
    if reconnect_to is not None:
        if reconnect_to == step_id:
            raise document.refuse(
                ("steps", position), f'"{step_id}" cannot reconnect to itself: it is being deleted'
            )
        out = None if reconnect_to == END else reconnect_to
        if out is not None:
            _position(document, out)
    else:
        outs = {routing.target(steps, position, way) for way in step_ways}
        if not step_ways or routing.has_control(step):
            outs.add(None)
        if len(outs) > 1:
            shown = ", ".join(f'"{target or END}"' for target in sorted(outs, key=lambda t: t or ""))
            raise document.refuse(
                ("steps", position),
                f'"{step_id}" has several ways out ({shown}); say where the edges into it go instead '
                f"(reconnect_to: a step, or {END})",
            )
        out = outs.pop()
        if out == step_id:
            raise document.refuse(
                ("steps", position),
                f'"{step_id}" goes only to itself; say where the edges into it go instead (reconnect_to)',
            )
    before = routing.routes(steps)
    goals = {
        key: (out if target == step_id else target) for key, target in before.items() if key[0] != id(step)
    }
    del steps[position]
    if position == 0:
        if out is None:
            raise document.refuse(
                ("steps", 0),
                f'"{step_id}" is the first step and leads to the end: nothing would be left to start at',
            )
        if steps[0]["id"] != out:
            _move(steps, _ids(document).index(out), 0)
    try:
        writes = routing.keep_routes(steps, goals)
    except Unroutable as exc:
        instead = "say where it goes instead (reconnect_to: a step)"
        raise _unroutable(document, exc, f'cannot delete "{step_id}"', instead) from exc
    _apply_writes(writes)


def _retarget(document: Document, edge: EdgeRef, target: str) -> None:
    steps = document.steps
    located = _locate(document, edge)
    goal = None if target == END else target
    if goal is not None:
        _position(document, goal)
    before = routing.routes(steps)
    if located.position is None or located.way is None:
        if goal is None:
            raise document.refuse(
                ("steps",), f"the journey starts at a step; the trigger's edge cannot go to {END}"
            )
        _move(steps, _ids(document).index(goal), 0)
        goals = before
    else:
        goals = {**before, routing.key(steps[located.position], located.way): goal}
    try:
        writes = routing.keep_routes(steps, goals)
    except Unroutable as exc:
        instead = "send it to an exit step instead"
        raise _unroutable(document, exc, f"cannot send it to {END}", instead) from exc
    _apply_writes(writes)


def _set_fields(document: Document, step_id: str, fields: Mapping[str, Any]) -> None:
    position = _position(document, step_id)
    _check_fields(document, fields)
    step = document.steps[position]
    rest = dict(fields)
    if "id" in rest:
        _rename(document, position, rest.pop("id"))
    if "description" in rest and "description" not in step and rest["description"] is not None:
        step.insert(1, "description", values.text(str(rest.pop("description"))))
    values.merge(step, rest, keep=frozenset({"exit"}))


def _rename(document: Document, position: int, new_id: Any) -> None:
    old = str(document.steps[position]["id"])
    if not isinstance(new_id, str):
        raise document.refuse(("steps", position, "id"), "a step id is text")
    if new_id == old:
        return
    _check_new_id(document, new_id)
    for step in document.steps:
        paths: list[routing.FieldPath] = [("next",)]
        paths += [way.path for way in routing.ways(step) if way.path is not None]
        for path in paths:
            if routing.read(step, path) == old:
                values.write(step, path, new_id)
    document.steps[position]["id"] = values.text(new_id)

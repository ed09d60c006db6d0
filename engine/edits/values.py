"""The values an edit writes (JSON's: text, numbers, booleans, null, lists and mappings) as YAML
that reads back as the same values, in the styles of the language's examples, and merged into a
step so that what the edit does not name keeps its text, quoting and comments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from engine.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES
from engine.source import format_path

FieldPath = tuple[str | int, ...]
_TEXT = "tag:yaml.org,2002:str"
# Written plain when both YAML 1.1 (the engine's reader) and 1.2 (ruamel's) read it back as text.
_PLAIN = re.compile(r"^[A-Za-z0-9_./][A-Za-z0-9_ ./-]*$")
_READ_11 = yaml.resolver.Resolver()
_READ_12 = VersionedResolver(version=(1, 2))
_STYLES = (DoubleQuotedScalarString, SingleQuotedScalarString, FoldedScalarString, LiteralScalarString)


class BadValue(Exception):
    """A value an edit cannot write; ``path`` is where in the operation, e.g. ``fields.award.points``."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def check_value(value: Any, name: str) -> None:
    """Refuse what no journey file could hold: the engine's own limits on depth, values and size
    (each checked without recursion, before anything is built), JSON types only, text keys."""
    stack: list[tuple[Any, FieldPath, int]] = [(value, (name,), 1)]
    count = size = 0
    while stack:
        current, path, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise BadValue(format_path(path), f"the operation holds more than {MAX_NODES:,} values")
        if isinstance(current, Mapping | list) and depth > MAX_DEPTH:
            raise BadValue(format_path(path), f"nesting deeper than {MAX_DEPTH} levels is not allowed")
        if isinstance(current, str):
            size += len(current)
        if size > MAX_FILE_BYTES:
            message = (
                f"the operation is larger than {MAX_FILE_BYTES // 1024} KB, the most a journey file may be"
            )
            raise BadValue(format_path(path), message)
        if isinstance(current, Mapping):
            for key, item in current.items():
                if not isinstance(key, str):
                    raise BadValue(format_path(path), f"keys are text; {key!r} is not")
                size += len(key)
                stack.append((item, (*path, key), depth + 1))
        elif isinstance(current, list):
            stack.extend((item, (*path, i), depth + 1) for i, item in enumerate(current))
        elif not isinstance(current, str | int | float | bool) and current is not None:
            raise BadValue(format_path(path), f"{type(current).__name__} is not a value a journey holds")


def text(value: str) -> str:
    """``value`` as YAML will read it back: plain where that is safe, else double-quoted (single
    quotes when it holds double quotes and no single ones)."""
    plain = (
        _PLAIN.match(value) is not None
        and not value.endswith(" ")
        and _READ_11.resolve(yaml.ScalarNode, value, (True, False)) == _TEXT  # type: ignore[no-untyped-call]
        and str(_READ_12.resolve(ScalarNode, value, (True, False))) == _TEXT
    )
    if plain:
        return value
    quoted: str = (
        SingleQuotedScalarString(value)
        if '"' in value and "'" not in value
        else DoubleQuotedScalarString(value)
    )
    return quoted


def _simple(value: Any) -> bool:
    items = value.values() if isinstance(value, Mapping) else value
    return all(not isinstance(item, Mapping | list) for item in items)


def node(value: Any, *, flow: bool | None = None) -> Any:
    """``value`` as a YAML node. A mapping or list of plain values is written in flow style
    (``{event: x, timeout: 3d}``, ``[a, b]``), others as blocks; ``flow`` decides for the top."""
    if isinstance(value, Mapping):
        as_flow = _simple(value) if flow is None else flow
        mapping = CommentedMap(
            (key, node(item, flow=True if as_flow else None)) for key, item in value.items()
        )
        mapping.fa.set_flow_style() if as_flow else mapping.fa.set_block_style()
        return mapping
    if isinstance(value, list):
        as_flow = _simple(value) if flow is None else flow
        items = CommentedSeq(node(item, flow=True if as_flow else None) for item in value)
        items.fa.set_flow_style() if as_flow else items.fa.set_block_style()
        return items
    if isinstance(value, str):
        return text(value)
    return value


def is_flow(value: Any) -> bool:
    return isinstance(value, CommentedMap | CommentedSeq) and bool(value.fa.flow_style())


def _like(old: Any, new: Any, inside_flow: bool) -> Any:
    """``new`` in the style ``old`` was written in (its quotes, its flow or block)."""
    if isinstance(new, str) and isinstance(old, _STYLES):
        return type(old)(new)
    if isinstance(new, Mapping | list):
        if inside_flow:
            return node(new, flow=True)
        return node(new, flow=True if is_flow(old) else None)
    return node(new)


def merge(target: CommentedMap, fields: Mapping[str, Any], *, keep: frozenset[str] = frozenset()) -> None:
    """Write ``fields`` into ``target``: a mapping merges key by key, a list item by item (a shorter
    list drops the items past its end), anything else replaces; None removes a key, except the keys
    in ``keep``, which it sets to null. New keys go last, keys already there stay where they are."""
    inside_flow = is_flow(target)
    for key, value in fields.items():
        old = target.get(key)
        if value is None and key not in keep:
            if key in target:
                del target[key]
        elif isinstance(old, CommentedMap) and isinstance(value, Mapping):
            merge(old, value)
        elif isinstance(old, CommentedSeq) and isinstance(value, list):
            _merge_list(old, value)
        else:
            target[key] = _like(old, value, inside_flow)


def _merge_list(target: CommentedSeq, values: list[Any]) -> None:
    inside_flow = is_flow(target)
    for index, value in enumerate(values):
        if index >= len(target):
            target.append(node(value, flow=True if inside_flow else None))
        elif isinstance(target[index], CommentedMap) and isinstance(value, Mapping):
            merge(target[index], value)
        else:
            target[index] = _like(target[index], value, inside_flow)
    while len(target) > len(values):
        del target[len(target) - 1]  # never a negative index: ruamel then renumbers the comments wrong


# Where a way out's key goes when a step does not have it yet.
_BEFORE = {"on_event": "on_timeout"}


def write(step: CommentedMap, path: FieldPath, value: str | None) -> None:
    """Set (or, for None, remove) the way-out key at ``path`` in ``step``."""
    parent: Any = step
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if value is None:
        if last in parent:
            del parent[last]
    elif last in parent:
        parent[last] = _like(parent[last], value, is_flow(parent))
    elif isinstance(last, str) and _BEFORE.get(last) in parent:
        parent.insert(list(parent).index(_BEFORE[last]), last, text(value))
    else:
        parent[last] = text(value)

"""What a segment's condition reads of a customer's behaviour: one small, fixed vocabulary.

``behaviour.<event>.<field>``, where ``<event>`` is any event name and ``<field>`` one of ``FIELDS``.
Windows are whole UTC days ending with the day of evaluation (``count_7d``: today and the 6 days
before). An event the customer never had reads as counts and sums of 0, no ``days_since`` (so
``days_since >= 30`` is false for them) and no categories.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.checks import did_you_mean

NAMES = ("customer", "behaviour")
WINDOWS = (7, 30, 90, 365)
SUM_WINDOWS = (30, 90, 365)
FIELDS: dict[str, str] = {
    "count": "how many of the event the customer ever had",
    **{f"count_{days}d": f"how many in the last {days} days" for days in WINDOWS},
    "sum": "the sum of the events' properties.total (or properties.amount), ever",
    **{f"sum_{days}d": f"that sum over the last {days} days" for days in SUM_WINDOWS},
    "days_since": "whole days since the last one (absent when there was none)",
    "categories": "the categories of its events (properties.category or .categories), latest first",
}
# The longest window any field reads: the day buckets a customer keeps.
MOST_DAYS = max(WINDOWS) + 1


@dataclass(frozen=True)
class Reads:
    """What one condition reads of behaviour: fields per event, and ``days_since`` thresholds."""

    fields: frozenset[tuple[str, str]]
    recency: frozenset[tuple[str, int | None]]  # (event, days); None: compared with no constant

    @property
    def events(self) -> frozenset[str]:
        return frozenset(event for event, _ in self.fields)


def reads(source: str) -> tuple[Reads, list[str]]:
    """What ``source`` (a condition ``engine.expressions.check`` accepted) reads of behaviour, and
    every problem with it: a field outside ``FIELDS`` (with did-you-mean), or behaviour read whole."""
    tree = ImmutableSandboxedEnvironment().parse("{{ (" + source + ") }}")
    problems: list[str] = []
    fields: set[tuple[str, str]] = set()
    parents = {id(child): node for node in _walk(tree) for child in node.iter_child_nodes()}
    for node in _walk(tree):
        if not (isinstance(node, nodes.Name) and node.name == "behaviour"):
            continue
        event = _key(parents.get(id(node)), node)
        field = _key(parents.get(id(event)), event) if event is not None else None
        if event is None or field is None:
            problems.append(f'"{source}" reads behaviour without an event and a field, e.g. ' + _EXAMPLE)
            continue
        name = _name(event)
        what = _name(field)
        if what not in FIELDS:
            problems.append(
                f'"{source}": behaviour.{name} has no field "{what}"'
                + (did_you_mean(what, list(FIELDS)) or "; use one of " + ", ".join(FIELDS))
            )
            continue
        fields.add((name, what))
    recency = {(event, _threshold(parents, node)) for node, event in _days_since(tree)}
    return Reads(frozenset(fields), frozenset(recency)), problems


_EXAMPLE = "behaviour.purchase_completed.count_90d"


def _walk(tree: nodes.Node) -> Iterator[nodes.Node]:
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.iter_child_nodes())


def _key(parent: nodes.Node | None, child: nodes.Node) -> nodes.Node | None:
    """``parent`` when it reads a constant attribute or item of ``child``."""
    if isinstance(parent, nodes.Getattr) and parent.node is child:
        return parent
    if isinstance(parent, nodes.Getitem) and parent.node is child and isinstance(parent.arg, nodes.Const):
        return parent
    return None


def _name(node: nodes.Node) -> str:
    if isinstance(node, nodes.Getattr):
        return node.attr
    assert isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const)
    return str(node.arg.value)


def _days_since(tree: nodes.Node) -> Iterator[tuple[nodes.Node, str]]:
    for node in _walk(tree):
        if isinstance(node, nodes.Getattr | nodes.Getitem) and _is_field(node, "days_since"):
            inner = node.node
            yield node, _name(inner)


def _is_field(node: nodes.Node, field: str) -> bool:
    if not isinstance(node, nodes.Getattr | nodes.Getitem):
        return False
    if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
        return False
    inner = node.node
    return (
        _name(node) == field
        and isinstance(inner, nodes.Getattr | nodes.Getitem)
        and isinstance(inner.node, nodes.Name)
        and inner.node.name == "behaviour"
        and (not isinstance(inner, nodes.Getitem) or isinstance(inner.arg, nodes.Const))
    )


def _threshold(parents: dict[int, nodes.Node], node: nodes.Node) -> int | None:
    """The whole number ``days_since`` is compared with (``days_since >= 30``: 30), else None."""
    parent = parents.get(id(node))
    other: nodes.Node | None = None
    if isinstance(parent, nodes.Compare) and parent.expr is node and len(parent.ops) == 1:
        other = parent.ops[0].expr
    elif isinstance(parent, nodes.Operand):
        compare = parents.get(id(parent))
        other = compare.expr if isinstance(compare, nodes.Compare) else None
    if isinstance(other, nodes.Const) and isinstance(other.value, int | float):
        return max(0, int(other.value))
    return None

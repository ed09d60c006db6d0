"""Which segments a condition reads: ``customer.segments.vip`` or ``customer.segments["vip"]``."""

from __future__ import annotations

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment


def segments_read(source: str) -> list[str]:
    """The segment names ``source`` (a condition ``engine.expressions.check`` accepted) reads, in
    order, without repeats; ``customer.segments`` read whole names none."""
    try:
        tree = ImmutableSandboxedEnvironment().parse("{{ (" + source + ") }}")
    except TemplateSyntaxError:
        return []
    names: list[str] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)
        inner = node.node
        if _is_name(inner, "segments") and isinstance(inner, nodes.Getattr | nodes.Getitem):
            if _is_customer(inner.node):
                name = _key(node)
                if name is not None and name not in names:
                    names.append(name)
    return names


def _is_customer(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "customer"


def _is_name(node: nodes.Node, name: str) -> bool:
    return _key(node) == name


def _key(node: nodes.Node) -> str | None:
    """The constant attribute or item ``node`` reads, if it reads one."""
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        value = node.arg.value
        return value if isinstance(value, str) else None
    return None

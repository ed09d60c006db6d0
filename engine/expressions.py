"""Conditions: one small, safe expression language (sandboxed Jinja2 expressions, never ``eval``).

``check`` finds syntax errors, unknown names and private attributes at compile time; ``evaluate``
runs a condition against plain data (it is pure, so workflows may call it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

NAMES_ALL = ("customer", "event", "data", "journey")
SAFE_FILTERS = (
    "abs",
    "capitalize",
    "default",
    "d",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "count",
    "lower",
    "upper",
    "max",
    "min",
    "round",
    "sum",
    "title",
    "trim",
    "list",
    "string",
    "unique",
)


class _Missing(ChainableUndefined):
    """A value the customer or event does not have: every comparison with it is false."""

    __slots__ = ()

    def _false(self, *args: object, **kwargs: object) -> bool:
        return False

    def _missing(self, *args: object, **kwargs: object) -> _Missing:
        return self

    # Undefined raises on these (typed as NoReturn); a condition on a missing value is false instead.
    __lt__ = __le__ = __gt__ = __ge__ = _false  # type: ignore[assignment]
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _missing  # type: ignore[assignment]
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _missing  # type: ignore[assignment]
    __mod__ = __rmod__ = __pow__ = __rpow__ = __neg__ = __pos__ = _missing  # type: ignore[assignment]


class _Sandbox(ImmutableSandboxedEnvironment):
    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        # Refuse outright instead of quietly yielding an undefined value.
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} is not allowed")


@lru_cache(maxsize=1)
def _environment() -> _Sandbox:
    # Lenient on missing attributes: a customer without the trait simply does not match.
    env = _Sandbox(undefined=_Missing)
    env.globals.clear()  # no range(), lipsum(), ...: a condition sees only the names it is given
    # Only pure filters: ``random`` and friends would make a workflow take another path on replay.
    env.filters = {name: env.filters[name] for name in SAFE_FILTERS}
    return env


class ExpressionError(ValueError):
    pass


def check(source: str, allowed: Iterable[str] = NAMES_ALL) -> None:
    """Raise ``ExpressionError`` naming the problem if ``source`` is not a valid condition."""
    env = _environment()
    try:
        tree = env.parse("{{ (" + source + ") }}")
        env.compile_expression(source)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f'"{source}" is not a valid condition: {exc.message}') from exc
    allowed_names = list(allowed)
    unknown = sorted(meta.find_undeclared_variables(tree) - set(allowed_names))
    if unknown:
        names = ", ".join(unknown)
        raise ExpressionError(
            f'"{source}" uses unknown name {names}; a condition can use ' + ", ".join(allowed_names)
        )
    for attribute in _private_attributes(tree):
        raise ExpressionError(f'"{source}" reads "{attribute}"; names starting with _ are not allowed')
    unknown_filters = sorted({f.name for f in tree.find_all(nodes.Filter)} - set(SAFE_FILTERS))
    if unknown_filters:
        raise ExpressionError(
            f'"{source}" uses filter {", ".join(unknown_filters)}; a condition can use '
            + ", ".join(SAFE_FILTERS)
        )


def _private_attributes(tree: nodes.Template) -> list[str]:
    found = [node.attr for node in tree.find_all(nodes.Getattr) if node.attr.startswith("_")]
    for item in tree.find_all(nodes.Getitem):
        if isinstance(item.arg, nodes.Const) and str(item.arg.value).startswith("_"):
            found.append(str(item.arg.value))
    return found


@lru_cache(maxsize=512)
def _compiled(source: str) -> Any:
    return _environment().compile_expression(source, undefined_to_none=True)


def evaluate(source: str, context: Mapping[str, Any]) -> bool:
    """Evaluate a checked condition; a missing value, or one of the wrong type, counts as false.

    Event data comes from outside: ``total > 100`` with ``total = "abc"`` must not wedge a
    customer's journey or make an event undeliverable, so it does not match instead.
    """
    try:
        return bool(_compiled(source)(**context))
    except (TypeError, ValueError, ArithmeticError):
        return False

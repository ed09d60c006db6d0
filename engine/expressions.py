"""Conditions: one small, safe expression language (sandboxed Jinja2 expressions, never ``eval``).

``check`` finds syntax errors and unknown names at compile time; ``evaluate`` runs a condition
against plain data (it is pure, so workflows may call it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

NAMES_ALL = ("customer", "event", "data", "journey")


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    # Lenient on missing attributes: a customer without the trait simply does not match.
    return ImmutableSandboxedEnvironment(undefined=ChainableUndefined)


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


@lru_cache(maxsize=512)
def _compiled(source: str) -> Any:
    return _environment().compile_expression(source, undefined_to_none=True)


def evaluate(source: str, context: Mapping[str, Any]) -> bool:
    """Evaluate a checked condition; a missing value counts as false."""
    return bool(_compiled(source)(**context))

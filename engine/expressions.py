"""Conditions: one small, closed expression language (Jinja2 expression syntax, never ``eval``).

A condition may use names (``customer``, ``event``, ``data``, ``journey``), attribute and item
access, literals, comparisons, ``and``/``or``/``not``, ``in``, ``+ - * / // %`` and ``~``, and
the filters and tests listed below; nothing else: no calls, no ``**``, no ``if``/``else``.
``check`` refuses anything outside the language by looking at the syntax tree, before Jinja
compiles it (Jinja folds constants while compiling, so ``7 ** (10 ** 7)`` would run there).
``evaluate`` runs a checked condition against plain data (it is pure, so workflows may call it)
and never raises for one: a condition that fails while it runs is false.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.parser import Parser
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.limits import (
    MAX_EXPRESSION_BRACKETS,
    MAX_EXPRESSION_DEPTH,
    MAX_EXPRESSION_LENGTH,
    MAX_LITERAL_INT,
    MAX_POINTS,
)
from engine.sandbox import INTERCEPTED_BINOPS, bound_filters, bounded_binop

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
SAFE_TESTS = (
    "defined",
    "undefined",
    "none",
    "boolean",
    "true",
    "false",
    "integer",
    "float",
    "number",
    "string",
    "mapping",
    "sequence",
    "iterable",
    "odd",
    "even",
    "divisibleby",
    "in",
    "lower",
    "upper",
    "eq",
    "equalto",
    "==",
    "ne",
    "!=",
    "gt",
    ">",
    "greaterthan",
    "ge",
    ">=",
    "lt",
    "<",
    "lessthan",
    "le",
    "<=",
    "sameas",
)
# The syntax a condition may use; any other node (Call, Pow, CondExpr, ...) is refused.
_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Name,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Slice,
    nodes.Const,
    nodes.List,
    nodes.Tuple,
    nodes.Dict,
    nodes.Pair,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Neg,
    nodes.Pos,
    nodes.Add,
    nodes.Sub,
    nodes.Mul,
    nodes.Div,
    nodes.FloorDiv,
    nodes.Mod,
    nodes.Concat,
    nodes.Filter,
    nodes.Test,
    nodes.Keyword,
)
_BRACKETS = {"lparen": 1, "lbracket": 1, "lbrace": 1, "rparen": -1, "rbracket": -1, "rbrace": -1}


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
    # Intercepted operators are never folded at compile time, and are bounded when they run.
    intercepted_binops = INTERCEPTED_BINOPS

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        # Refuse outright instead of quietly yielding an undefined value.
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} is not allowed")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        return bounded_binop(operator, left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        raise SecurityError("a condition cannot call functions or methods")


@lru_cache(maxsize=1)
def _environment() -> _Sandbox:
    # Lenient on missing attributes: a customer without the trait simply does not match.
    env = _Sandbox(undefined=_Missing)
    env.globals.clear()  # no range(), lipsum(), ...: a condition sees only the names it is given
    # Only pure filters: ``random`` and friends would make a workflow take another path on replay.
    env.filters = bound_filters({name: env.filters[name] for name in SAFE_FILTERS})
    env.tests = {name: env.tests[name] for name in SAFE_TESTS}
    return env


class ExpressionError(ValueError):
    pass


def check(source: str, allowed: Iterable[str] = NAMES_ALL) -> None:
    """Raise ``ExpressionError`` naming the problem if ``source`` is not a valid condition."""
    _checked_tree(source, list(allowed))
    _compile(source)


def _checked_tree(source: str, allowed: list[str] | None = None) -> nodes.Expr:
    """The syntax tree of ``source`` once it is known to be in the language (names too, if given).

    Nothing here evaluates the condition, not even its constant parts.
    """
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f'"{source[:60]}..." is {len(source)} characters long; a condition has at most '
            f"{MAX_EXPRESSION_LENGTH}"
        )
    tree = _parse(source)
    depth = _depth(tree)
    if depth > MAX_EXPRESSION_DEPTH:
        raise _too_deep(source, depth)
    _check_filters_and_tests(source, tree)
    if allowed is not None:
        names = {node.name for node in _walk(tree) if isinstance(node, nodes.Name)}
        unknown = sorted(names - set(allowed))
        if unknown:
            raise ExpressionError(
                f'"{source}" uses unknown name {", ".join(unknown)}; a condition can use '
                + ", ".join(allowed)
            )
    for attribute in _private_attributes(tree):
        raise ExpressionError(f'"{source}" reads "{attribute}"; names starting with _ are not allowed')
    for node in _walk(tree):
        _check_node(source, node)
    return tree


def _parse(source: str) -> nodes.Expr:
    """Parse without compiling: brackets are counted first, so the parser's recursion is bounded."""
    env = _environment()
    try:
        level = deepest = run = longest_run = 0
        for token in env.lexer.tokenize(source, state="variable"):
            level += _BRACKETS.get(token.type, 0)
            deepest = max(deepest, level)
            # ``not not ...`` and ``- - ...`` nest one level per operator too.
            run = run + 1 if token.type in ("sub", "add") or token.test("name:not") else 0
            longest_run = max(longest_run, run)
        if longest_run > MAX_EXPRESSION_DEPTH:
            raise _too_deep(source, longest_run)
        if deepest > MAX_EXPRESSION_BRACKETS:
            raise ExpressionError(
                f'"{source}" nests brackets {deepest} deep; a condition nests them at most '
                f"{MAX_EXPRESSION_BRACKETS} deep"
            )
        # The wrapped form gives the messages authors know ("unexpected ')'"); then the expression
        # itself, exactly as compile_expression will read it.
        env.parse("{{ (" + source + ") }}")
        parser = Parser(env, source, state="variable")
        expression = parser.parse_expression()
        if not parser.stream.eos:
            raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno, None, None)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f'"{source}" is not a valid condition: {exc.message}') from exc
    except RecursionError as exc:
        raise ExpressionError(f'"{source}" is nested too deeply to be a condition') from exc
    return expression


def _too_deep(source: str, depth: int) -> ExpressionError:
    return ExpressionError(
        f'"{source}" is nested {depth} levels deep; a condition has at most {MAX_EXPRESSION_DEPTH}'
    )


def _walk(tree: nodes.Node) -> Iterator[nodes.Node]:
    """Every node of ``tree``, without recursing (a deep tree is refused, not a stack overflow)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.iter_child_nodes())


def _depth(tree: nodes.Node) -> int:
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    return deepest


def _check_filters_and_tests(source: str, tree: nodes.Node) -> None:
    for node in _walk(tree):
        if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
            raise ExpressionError(
                f"\"{source}\" is not a valid condition: No filter named '{node.name}'; a condition can use "
                + ", ".join(SAFE_FILTERS)
            )
        if isinstance(node, nodes.Test) and node.name not in SAFE_TESTS:
            raise ExpressionError(
                f"\"{source}\" is not a valid condition: No test named '{node.name}'; a condition can use "
                + ", ".join(name for name in SAFE_TESTS if name.isidentifier())
            )


def _check_node(source: str, node: nodes.Node) -> None:
    if isinstance(node, nodes.Call):
        callee = node.node
        name = callee.attr if isinstance(callee, nodes.Getattr) else getattr(callee, "name", "")
        raise ExpressionError(
            f'"{source}" calls {name or "a function"}(); a condition cannot call functions or methods'
        )
    if isinstance(node, nodes.Pow):
        raise ExpressionError(f'"{source}" uses **; a condition cannot raise to a power')
    if isinstance(node, nodes.CondExpr):
        raise ExpressionError(f'"{source}" uses if/else; a condition cannot (use and, or)')
    if not isinstance(node, _ALLOWED_NODES):
        raise ExpressionError(f'"{source}" uses {type(node).__name__}, which a condition cannot')
    if isinstance(node, nodes.Filter | nodes.Test) and (node.dyn_args or node.dyn_kwargs):
        raise ExpressionError(f'"{source}" passes * or ** arguments, which a condition cannot')
    if isinstance(node, nodes.Const) and isinstance(node.value, int) and abs(node.value) >= MAX_LITERAL_INT:
        raise ExpressionError(f'"{source}" writes a number that is too large; numbers stay below 2**63')


def _private_attributes(tree: nodes.Node) -> list[str]:
    found: list[str] = []
    for node in _walk(tree):
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            found.append(node.attr)
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            if str(node.arg.value).startswith("_"):
                found.append(str(node.arg.value))
    return found


def _compile(source: str) -> Any:
    try:
        return _environment().compile_expression(source, undefined_to_none=True)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f'"{source}" is not a valid condition: {exc.message}') from exc


@lru_cache(maxsize=512)
def _compiled(source: str) -> Any:
    """A condition compiled once in the language; ``SecurityError`` for one outside it."""
    try:
        _checked_tree(source)
        return _compile(source)
    except ExpressionError as exc:
        raise SecurityError(str(exc)) from exc


def evaluate(source: str, context: Mapping[str, Any]) -> bool:
    """Evaluate a checked condition; never raises for one: a condition that fails is false.

    Event data comes from outside: ``total > 100`` with ``total = "abc"`` must not wedge a
    customer's journey or make an event undeliverable, so it does not match instead; the same for
    every other failure while it runs (a number too large, a limit of engine.limits, ...).
    A condition ``check`` would refuse for its syntax raises ``SecurityError``.
    """
    compiled = _compiled(source)
    try:
        return bool(compiled(**context))
    except Exception:  # noqa: BLE001  any failure while a checked condition runs means "no match"
        return False


def evaluate_number(source: str, context: Mapping[str, Any]) -> int:
    """Evaluate a checked expression as a whole number of points, rounded down; 0 when it fails.

    Used for points computed from an event (``event.properties.total // 10000``): data from
    outside that is not a number, or a result that is not finite, gives no points, never an error.
    Negative results are 0 too; a result over ``MAX_POINTS`` gives ``MAX_POINTS`` (what an award may
    give: a wallet's column holds it however many awards). A source ``check`` would refuse raises
    ``SecurityError``.
    """
    compiled = _compiled(source)
    try:
        value = compiled(**context)
        if isinstance(value, bool) or value is None:
            return 0
        number = float(value)
    except Exception:  # noqa: BLE001  a failing expression earns nothing
        return 0
    if number != number or number in (float("inf"), float("-inf")) or number <= 0:
        return 0
    return min(int(number), MAX_POINTS)

"""Bounded Jinja2: the operations conditions and templates may use, each with a limit.

Jinja's sandbox keeps a template away from Python's internals, but not from work without end:
``'x' * 10**9``, ``7 ** (10 ** 7)``, ``'{:>999999999}'.format(1)``, a macro that calls itself, three
nested loops over ``range(10000)``. Here every operation that can grow a value is checked before
it runs (or, when its size only shows after, right after), and a template's loop iterations and
calls are counted against a budget, so one rendering does a bounded amount of work:

    * ``**`` and ``*`` of integers stop at ``MAX_INT_BITS``; ``*``, ``+``, ``~``, ``%``, ``join``,
      ``replace``, ``indent``, ... stop at ``MAX_SEQUENCE`` items; widths stop at ``MAX_WIDTH``;
    * ``range`` gives at most ``MAX_RANGE`` items;
    * each loop iteration, call and ``range`` item counts against ``MAX_TEMPLATE_OPERATIONS``
      (a value of n items counts n // 1000 more); calls nest at most ``MAX_TEMPLATE_CALL_DEPTH``;
    * one rendering outputs at most ``MAX_TEMPLATE_OUTPUT`` characters;
    * a template's syntax tree is at most ``MAX_TEMPLATE_DEPTH`` deep.

Going past a limit raises ``LimitExceeded`` (a ``jinja2.exceptions.SecurityError``).
"""

from __future__ import annotations

import inspect
import operator
import re
import types
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from string import Formatter
from typing import Any

from jinja2 import Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_context

from engine.limits import (
    MAX_INT_BITS,
    MAX_RANGE,
    MAX_SEQUENCE,
    MAX_TEMPLATE_CALL_DEPTH,
    MAX_TEMPLATE_DEPTH,
    MAX_TEMPLATE_OPERATIONS,
    MAX_TEMPLATE_OUTPUT,
    MAX_WIDTH,
)


class LimitExceeded(SecurityError):
    """A condition or a template went past one of the limits of ``engine.limits``."""


class BudgetSpent(LimitExceeded):
    """A rendering went past ``MAX_TEMPLATE_OPERATIONS``."""


# --- The budget of one rendering ---------------------------------------------------------------


@dataclass
class Budget:
    """What one rendering may still do: operations left, and how deep calls are nested now."""

    operations: int = MAX_TEMPLATE_OPERATIONS
    depth: int = 0

    def spend(self, count: int = 1) -> None:
        self.operations -= count
        if self.operations < 0:
            most = MAX_TEMPLATE_OPERATIONS
            raise BudgetSpent(f"the template does more than {most} operations (loop iterations, calls...)")


_BUDGET: ContextVar[Budget | None] = ContextVar("journeys_template_budget", default=None)


@contextmanager
def budget() -> Iterator[Budget]:
    """The budget of the rendering under way, or a new one for a rendering that starts here."""
    current = _BUDGET.get()
    if current is not None:
        yield current
        return
    fresh = Budget()
    token = _BUDGET.set(fresh)
    try:
        yield fresh
    finally:
        _BUDGET.reset(token)


def _spend(count: int = 1) -> None:
    current = _BUDGET.get()
    if current is not None:  # conditions run without one: they have no loops and no calls
        current.spend(count)


def _spend_on(value: Any) -> None:
    """Count a value just made: one operation per thousand items."""
    if isinstance(value, Sized) and not isinstance(value, range | dict):
        _spend(len(value) // 1000)


# --- Checks shared by conditions and templates -------------------------------------------------


def _too_long(size: int, what: str = "a value") -> LimitExceeded:
    return LimitExceeded(
        f"{what} of {size} items is longer than {MAX_SEQUENCE}, the most one operation may make"
    )


def _check_length(value: Any) -> None:
    if isinstance(value, str | bytes | list | tuple) and len(value) > MAX_SEQUENCE:
        raise _too_long(len(value))


def _check_int(value: Any) -> None:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise LimitExceeded(f"a number of more than {MAX_INT_BITS} bits is larger than an operation may make")


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        if exponent > MAX_INT_BITS or abs(base).bit_length() * exponent > MAX_INT_BITS:
            raise LimitExceeded(
                f"{base} ** {exponent} is larger than {MAX_INT_BITS} bits, the most an operation may make"
            )


def _check_repeat(left: Any, right: Any) -> None:
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, str | bytes | list | tuple) and isinstance(times, int):
            size = len(sequence) * max(times, 0)
            if size > MAX_SEQUENCE:
                raise _too_long(size, "repeating makes a value")
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise LimitExceeded(
                f"the product is larger than {MAX_INT_BITS} bits, the most an operation may make"
            )


def _check_sum(left: Any, right: Any) -> None:
    if isinstance(left, Sized) and isinstance(right, Sized) and not isinstance(left, dict):
        size = len(left) + len(right)
        if size > MAX_SEQUENCE:
            raise _too_long(size, "adding makes a value")


def _check_width(digits: str) -> None:
    if digits == "*" or len(digits) > 4 or int(digits) > MAX_WIDTH:
        raise LimitExceeded(f"a width or precision of {digits} in a format is over {MAX_WIDTH}")


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d*))?")


def check_percent_format(text: str) -> None:
    """Refuse ``'%999999999d'`` and ``'%*d'``: a format whose width or precision is over MAX_WIDTH."""
    for match in _PERCENT_SPEC.finditer(text):
        for digits in match.groups():
            if digits:
                _check_width(digits)


def check_str_format(text: str) -> None:
    """Refuse ``'{:>999999999}'`` and ``'{:{width}}'`` in a ``str.format`` string."""
    for _, _, spec, _ in Formatter().parse(text):
        if not spec:
            continue
        if "{" in spec:
            raise LimitExceeded("a format may not take its width or precision from an argument")
        for digits in re.findall(r"\d+", spec):
            _check_width(digits)


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "**": operator.pow,
    "%": operator.mod,
}
INTERCEPTED_BINOPS = frozenset({"+", "*", "**", "%"})


def bounded_binop(op: str, left: Any, right: Any) -> Any:
    """``left <op> right``, refused before it runs when the result would be past a limit."""
    if op == "**":
        _check_power(left, right)
    elif op == "*":
        _check_repeat(left, right)
    elif op == "+":
        _check_sum(left, right)
    elif op == "%" and isinstance(left, str):
        check_percent_format(left)
    result = _BINOPS[op](left, right)
    _check_length(result)
    _check_int(result)
    _spend_on(result)
    return result


# --- Filters whose arguments can make a value of any size --------------------------------------

FilterCheck = Callable[[dict[str, Any]], None]


def _lines(text: Any) -> int:
    return str(text).count("\n") + 1


def _check_join(args: dict[str, Any]) -> None:
    items = args["value"]
    if not isinstance(items, str):
        items = args["value"] = list(items)
    separator = len(str(args.get("d", "")))
    if max(len(items) - 1, 0) * separator > MAX_SEQUENCE:
        raise _too_long(len(items) * separator, "joining makes a value")


def _check_sum_filter(args: dict[str, Any]) -> None:
    if not isinstance(args.get("start", 0), int | float):
        raise LimitExceeded("sum adds numbers only")


def _check_center(args: dict[str, Any]) -> None:
    width = args.get("width", 80)
    if isinstance(width, int) and width > MAX_WIDTH:
        raise LimitExceeded(f"a width of {width} is over {MAX_WIDTH}")


def _check_indent(args: dict[str, Any]) -> None:
    width = args.get("width", 4)
    size = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    if size > MAX_WIDTH:
        raise LimitExceeded(f"an indent of {size} is over {MAX_WIDTH}")
    if len(str(args["s"])) + _lines(args["s"]) * size > MAX_SEQUENCE:
        raise _too_long(_lines(args["s"]) * size, "indenting makes a value")


def _check_format_filter(args: dict[str, Any]) -> None:
    check_percent_format(str(args["value"]))


def _replace_size(text: str, old: str, new: str, count: Any) -> int:
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * max(len(new) - len(old), 0)


def _check_replace(args: dict[str, Any]) -> None:
    size = _replace_size(str(args["s"]), str(args["old"]), str(args["new"]), args.get("count"))
    if size > MAX_SEQUENCE:
        raise _too_long(size, "replacing makes a value")


def _check_batch(args: dict[str, Any]) -> None:
    count = args.get("linecount", args.get("slices"))
    if isinstance(count, int) and count > MAX_RANGE:
        raise LimitExceeded(f"{count} is more than {MAX_RANGE}, the most items a batch or slice may have")


def _check_wordwrap(args: dict[str, Any]) -> None:
    text = str(args["s"])
    width = args.get("width", 79)
    wrap = args.get("wrapstring") or "\n"
    breaks = len(text) // max(width if isinstance(width, int) else 1, 1) + text.count(" ") + text.count("-")
    if len(text) + (breaks + 1) * len(str(wrap)) > MAX_SEQUENCE:
        raise _too_long(breaks * len(str(wrap)), "wrapping makes a value")


def _check_tojson(args: dict[str, Any]) -> None:
    indent = args.get("indent")
    if (isinstance(indent, int) and indent > 16) or (isinstance(indent, str) and len(indent) > 16):
        raise LimitExceeded("tojson indents by at most 16")


FILTER_CHECKS: dict[str, FilterCheck] = {
    "join": _check_join,
    "sum": _check_sum_filter,
    "center": _check_center,
    "indent": _check_indent,
    "format": _check_format_filter,
    "replace": _check_replace,
    "batch": _check_batch,
    "slice": _check_batch,
    "wordwrap": _check_wordwrap,
    "tojson": _check_tojson,
}


def bounded_filter(original: Callable[..., Any], check: FilterCheck) -> Callable[..., Any]:
    """``original`` (a Jinja filter) with ``check`` run on its arguments first and its result counted."""
    signature = inspect.signature(original)

    def bounded(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            return original(*args, **kwargs)  # wrong arguments: Jinja's own error
        bound.apply_defaults()
        check(bound.arguments)
        result = original(*bound.args, **bound.kwargs)
        _check_length(result)
        _spend_on(result)
        return result

    passes = getattr(original, "jinja_pass_arg", None)
    if passes is not None:
        bounded.jinja_pass_arg = passes  # type: ignore[attr-defined]
    bounded.__name__ = getattr(original, "__name__", "filter")
    return bounded


def bound_filters(filters: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """``filters`` with the ones that can grow a value replaced by bounded versions."""
    return {
        name: bounded_filter(f, FILTER_CHECKS[name]) if name in FILTER_CHECKS else f
        for name, f in filters.items()
    }


# --- Templates ---------------------------------------------------------------------------------

_BUILTIN_METHODS = (types.BuiltinMethodType, types.MethodWrapperType)
_REFUSED_METHODS = frozenset({"translate", "maketrans"})


def bounded_range(*args: int) -> range:
    """``range`` with at most ``MAX_RANGE`` items, each counted against the budget."""
    items = range(*args)
    try:
        size = len(items)
    except OverflowError:
        size = MAX_RANGE + 1
    if size > MAX_RANGE:
        raise LimitExceeded(f"range gives at most {MAX_RANGE} items")
    _spend(size)
    return items


def bounded_join(parts: Iterable[str]) -> str:
    """The output of a template, a macro or a block: refused past ``MAX_TEMPLATE_OUTPUT``."""
    collected: list[str] = []
    size = 0
    for part in parts:
        size += len(part)
        if size > MAX_TEMPLATE_OUTPUT:
            raise LimitExceeded(f"the template outputs more than {MAX_TEMPLATE_OUTPUT} characters")
        collected.append(part)
    _spend(size // 1000)
    return "".join(collected)


def _check_call(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Refuse a call to a built-in method whose arguments would make a value past the limits."""
    if not isinstance(obj, _BUILTIN_METHODS):
        return args
    name = obj.__name__
    owner = getattr(obj, "__self__", None)
    if name in _REFUSED_METHODS:
        raise LimitExceeded(f"{name}() is not allowed in templates")
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SEQUENCE:
            raise LimitExceeded(f"{name}() with {value} is over {MAX_SEQUENCE}")
    if isinstance(owner, str | bytes):
        if name == "expandtabs":
            tab = args[0] if args else kwargs.get("tabsize", 8)
            tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
            size = len(owner) + tabs * int(tab)
            if size > MAX_SEQUENCE:
                raise _too_long(size, "expanding tabs makes a value")
        elif name == "join" and args:
            items = list(args[0])
            if max(len(items) - 1, 0) * len(owner) > MAX_SEQUENCE:
                raise _too_long(len(items) * len(owner), "joining makes a value")
            args = (items, *args[1:])
        elif name == "replace" and len(args) >= 2 and isinstance(owner, str):
            count = args[2] if len(args) > 2 else kwargs.get("count")
            size = _replace_size(owner, str(args[0]), str(args[1]), count)
            if size > MAX_SEQUENCE:
                raise _too_long(size, "replacing makes a value")
    return args


@pass_context
def _counted(context: Context, iterable: Any) -> Iterator[Any]:
    """Wraps the iterable of every ``{% for %}``: each iteration counts against the budget."""
    for item in iterable:
        _spend()
        yield item


_LOOP_FILTER = "journeys_counted_loop"


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with ``a ~ b`` checked against ``MAX_SEQUENCE``."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked_value(")
        super().visit_Concat(node, frame)
        self.write(")")


def _tree_depth(tree: nodes.Node) -> tuple[int, int]:
    """The depth of a syntax tree (counted without recursing) and the line of its deepest node."""
    deepest, line = 0, 1
    stack: list[tuple[nodes.Node, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest, line = depth, getattr(node, "lineno", line) or line
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    return deepest, line


class BoundedTemplate(Template):
    """A template whose rendering runs within one budget (shared with the templates it includes)."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        with budget():
            return super().render(*args, **kwargs)

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[str]:
        # Rendered whole, within its budget: a budget must not outlive a generator left unfinished.
        yield self.render(*args, **kwargs)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox with every limit of this module: the environment of email templates."""

    intercepted_binops = INTERCEPTED_BINOPS
    code_generator_class = _BoundedCodeGenerator
    concat = staticmethod(bounded_join)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.template_class = BoundedTemplate
        # range is bounded; lipsum (any amount of text) is gone; dict, cycler, joiner, namespace stay.
        self.globals.pop("lipsum", None)
        self.globals["range"] = bounded_range
        self.filters = bound_filters(dict(self.filters))
        self.filters[_LOOP_FILTER] = _counted

    @staticmethod
    def checked_value(value: Any) -> Any:
        _check_length(value)
        _spend_on(value)
        return value

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        return bounded_binop(operator, left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        current = _BUDGET.get() or Budget()
        current.spend()
        args = _check_call(obj, args, kwargs)
        if current.depth >= MAX_TEMPLATE_CALL_DEPTH:
            raise LimitExceeded(f"calls are nested deeper than {MAX_TEMPLATE_CALL_DEPTH}")
        current.depth += 1
        try:
            result = super().call(context, obj, *args, **kwargs)
        finally:
            current.depth -= 1
        if isinstance(result, str | bytes | list | tuple) and len(result) > MAX_TEMPLATE_OUTPUT:
            raise _too_long(len(result))
        _spend_on(result)
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            check_str_format(value.__self__)
        return wrapped

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        try:
            tree = super()._parse(source, name, filename)
        except RecursionError as exc:
            raise TemplateSyntaxError("the template is nested too deeply", 1, name, filename) from exc
        depth, line = _tree_depth(tree)
        if depth > MAX_TEMPLATE_DEPTH:
            raise TemplateSyntaxError(
                f"the template is nested {depth} levels deep; at most {MAX_TEMPLATE_DEPTH} are allowed",
                line,
                name,
                filename,
            )
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _LOOP_FILTER, [], [], None, None, lineno=loop.iter.lineno)
        return tree

    def compile(
        self,
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        try:
            return super().compile(source, name, filename, raw, defer_init)  # type: ignore[call-overload]
        except SyntaxError as exc:
            # Python's own limits on the code Jinja generates ("too many statically nested blocks").
            raise TemplateSyntaxError(f"the template is too complex: {exc.msg}", 1, name, filename) from exc
        except (RecursionError, MemoryError) as exc:
            raise TemplateSyntaxError("the template is too complex", 1, name, filename) from exc


__all__ = [
    "INTERCEPTED_BINOPS",
    "BoundedSandbox",
    "Budget",
    "BudgetSpent",
    "LimitExceeded",
    "bound_filters",
    "bounded_binop",
    "budget",
    "check_percent_format",
    "check_str_format",
]

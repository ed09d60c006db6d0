"""Email templates: one folder per email under ``templates/``, rendered with sandboxed Jinja2.

    templates/welcome/subject.txt       one line
    templates/welcome/body.html         may {% extends "_layout.html" %}
    templates/welcome/body.txt
    templates/welcome/subject.id.txt    optional locale variants (here: Bahasa Indonesia)

Files whose names start with ``_`` at the top of ``templates/`` are shared layouts and partials.
A plan carries the sources it needs, so a customer is always mailed with the version they entered on.
Templates render in ``engine.sandbox.BoundedSandbox``: every operation is bounded (see there).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import DictLoader, StrictUndefined, TemplateError, select_autoescape
from jinja2.lexer import newline_re

from contracts.customers import HistoryView, LoyaltyView
from engine.compiled_templates import CompiledTemplates
from engine.limits import MAX_FILE_BYTES, MAX_TEMPLATE_FILES, TEMPLATE_NAME
from engine.sandbox import BoundedSandbox, Budget, budget

EMAIL_PARTS = ("subject.txt", "body.html", "body.txt")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


class TemplateMissing(Exception):
    """An email template that cannot be read: no such folder, a part missing, a file unreadable, or
    holding a character no template may (``unusable_character``).

    ``message`` names the template by its path relative to the journeys folder
    (``templates/welcome``), for errors shown to whoever sent the journey; ``str()`` names the
    folder as the caller gave it.
    """

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(detail or message)
        self.message = message


class TemplateRenderError(TemplateError):
    """A template failed while rendering for a reason of Python's, not Jinja's own (a number too
    large, a value of the wrong type, ...), or rendered a character its part of the email cannot
    carry (``render_email``: a control character in the subject, a NUL or a lone surrogate
    anywhere). ``render_email`` and ``render_value`` raise this or
    another ``jinja2.TemplateError`` (UndefinedError, SecurityError and its subclass
    ``engine.sandbox.LimitExceeded``,
    TemplateSyntaxError, TemplateNotFound), and nothing else, for any failure inside a template."""


# What no template source may hold: a C0 control character other than tab and the line breaks (NUL
# among them: PostgreSQL refuses it, and it cuts C strings short) or a lone surrogate, which is no
# character at all (no UTF-8 encodes it: it cannot be written to a file, a page or an email).
_UNUSABLE_IN_SOURCE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
UNUSABLE_RULE = "a template may hold no lone surrogate, and no control character but tab and line breaks"
# What a rendered subject may not hold, being a header: any control character or a lone surrogate.
# (Tabs and line breaks are gone by then: the subject's whitespace runs are joined to single spaces.)
_UNUSABLE_IN_SUBJECT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# What a rendered body may not hold: NUL (a mail server may cut it or refuse it) or a lone surrogate.
_UNUSABLE_IN_BODY = re.compile("[\x00\ud800-\udfff]")


def describe_character(character: str) -> str:
    """``control character U+001B`` or ``lone surrogate U+D800``: never the character itself (a
    lone surrogate cannot be encoded into any answer, log or page)."""
    code = ord(character)
    kind = "lone surrogate" if 0xD800 <= code <= 0xDFFF else "control character"
    return f"{kind} U+{code:04X}" + (" (NUL)" if code == 0 else "")


def _where(text: str, offset: int) -> str:
    """``line 2, column 5``: where ``offset`` is in ``text`` (both counted from 1)."""
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return f"line {line}, column {column}"


def unusable_character(text: str) -> str | None:
    """What is wrong with template source ``text`` and where (``control character U+001B at line 2,
    column 5``), or None when it holds only characters a template may: everything but the C0
    control characters (tab and line breaks allowed) and lone surrogates."""
    found = _UNUSABLE_IN_SOURCE.search(text)
    if found is None:
        return None
    return f"{describe_character(found.group())} at {_where(text, found.start())}"


def read_email_sources(templates_dir: Path, name: str) -> dict[str, str]:
    """Every file of email template ``name`` plus the shared ``_`` files, keyed by relative path.

    ``name`` is a folder directly in ``templates_dir`` (``engine.limits.TEMPLATE_NAME``); nothing
    outside ``templates_dir`` is ever read, and no file over ``MAX_FILE_BYTES``.
    """
    shown = f"{templates_dir.name}/{name}"
    if not TEMPLATE_NAME.match(name):
        raise TemplateMissing(f'"{name[:80]}" is not a template name (a folder directly in templates/)')
    root = templates_dir.resolve()
    folder = templates_dir / name
    if not folder.is_dir() or not folder.resolve().is_relative_to(root):
        raise TemplateMissing(
            f'email template "{name}" does not exist (no folder {shown})',
            f'email template "{name}" does not exist (no folder {folder})',
        )
    missing = [part for part in EMAIL_PARTS if not (folder / part).is_file()]
    if missing:
        raise TemplateMissing(
            f'email template "{name}" lacks {", ".join(missing)} in {shown}',
            f'email template "{name}" lacks {", ".join(missing)} in {folder}',
        )
    files = [f for f in sorted(folder.iterdir()) if f.is_file()]
    if len(files) > MAX_TEMPLATE_FILES:
        raise TemplateMissing(f'email template "{name}" has more than {MAX_TEMPLATE_FILES} files in {shown}')
    sources = {f"{name}/{f.name}": _read(f, root, f"{shown}/{f.name}") for f in files}
    for shared in sorted(templates_dir.glob("_*")):
        if shared.is_file():
            sources[shared.name] = _read(shared, root, f"{templates_dir.name}/{shared.name}")
    for file, text in sources.items():
        problem = unusable_character(text)
        if problem is not None:
            raise TemplateMissing(
                f'email template "{name}" cannot be used: {templates_dir.name}/{file} holds {problem} '
                f"({UNUSABLE_RULE})"
            )
    return sources


def _read(file: Path, root: Path, shown: str) -> str:
    """One template file: inside the templates folder, at most MAX_FILE_BYTES, UTF-8."""
    if not file.resolve().is_relative_to(root):
        raise TemplateMissing(f"{shown} links outside the templates folder")
    try:
        with file.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TemplateMissing(f"{shown} cannot be read: {exc.strerror or type(exc).__name__}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise TemplateMissing(f"{shown} is larger than {MAX_FILE_BYTES // 1024} KB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TemplateMissing(f"{shown} is not valid UTF-8 (line {line})") from exc


def environment(sources: Mapping[str, str]) -> BoundedSandbox:
    """The Jinja2 environment for one set of template sources, shared while those sources are in use.

    Every customer on one journey version has the same sources; sharing the environment means each
    template compiles once per process instead of once per email.
    """
    return _environment(tuple(sorted(sources.items())))


# One compiled code per template name and source, for every environment below: they share the
# layouts, and they have the same settings, on which the code depends.
COMPILED = CompiledTemplates()


@lru_cache(maxsize=64)
def _environment(sources: tuple[tuple[str, str], ...]) -> BoundedSandbox:
    return BoundedSandbox(
        loader=DictLoader(dict(sources)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        bytecode_cache=COMPILED,
    )


def _variant(sources: Mapping[str, str], name: str, part: str, locale: str | None) -> str:
    if locale:
        stem, ext = part.rsplit(".", 1)
        localized = f"{name}/{stem}.{locale.split('-')[0].lower()}.{ext}"
        if localized in sources:
            return localized
    return f"{name}/{part}"


def render_email(
    sources: Mapping[str, str], name: str, context: Mapping[str, Any], locale: str | None = None
) -> RenderedEmail:
    """Render subject, HTML and text of email ``name``.

    Raises a ``jinja2.TemplateError`` (and nothing else) on any problem: see ``TemplateRenderError``.
    Each part renders within its own budget (``engine.sandbox``).
    """
    env = environment(sources)
    files = [_variant(sources, name, part, locale) for part in EMAIL_PARTS]
    with _template_errors():
        parts = [env.get_template(file).render(context) for file in files]
    subject = " ".join(parts[0].split())
    _refuse_unusable(files[0], subject, _UNUSABLE_IN_SUBJECT, "an email subject (a header)")
    for file, part in zip(files[1:], parts[1:], strict=True):
        _refuse_unusable(file, part, _UNUSABLE_IN_BODY, "an email")
    return RenderedEmail(subject=subject, html=parts[1], text=parts[2])


def _refuse_unusable(file: str, rendered: str, unusable: re.Pattern[str], carrier: str) -> None:
    """A ``TemplateRenderError`` naming ``file`` and the place in its output where it rendered a
    character ``carrier`` cannot carry (made at render time, as ``{{ '\\x00' }}`` makes one)."""
    found = unusable.search(rendered)
    if found is not None:
        raise TemplateRenderError(
            f"{file} renders {describe_character(found.group())} at {_where(rendered, found.start())} "
            f"of its output, which {carrier} cannot carry"
        )


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every string inside a webhook payload as a (non-HTML) template.

    Raises a ``jinja2.TemplateError`` (and nothing else) on any problem, like ``render_email``;
    the whole payload renders within one budget.
    """
    with _template_errors(), budget() as current:
        return _render_value(environment({}), value, context, current)


# Compiling a template is work too: a payload of thousands of template strings stops.
COMPILE_OPERATIONS = 20


def _render_value(env: BoundedSandbox, value: Any, context: Mapping[str, Any], current: Budget) -> Any:
    if isinstance(value, str):
        if "{" not in value:  # no {{, {% or {#: what Jinja would give, without compiling it
            return _as_rendered(value)
        current.spend(COMPILE_OPERATIONS)
        return env.from_string(value).render(context)
    if isinstance(value, list):
        return [_render_value(env, item, context, current) for item in value]
    if isinstance(value, dict):
        return {key: _render_value(env, item, context, current) for key, item in value.items()}
    return value


def _as_rendered(text: str) -> str:
    """A text without template syntax as Jinja renders it: line breaks as \n, one final one dropped."""
    lines = newline_re.split(text)[::2]
    if lines[-1] == "":
        del lines[-1]
    return "\n".join(lines)


@contextmanager
def _template_errors() -> Iterator[None]:
    """Turn any failure inside a template into a ``TemplateError``."""
    try:
        yield
    except TemplateError:
        raise
    except RecursionError as exc:  # its message says where Python noticed, which varies
        raise TemplateRenderError(
            "the template recurses too deeply (does it include or extend itself?)"
        ) from exc
    except Exception as exc:
        # RecursionError, MemoryError, OverflowError, TypeError, ZeroDivisionError, ...: whatever
        # Python raised inside the template is the template's failure, and a permanent one.
        raise TemplateRenderError(f"{type(exc).__name__}: {exc}") from exc


def sample_context(
    journey: str, customer: Mapping[str, Any], event: Mapping[str, Any], data: Mapping[str, Any]
) -> dict[str, Any]:
    """The context templates are checked against at compile time: a plausible customer."""
    base_customer: dict[str, Any] = {
        "id": "cust-sample",
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "name": "Ada Lovelace",
        "locale": "en",
        "timezone": "UTC",
        "stage": "acquisition",
        "points": 150,
        "lifetime_points": 150,
        "tier": "bronze",
        "badges": [],
        "traits": {},
        "loyalty": LoyaltyView(available=150, lifetime=150, tier="bronze").model_dump(),
        "history": HistoryView().model_dump(),
    }
    for key, value in customer.items():  # loyalty and history: each key laid over the default
        if key in ("loyalty", "history") and isinstance(value, Mapping):
            base_customer[key] = {**base_customer[key], **value}
        else:
            base_customer[key] = value
    base_event: dict[str, Any] = {"name": "sample", "properties": {}}
    base_event.update(event)
    return {
        "customer": base_customer,
        "event": base_event,
        "data": dict(data),
        "journey": {"name": journey, "version": "sample"},
        "unsubscribe_url": "https://example.com/unsubscribe/sample",
    }

"""The validation steps every YAML file kind shares (journeys, the loyalty program, segments, and any
kind to come): read within the limits, parse with positions, each key written twice, a mapping at the
top, the model's complaints at their lines with did-you-mean from the keys allowed there, then the
kind's own checks. Every error is a positioned ``JourneyError``; at most ``MAX_ERRORS`` are listed.

    validated = validate_source(text, file, kind)   # (model or None, errors)

A ``FileKind`` says what differs: the model, what the top level must be, the checks the model alone
cannot do, and where needed which keys a mapping may hold and how its union tags show in error paths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Generic, TypeGuard, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from engine.checks import did_you_mean
from engine.errors import JourneyError, JourneyValidationError
from engine.limits import MAX_ERRORS
from engine.source import Path as SourcePath
from engine.source import Source, SourceSyntaxError, format_path, parse_source, read_source_file

M = TypeVar("M", bound=BaseModel)
Problem = tuple[SourcePath, str]
Loc = tuple[int | str, ...]

# Errors pydantic reports for the union members that did not apply, when another member explains more.
_UNION_NOISE = {"model_type", "dict_type", "string_type", "model_attributes_type", "literal_error"}


def _no_problems(model: Any) -> list[Problem]:
    return []


def _same_loc(loc: Loc) -> Loc:
    return loc


@dataclass(frozen=True)
class FileKind(Generic[M]):
    """What one kind of file is, for ``validate_source``."""

    model: type[M]
    shape: str
    """The message when the top level is not a mapping: what the file must be."""
    problems: Callable[[M], Iterable[Problem]] = _no_problems
    """Checks of a valid model the model cannot make itself (references, expressions, templates)."""
    keys_at: Callable[[SourcePath, Any], list[str]] | None = None
    """The keys allowed in the mapping at a path of the data, for did-you-mean (None: found by
    walking the model's fields)."""
    without_tags: Callable[[Loc], Loc] = _same_loc
    """An error location without the tags pydantic puts in it for tagged unions."""
    salvage: Callable[[Any, ValidationError], Iterable[Problem]] | None = None
    """The kind's own problems found despite the model's complaints (the parts that did validate)."""
    unknown_key_hint: Callable[[str, list[str]], str] = field(default=did_you_mean)
    """What follows ``unknown key "x"``, given the key and the keys allowed there."""
    message: Callable[[Any, SourcePath], str | None] = field(default=lambda err, path: None)
    """The kind's own wording of a pydantic error (at ``path`` of the file), None for the usual one."""

    def allowed_keys(self, path: SourcePath, data: Any) -> list[str]:
        if self.keys_at is not None:
            return self.keys_at(path, data)
        model = model_at(self.model, path)
        return [info.alias or name for name, info in model.model_fields.items()] if model else []


def validate_source(text: str, file: str, kind: FileKind[M]) -> tuple[M | None, list[JourneyError]]:
    """Every problem of one file's text, each positioned; the model when there are none."""
    try:
        source = parse_source(text, file)
    except SourceSyntaxError as exc:
        return None, [source_error(file, exc)]
    errors = [
        positioned(source, path, f'key "{path[-1]}" is written twice; the second would win', key=True)
        for path in source.duplicate_keys
    ]
    if not isinstance(source.data, dict):
        return None, [*errors, positioned(source, (), kind.shape)]
    try:
        model = kind.model.model_validate(source.data)
    except ValidationError as exc:
        errors += model_errors(source, exc, kind)
        if kind.salvage is not None:
            errors += [positioned(source, path, message) for path, message in kind.salvage(source.data, exc)]
        return None, at_most(errors, MAX_ERRORS)
    errors += [positioned(source, path, message) for path, message in kind.problems(model)]
    return (None if errors else model), at_most(errors, MAX_ERRORS)


def read_source(path: Path, file: str) -> str:
    """The text of a file within the limits of ``engine.source``; ``JourneyValidationError`` naming
    ``file`` when it is too large or not text."""
    try:
        return read_source_file(path)
    except SourceSyntaxError as exc:
        raise JourneyValidationError([source_error(file, exc)]) from exc


def source_error(file: str, exc: SourceSyntaxError) -> JourneyError:
    return JourneyError(file, exc.line, exc.column, format_path(exc.path), exc.message)


def positioned(source: Source, path: SourcePath, message: str, *, key: bool = False) -> JourneyError:
    line, column = source.position(path, key=key)
    return JourneyError(source.file, line, column, format_path(path), message)


def at_most(errors: list[JourneyError], most: int) -> list[JourneyError]:
    """``errors`` in order, the first ``most`` of them and one more that says how many are left out."""
    if len(errors) <= most:
        return errors
    ordered = sorted(errors)
    first_left_out = ordered[most]
    more = JourneyError(
        first_left_out.file,
        first_left_out.line,
        first_left_out.column,
        "",
        f"{len(ordered) - most} more problem(s) from here on are not listed; fix the first {most} first",
    )
    return [*ordered[:most], more]


def model_errors(source: Source, exc: ValidationError, kind: FileKind[Any]) -> list[JourneyError]:
    """pydantic's complaints at the keys of the file they are about, union noise left out."""
    found: list[tuple[SourcePath, str, str, bool]] = []
    # Only the first few hundred: more would not be listed, and sorting out union noise is quadratic.
    for err in exc.errors(include_url=False)[: MAX_ERRORS * 5]:
        path = _real_path(source.data, kind.without_tags(err["loc"]), keep_last=err["type"] == "missing")
        message, key = _message(err, path, source.data, kind)
        found.append((path, err["type"], message, key))
    errors = []
    for path, error_type, message, key in dict.fromkeys(found):
        if error_type in _UNION_NOISE and _explained(path, error_type, found):
            continue
        errors.append(positioned(source, path, message, key=key))
    return errors


def model_at(root: type[BaseModel], path: SourcePath) -> type[BaseModel] | None:
    """The model of the mapping at ``path`` below ``root`` (None where it is not a model): through
    fields, list items, dict values and optional or union types (their first model)."""
    annotation: Any = root
    for part in path:
        annotation = _below(annotation, part)
        if annotation is None:
            return None
    models = [member for member in _members(annotation) if _is_model(member)]
    return models[0] if models else None


def _below(annotation: Any, part: str | int) -> Any:
    """The type of ``part`` (a key or an index) of a value of type ``annotation``; None if unknown."""
    for member in _members(annotation):
        origin = get_origin(member)
        if _is_model(member) and isinstance(part, str):
            written = [info for name, info in member.model_fields.items() if part in (info.alias, name)]
            if written:
                return written[0].annotation
        if origin in (list, tuple, Sequence) and isinstance(part, int) and get_args(member):
            return get_args(member)[0]
        if origin in (dict, Mapping) and isinstance(part, str) and len(get_args(member)) == 2:
            return get_args(member)[1]
    return None


def _members(annotation: Any) -> list[Any]:
    """The types a value of ``annotation`` may have: union members, ``Annotated`` unwrapped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin is Union or origin is UnionType:
        return [each for argument in get_args(annotation) for each in _members(argument)]
    return [annotation]


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _explained(path: SourcePath, error_type: str, found: list[tuple[SourcePath, str, str, bool]]) -> bool:
    """Whether a union member's complaint is better explained by another error at or below ``path``."""
    at_or_below = [f for f in found if f[0][: len(path)] == path]
    meaningful = [f for f in at_or_below if f[1] not in _UNION_NOISE]
    if meaningful:
        return True
    # Only noise here: keep the first complaint at this very path.
    same = [f for f in at_or_below if f[0] == path]
    return bool(same) and same[0][1] != error_type


def _real_path(data: Any, loc: Loc, *, keep_last: bool) -> SourcePath:
    """Drop pydantic's union member names from ``loc`` so it names keys that exist in the file."""
    path: list[str | int] = []
    current = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif last and keep_last:
            path.append(part)
    return tuple(path)


def _message(err: Any, path: SourcePath, data: Any, kind: FileKind[Any]) -> tuple[str, bool]:
    error_type = err["type"]
    value = err.get("input")
    if error_type == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        choices = [word for word in kind.allowed_keys(path[:-1], data) if word != key]
        return f'unknown key "{key}"' + kind.unknown_key_hint(key, choices), True
    if error_type == "missing":
        return f'"{path[-1]}" is required', False
    if (special := kind.message(err, path)) is not None:
        return special, False
    if error_type == "too_short" and path:
        return f'"{path[-1]}" needs at least one entry', False
    if error_type == "string_pattern_mismatch":
        return f'"{shorten(str(value))}" is not a valid name: use lower case letters, digits and _', False
    if error_type in ("value_error", "assertion_error"):
        return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, "), False
    return f"{err['msg']} (got {shorten(repr(value))})", False


def shorten(text: str, most: int = 80) -> str:
    """A value quoted in a message: the file may hold a long one, the message shows its start."""
    return text if len(text) <= most else text[:most] + "..."

"""What the program-wide files (``loyalty.yaml``, ``channels.yaml``) share when they are validated:
the text parsed with positions, repeated keys, the root model with did-you-mean for unknown keys
drawn from the model's own keys, then the file's own checks, every problem at its line."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from engine.checks import did_you_mean
from engine.errors import JourneyError
from engine.limits import MAX_ERRORS
from engine.loader import _at_most, _error, _pydantic_errors, _source_error
from engine.source import Path as SourcePath
from engine.source import Source, SourceSyntaxError, parse_source

Problem = tuple[SourcePath, str]
M = TypeVar("M", bound=BaseModel)


def validate_file_text(
    text: str,
    file: str,
    root: type[M],
    *,
    shape: str,
    problems: Callable[[M], Iterable[Problem]],
) -> tuple[M | None, list[JourneyError]]:
    """The ``root`` model of ``text`` and no errors, or None and every problem, positioned in ``file``;
    ``shape`` says what the file must be when it is not a mapping (``a ... file must be ...``)."""
    try:
        source = parse_source(text, file)
    except SourceSyntaxError as exc:
        return None, [_source_error(file, exc)]
    errors = [
        _error(source, path, f'key "{path[-1]}" is written twice; the second would win', key=True)
        for path in source.duplicate_keys
    ]
    if not isinstance(source.data, dict):
        errors.append(_error(source, (), shape))
        return None, errors
    try:
        model = root.model_validate(source.data)
    except ValidationError as exc:
        return None, _at_most(errors + model_errors(source, exc, root), MAX_ERRORS)
    errors += [_error(source, path, message) for path, message in problems(model)]
    return (None if errors else model), _at_most(errors, MAX_ERRORS)


def model_errors(source: Source, exc: ValidationError, root: type[BaseModel]) -> list[JourneyError]:
    """The model's complaints, with did-you-mean for unknown keys drawn from the keys ``root`` has
    at that place."""
    errors = []
    for error in _pydantic_errors(source, exc):
        if error.message.startswith('unknown key "'):
            path = _parse_path(error.path)
            key = str(path[-1]) if path else ""
            choices = [name for name in _keys_of(_model_at(root, path[:-1])) if name != key]
            error = JourneyError(
                error.file,
                error.line,
                error.column,
                error.path,
                f'unknown key "{key}"' + did_you_mean(key, choices),
            )
        errors.append(error)
    return errors


def _parse_path(text: str) -> SourcePath:
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text):
        parts.append(int(index) if index else name)
    return tuple(parts)


def _model_at(root: type[BaseModel], path: SourcePath) -> type[BaseModel] | None:
    """The model of the mapping at ``path`` in a file whose root is ``root`` (None when not a model)."""
    model: type[BaseModel] | None = root
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = _field(model, part)
        model = _model_in(field.annotation) if field else None
    return model


def _field(model: type[BaseModel], key: str) -> Any:
    """The field written as ``key`` (its alias or its name)."""
    for name, field in model.model_fields.items():
        if key in (field.alias, name):
            return field
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _keys_of(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]

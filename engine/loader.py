"""Load journey files: parse, validate (collecting every error with its position), compile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.checks import did_you_mean, semantic_problems
from engine.compiler import compile_journey
from engine.errors import JourneyError, JourneyValidationError
from engine.plan import Plan
from engine.schema import STEP_KINDS, Journey, SendStep, vocabulary
from engine.source import Path as SourcePath
from engine.source import Source, SourceSyntaxError, format_path, parse_source
from engine.stages import STAGES
from engine.templates import read_email_sources

# Errors pydantic reports for the union members that did not apply, when another member explains more.
_UNION_NOISE = {"model_type", "dict_type", "string_type", "model_attributes_type", "literal_error"}


def compile_text(text: str, file: str, templates_dir: Path) -> Plan:
    """Validate and compile one journey given as text; raise ``JourneyValidationError`` on problems."""
    journey, source, errors = validate_text(text, file, templates_dir)
    if errors or journey is None:
        raise JourneyValidationError(errors)
    sources: dict[str, str] = {}
    for step in journey.steps:
        if isinstance(step, SendStep) and step.send.email is not None:
            sources.update(read_email_sources(templates_dir, step.send.email))
    return compile_journey(journey, sources)


def compile_file(path: Path, templates_dir: Path | None = None) -> Plan:
    return compile_text(path.read_text("utf-8"), path.name, templates_dir or path.parent / "templates")


def journey_files(path: Path) -> list[Path]:
    """The journey files at ``path``: the file itself, or the ``*.yaml``/``*.yml`` directly in a folder."""
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    return [path]


def load_directory(path: Path) -> list[Plan]:
    """Compile every journey in a folder; raise one error listing every problem in every file."""
    plans: list[Plan] = []
    errors: list[JourneyError] = []
    for file in journey_files(path):
        try:
            plans.append(compile_file(file))
        except JourneyValidationError as exc:
            errors += exc.errors
    names = [plan.journey for plan in plans]
    for plan in plans:
        if names.count(plan.journey) > 1:
            errors.append(JourneyError(str(path), 1, 1, "journey", f'"{plan.journey}" is defined twice'))
    if errors:
        raise JourneyValidationError(errors)
    return plans


def validate_text(
    text: str, file: str, templates_dir: Path
) -> tuple[Journey | None, Source | None, list[JourneyError]]:
    """Every problem of one journey text, each positioned; the journey when there are none."""
    try:
        source = parse_source(text, file)
    except SourceSyntaxError as exc:
        return None, None, [JourneyError(file, exc.line, exc.column, "", exc.message)]
    errors = [
        _error(source, path, f'key "{path[-1]}" is written twice; the second would win', key=True)
        for path in source.duplicate_keys
    ]
    if not isinstance(source.data, dict):
        errors.append(_error(source, (), "a journey file must be a mapping with journey, trigger and steps"))
        return None, source, errors
    try:
        journey = Journey.model_validate(source.data)
    except ValidationError as exc:
        return None, source, errors + _pydantic_errors(source, exc)
    errors += [_error(source, path, message) for path, message in semantic_problems(journey, templates_dir)]
    return (None if errors else journey), source, errors


def _error(source: Source, path: SourcePath, message: str, *, key: bool = False) -> JourneyError:
    line, column = source.position(path, key=key)
    return JourneyError(source.file, line, column, format_path(path), message)


def _pydantic_errors(source: Source, exc: ValidationError) -> list[JourneyError]:
    by_path: dict[SourcePath, list[tuple[str, str, bool]]] = {}
    for err in exc.errors(include_url=False):
        path = _real_path(source.data, err["loc"], keep_last=err["type"] == "missing")
        message, key = _message(err, path)
        by_path.setdefault(path, []).append((err["type"], message, key))
    errors = []
    for path, found in by_path.items():
        meaningful = [f for f in found if f[0] not in _UNION_NOISE] or found[:1]
        for _, message, key in list(dict.fromkeys(meaningful)):
            errors.append(_error(source, path, message, key=key))
    return errors


def _real_path(data: Any, loc: tuple[int | str, ...], *, keep_last: bool) -> SourcePath:
    """Drop pydantic's union tags from ``loc`` so it names keys that exist in the file."""
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


def _message(err: Any, path: SourcePath) -> tuple[str, bool]:
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        return f'unknown key "{key}"' + did_you_mean(key, vocabulary()), True
    if kind == "missing":
        return f'"{path[-1]}" is required', False
    if kind == "step_kind":
        found = [k for k in STEP_KINDS if isinstance(value, dict) and k in value]
        if found:
            return "a step does one thing, but this one has " + " and ".join(found), False
        return str(err["msg"]), False
    if kind == "literal_error" and path and path[-1] in ("stage", "set_stage"):
        hint = did_you_mean(str(value), list(STAGES)) or ""
        return f'"{value}" is not a lifecycle stage; use one of {", ".join(STAGES)}{hint}', False
    if kind == "string_pattern_mismatch":
        return f'"{value}" is not a valid name: use lower case letters, digits and _', False
    if kind in ("value_error", "assertion_error"):
        return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, "), False
    return f"{err['msg']} (got {value!r})", False

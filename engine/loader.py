"""Load journey files: parse, validate (collecting every error with its position), compile."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.checks import did_you_mean, semantic_problems
from engine.compiler import compile_journey
from engine.errors import JourneyError, JourneyValidationError
from engine.limits import MAX_ERRORS, MAX_ID_LENGTH
from engine.plan import Plan
from engine.schema import (
    SLUG,
    STEP_KINDS,
    STEP_MODELS,
    AwardSpec,
    BranchCase,
    BranchSpec,
    Cooldown,
    Goal,
    Journey,
    Sample,
    SendSpec,
    SendStep,
    SplitSpec,
    SplitVariant,
    StepBase,
    Trigger,
    WaitForSpec,
    WaitSpec,
    step_kind,
    vocabulary,
)
from engine.source import Path as SourcePath
from engine.source import (
    Source,
    SourceSyntaxError,
    decode_source,
    format_path,
    parse_source,
    read_source_file,
)
from engine.stages import STAGES
from engine.templates import TemplateMissing, read_email_sources

# Errors pydantic reports for the union members that did not apply, when another member explains more.
_UNION_NOISE = {"model_type", "dict_type", "string_type", "model_attributes_type", "literal_error"}


def compile_text(text: str, file: str, templates_dir: Path) -> Plan:
    """Validate and compile one journey given as text; raise ``JourneyValidationError`` on problems.

    Nothing else comes out: every limit of ``engine.limits`` is checked, and every refusal is a
    positioned ``JourneyError``. The work is bounded by those limits, whatever the text.
    """
    journey, errors = validate_text(text, file, templates_dir)
    if errors or journey is None:
        raise JourneyValidationError(errors)
    sources: dict[str, str] = {}
    read: set[str] = set()
    for index, step in enumerate(journey.steps):
        if isinstance(step, SendStep) and step.send.email is not None and step.send.email not in read:
            read.add(step.send.email)
            try:
                sources.update(read_email_sources(templates_dir, step.send.email))
            except TemplateMissing as exc:  # changed since it was checked
                path: SourcePath = ("steps", index, "send", "email")
                raise JourneyValidationError(
                    [JourneyError(file, 1, 1, format_path(path), exc.message)]
                ) from exc
    return compile_journey(journey, sources)


def decode_journey(data: bytes, file: str) -> str:
    """The text of a journey file's bytes; ``JourneyValidationError`` past the size limit or where
    they are not UTF-8."""
    try:
        return decode_source(data)
    except SourceSyntaxError as exc:
        raise JourneyValidationError([_source_error(file, exc)]) from exc


def compile_bytes(data: bytes, file: str, templates_dir: Path) -> Plan:
    """``compile_text`` of a file's bytes (``decode_journey``)."""
    return compile_text(decode_journey(data, file), file, templates_dir)


def compile_file(path: Path, templates_dir: Path | None = None) -> Plan:
    """Compile one journey file, read within the size limit; errors name the file by its name."""
    try:
        text = read_source_file(path)
    except SourceSyntaxError as exc:
        raise JourneyValidationError([_source_error(path.name, exc)]) from exc
    return compile_text(text, path.name, templates_dir or path.parent / "templates")


def _source_error(file: str, exc: SourceSyntaxError) -> JourneyError:
    return JourneyError(file, exc.line, exc.column, format_path(exc.path), exc.message)


# Files in the journeys folder that are not journeys: the loyalty program (engine.loyalty) and the
# channel policy (engine.channels).
NOT_JOURNEYS = frozenset({"loyalty.yaml", "loyalty.yml", "channels.yaml", "channels.yml"})


def journey_files(path: Path) -> list[Path]:
    """The journey files at ``path``: the file itself, or the ``*.yaml``/``*.yml`` directly in a
    folder, except the program files of ``NOT_JOURNEYS``."""
    if path.is_dir():
        found = [*path.glob("*.yaml"), *path.glob("*.yml")]
        return sorted(file for file in found if file.name not in NOT_JOURNEYS)
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


def validate_text(text: str, file: str, templates_dir: Path) -> tuple[Journey | None, list[JourneyError]]:
    """Every problem of one journey text, each positioned; the journey when there are none.

    At most ``MAX_ERRORS`` are listed, then one more that says there are more.
    """
    journey, errors = _validate_text(text, file, templates_dir)
    return journey, _at_most(errors, MAX_ERRORS)


def _at_most(errors: list[JourneyError], most: int) -> list[JourneyError]:
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


def _validate_text(text: str, file: str, templates_dir: Path) -> tuple[Journey | None, list[JourneyError]]:
    try:
        source = parse_source(text, file)
    except SourceSyntaxError as exc:
        return None, [_source_error(file, exc)]
    errors = [
        _error(source, path, f'key "{path[-1]}" is written twice; the second would win', key=True)
        for path in source.duplicate_keys
    ]
    if not isinstance(source.data, dict):
        errors.append(_error(source, (), "a journey file must be a mapping with journey, trigger and steps"))
        return None, errors
    try:
        journey = Journey.model_validate(source.data)
    except ValidationError as exc:
        errors += _pydantic_errors(source, exc)
        salvaged = _salvage(source.data, exc)
        if salvaged is not None:
            partial, complete, sample_ok = salvaged
            problems = semantic_problems(partial, templates_dir, graph=complete, render=sample_ok)
            errors += [_error(source, path, message) for path, message in problems]
        return None, errors
    errors += [_error(source, path, message) for path, message in semantic_problems(journey, templates_dir)]
    return (None if errors else journey), errors


# Stand-ins for top-level values that failed validation, so the other checks can still run.
_STAND_INS: dict[str, Any] = {"journey": "journey", "stage": "reach", "trigger": {"event": "trigger"}}


def _salvage(data: dict[str, Any], exc: ValidationError) -> tuple[Journey, bool, bool] | None:
    """A journey with the broken parts replaced, to find the problems structural errors would hide.

    Returns the journey, whether its step graph is complete (no step was replaced) and whether the
    sample data is the author's own; None when the steps themselves cannot be made out.
    """
    broken_keys: set[str] = set()
    broken_steps: set[int] = set()
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        if not loc:
            return None
        if loc[0] == "steps" and len(loc) > 1 and isinstance(loc[1], int):
            broken_steps.add(loc[1])
        else:
            broken_keys.add(str(loc[0]))
    if "steps" in broken_keys:  # missing, not a list, or empty
        return None
    patched = {key: value for key, value in data.items() if key not in broken_keys}
    patched.update({key: _STAND_INS[key] for key in broken_keys if key in _STAND_INS})
    steps = list(data["steps"])
    for index in broken_steps:
        raw = steps[index]
        step_id = raw.get("id") if isinstance(raw, dict) else None
        # A stand-in that keeps the step's id, so steps that go to it still find it.
        valid = isinstance(step_id, str) and re.match(SLUG, step_id) and len(step_id) <= MAX_ID_LENGTH
        steps[index] = {"id": step_id if valid else f"steps_{index}_", "exit": None}
    patched["steps"] = steps
    try:
        journey = Journey.model_validate(patched)
    except ValidationError:
        return None
    return journey, not broken_steps, "sample" not in broken_keys


def _error(source: Source, path: SourcePath, message: str, *, key: bool = False) -> JourneyError:
    line, column = source.position(path, key=key)
    return JourneyError(source.file, line, column, format_path(path), message)


def _pydantic_errors(source: Source, exc: ValidationError) -> list[JourneyError]:
    found: list[tuple[SourcePath, str, str, bool]] = []
    # Only the first few hundred: more would not be listed, and sorting out union noise is quadratic.
    for err in exc.errors(include_url=False)[: MAX_ERRORS * 5]:
        path = _real_path(source.data, _without_step_tag(err["loc"]), keep_last=err["type"] == "missing")
        message, key = _message(err, path, source.data)
        found.append((path, err["type"], message, key))
    errors = []
    for path, kind, message, key in dict.fromkeys(found):
        if kind in _UNION_NOISE and _explained(path, kind, found):
            continue
        errors.append(_error(source, path, message, key=key))
    return errors


def _explained(path: SourcePath, kind: str, found: list[tuple[SourcePath, str, str, bool]]) -> bool:
    """Whether a union member's complaint is better explained by another error at or below ``path``."""
    at_or_below = [f for f in found if f[0][: len(path)] == path]
    meaningful = [f for f in at_or_below if f[1] not in _UNION_NOISE]
    if meaningful:
        return True
    # Only noise here: keep the first complaint at this very path.
    same = [f for f in at_or_below if f[0] == path]
    return bool(same) and same[0][1] != kind


def _without_step_tag(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Drop the tag pydantic puts after ``steps[i]`` (the step kind, which is also a key of the step)."""
    if len(loc) > 2 and loc[0] == "steps" and isinstance(loc[1], int) and loc[2] in STEP_KINDS:
        return (*loc[:2], *loc[3:])
    return loc


def _real_path(data: Any, loc: tuple[int | str, ...], *, keep_last: bool) -> SourcePath:
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


def _message(err: Any, path: SourcePath, data: Any) -> tuple[str, bool]:
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        choices = [word for word in _keys_at(path[:-1], data) if word != key]
        return f'unknown key "{key}"' + did_you_mean(key, choices), True
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
    if kind == "literal_error" and path == ("entry",):
        return f'"{value}" is not an entry rule; use once, always or {{cooldown: 30d}}', False
    if kind == "too_short" and path:
        return f'"{path[-1]}" needs at least one entry', False
    if kind == "string_pattern_mismatch":
        return f'"{_shorten(str(value))}" is not a valid name: use lower case letters, digits and _', False
    if kind in ("value_error", "assertion_error"):
        return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, "), False
    return f"{err['msg']} (got {_shorten(repr(value))})", False


def _shorten(text: str, most: int = 80) -> str:
    """A value quoted in a message: the file may hold a long one, the message shows its start."""
    return text if len(text) <= most else text[:most] + "..."


# The model whose keys are allowed at a path (indices written as "*"), for did-you-mean.
_MODELS_AT: dict[tuple[str, ...], type[BaseModel]] = {
    (): Journey,
    ("trigger",): Trigger,
    ("entry",): Cooldown,
    ("goal",): Goal,
    ("sample",): Sample,
    ("steps", "*", "send"): SendSpec,
    ("steps", "*", "wait"): WaitSpec,
    ("steps", "*", "wait_for"): WaitForSpec,
    ("steps", "*", "branch"): BranchSpec,
    ("steps", "*", "branch", "cases", "*"): BranchCase,
    ("steps", "*", "split"): SplitSpec,
    ("steps", "*", "split", "variants", "*"): SplitVariant,
    ("steps", "*", "award"): AwardSpec,
}


def _keys_at(path: SourcePath, data: Any) -> list[str]:
    """The keys a mapping at ``path`` may have (every key of the language when unsure)."""
    pattern = tuple("*" if isinstance(part, int) else part for part in path)
    model: type[BaseModel] | None = _MODELS_AT.get(pattern)
    if pattern == ("steps", "*"):
        step = data["steps"][path[1]]
        model = STEP_MODELS.get(step_kind(step) or "", StepBase)
    if model is None:
        return vocabulary()
    return [info.alias or name for name, info in model.model_fields.items()]

"""Load journey files: parse, validate (collecting every error with its position), compile."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.checks import did_you_mean, semantic_problems
from engine.compiler import compile_journey
from engine.errors import JourneyError, JourneyValidationError
from engine.limits import MAX_ID_LENGTH
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
from engine.source import SourceSyntaxError, decode_source, format_path
from engine.stages import STAGES
from engine.templates import TemplateMissing, read_email_sources
from engine.validation import FileKind, Problem, read_source, source_error, validate_source


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
        raise JourneyValidationError([source_error(file, exc)]) from exc


def compile_bytes(data: bytes, file: str, templates_dir: Path) -> Plan:
    """``compile_text`` of a file's bytes (``decode_journey``)."""
    return compile_text(decode_journey(data, file), file, templates_dir)


def compile_file(path: Path, templates_dir: Path | None = None) -> Plan:
    """Compile one journey file, read within the size limit; errors name the file by its name."""
    text = read_source(path, path.name)
    return compile_text(text, path.name, templates_dir or path.parent / "templates")


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
    return validate_source(text, file, _journey_kind(templates_dir))


def _journey_kind(templates_dir: Path) -> FileKind[Journey]:
    def salvage(data: Any, exc: ValidationError) -> list[Problem]:
        salvaged = _salvage(data, exc)
        if salvaged is None:
            return []
        partial, complete, sample_ok = salvaged
        return semantic_problems(partial, templates_dir, graph=complete, render=sample_ok)

    return FileKind(
        model=Journey,
        shape="a journey file must be a mapping with journey, trigger and steps",
        problems=lambda journey: semantic_problems(journey, templates_dir),
        keys_at=_keys_at,
        without_tags=_without_step_tag,
        salvage=salvage,
        message=_journey_message,
    )


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


def _without_step_tag(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Drop the tag pydantic puts after ``steps[i]`` (the step kind, which is also a key of the step)."""
    if len(loc) > 2 and loc[0] == "steps" and isinstance(loc[1], int) and loc[2] in STEP_KINDS:
        return (*loc[:2], *loc[3:])
    return loc


def _journey_message(err: Any, path: SourcePath) -> str | None:
    """The journey language's own wording of a step with two kinds, a stage or an entry rule."""
    error_type, value = err["type"], err.get("input")
    if error_type == "step_kind":
        found = [k for k in STEP_KINDS if isinstance(value, dict) and k in value]
        if found:
            return "a step does one thing, but this one has " + " and ".join(found)
        return str(err["msg"])
    if error_type == "literal_error" and path and path[-1] in ("stage", "set_stage"):
        hint = did_you_mean(str(value), list(STAGES)) or ""
        return f'"{value}" is not a lifecycle stage; use one of {", ".join(STAGES)}{hint}'
    if error_type == "literal_error" and path == ("entry",):
        return f'"{value}" is not an entry rule; use once, always or {{cooldown: 30d}}'
    return None


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

"""Load and validate the loyalty program file: every problem positioned at its line, like journeys."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from engine import expressions
from engine.checks import did_you_mean
from engine.errors import JourneyError, JourneyValidationError
from engine.limits import MAX_ERRORS
from engine.loader import _at_most, _error, _pydantic_errors, _source_error
from engine.loyalty.program import Program
from engine.loyalty.schema import LoyaltyProgram
from engine.source import Path as SourcePath
from engine.source import Source, SourceSyntaxError, parse_source, read_source_file

PROGRAM_FILE = "loyalty.yaml"
Problem = tuple[SourcePath, str]


def program_path(journeys_dir: Path) -> Path:
    return journeys_dir / PROGRAM_FILE


def validate_program_text(text: str, file: str) -> tuple[Program | None, list[JourneyError]]:
    """Every problem of a program text, each positioned; the program when there are none."""
    try:
        source = parse_source(text, file)
    except SourceSyntaxError as exc:
        return None, [_source_error(file, exc)]
    errors = [
        _error(source, path, f'key "{path[-1]}" is written twice; the second would win', key=True)
        for path in source.duplicate_keys
    ]
    if not isinstance(source.data, dict):
        errors.append(_error(source, (), "a loyalty program file must be a mapping with program and tiers"))
        return None, errors
    try:
        model = LoyaltyProgram.model_validate(source.data)
    except ValidationError as exc:
        return None, _at_most(errors + _model_errors(source, exc), MAX_ERRORS)
    errors += [_error(source, path, message) for path, message in program_problems(model)]
    return (None if errors else Program.of(model)), _at_most(errors, MAX_ERRORS)


def load_program(path: Path) -> Program:
    """The program in ``path``; raises ``JourneyValidationError`` listing every problem."""
    file = str(path)
    program, errors = validate_program_text(read_source_file(path), file)
    if program is None:
        raise JourneyValidationError(errors)
    return program


def load_program_in(journeys_dir: Path) -> Program | None:
    """The program of a journeys folder, or None when it has no ``loyalty.yaml``."""
    path = program_path(journeys_dir)
    return load_program(path) if path.is_file() else None


def _model_errors(source: Source, exc: ValidationError) -> list[JourneyError]:
    """The model's complaints, with did-you-mean for unknown keys drawn from the program's own keys."""
    errors = []
    for error in _pydantic_errors(source, exc):
        if error.message.startswith('unknown key "'):
            path = _parse_path(error.path)
            key = str(path[-1]) if path else ""
            choices = [name for name in _keys_of(_model_at(path[:-1])) if name != key]
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


def _model_at(path: SourcePath) -> type[BaseModel] | None:
    """The model of the mapping at ``path`` in a program file (None when not a model)."""
    model: type[BaseModel] | None = LoyaltyProgram
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field else None
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _keys_of(model: type[BaseModel] | None) -> list[str]:
    return list(model.model_fields) if model is not None else []


def program_problems(program: LoyaltyProgram) -> list[Problem]:
    """What the model alone cannot see: unknown references, repeated ids, expressions outside the language."""
    return [*_repeated_ids(program), *_references(program), *_expressions(program)]


def _repeated_ids(program: LoyaltyProgram) -> Iterator[Problem]:
    lists: dict[str, list[str]] = {
        "earning": [rule.id for rule in program.earning],
        "campaigns": [campaign.id for campaign in program.campaigns],
        "rewards": [reward.id for reward in program.rewards],
        "leaderboards": [board.id for board in program.leaderboards],
        "challenges": [challenge.id for challenge in program.challenges],
    }
    for key, ids in lists.items():
        for index, item_id in enumerate(ids):
            if item_id in ids[:index]:
                yield (key, index, "id"), f'"{item_id}" is used twice in {key}; each needs its own id'


def _references(program: LoyaltyProgram) -> Iterator[Problem]:
    rules = [rule.id for rule in program.earning]
    tiers = [tier.name for tier in program.tiers.levels]
    for i, campaign in enumerate(program.campaigns):
        for j, rule_id in enumerate(campaign.rules):
            if rule_id not in rules:
                hint = did_you_mean(rule_id, rules)
                yield ("campaigns", i, "rules", j), f'there is no earning rule "{rule_id}"' + hint
    for i, reward in enumerate(program.rewards):
        if reward.tier is not None and reward.tier not in tiers:
            yield (
                ("rewards", i, "tier"),
                f'there is no tier "{reward.tier}"' + did_you_mean(reward.tier, tiers),
            )


def _expressions(program: LoyaltyProgram) -> Iterator[Problem]:
    found: list[tuple[SourcePath, str]] = []
    for i, rule in enumerate(program.earning):
        if rule.where:
            found.append((("earning", i, "where"), rule.where))
        if isinstance(rule.points, str):
            found.append((("earning", i, "points"), rule.points))
    if program.referrals and program.referrals.where:
        found.append((("referrals", "where"), program.referrals.where))
    for i, challenge in enumerate(program.challenges):
        if challenge.where:
            found.append((("challenges", i, "where"), challenge.where))
    for path, text in found:
        try:
            expressions.check(text, ("customer", "event"))
        except expressions.ExpressionError as exc:
            yield path, str(exc)

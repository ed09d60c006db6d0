"""Load and validate the loyalty program file: every problem positioned at its line, like journeys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from engine import expressions
from engine.checks import did_you_mean
from engine.errors import JourneyError, JourneyValidationError
from engine.loyalty.program import Program
from engine.loyalty.schema import LoyaltyProgram
from engine.source import Path as SourcePath
from engine.validation import FileKind, Problem, read_source, validate_source

PROGRAM_FILE = "loyalty.yaml"


def program_path(journeys_dir: Path) -> Path:
    return journeys_dir / PROGRAM_FILE


_PROGRAM_FILE_KIND = FileKind(
    model=LoyaltyProgram,
    shape="a loyalty program file must be a mapping with program and tiers",
    problems=lambda model: program_problems(model),
)


def validate_program_text(text: str, file: str) -> tuple[Program | None, list[JourneyError]]:
    """Every problem of a program text, each positioned; the program when there are none."""
    model, errors = validate_source(text, file, _PROGRAM_FILE_KIND)
    return (None if model is None else Program.of(model)), errors


def load_program(path: Path) -> Program:
    """The program in ``path``; raises ``JourneyValidationError`` listing every problem (also for a
    file too large or not text)."""
    file = str(path)
    program, errors = validate_program_text(read_source(path, file), file)
    if program is None:
        raise JourneyValidationError(errors)
    return program


def load_program_in(journeys_dir: Path) -> Program | None:
    """The program of a journeys folder, or None when it has no ``loyalty.yaml``."""
    path = program_path(journeys_dir)
    return load_program(path) if path.is_file() else None


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

"""Load and validate the loyalty program file, ``journeys/loyalty.yaml``: every problem positioned at
its line, like journeys and the channel policy (``engine.program_file``)."""

from __future__ import annotations

from collections.abc import Iterator

from engine import expressions
from engine.checks import did_you_mean
from engine.loyalty.program import Program
from engine.loyalty.schema import LoyaltyProgram
from engine.program_file import ProgramFile
from engine.source import Path as SourcePath
from engine.validation import FileKind, Problem

PROGRAM_FILE = "loyalty.yaml"

LOYALTY_PROGRAM_FILE = ProgramFile(
    PROGRAM_FILE,
    FileKind(
        model=LoyaltyProgram,
        shape="a loyalty program file must be a mapping with program and tiers",
        problems=lambda model: program_problems(model),
    ),
    Program.of,
)
program_path = LOYALTY_PROGRAM_FILE.path_in
validate_program_text = LOYALTY_PROGRAM_FILE.validate_text
load_program = LOYALTY_PROGRAM_FILE.load
load_program_in = LOYALTY_PROGRAM_FILE.load_in


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

"""Validate every journey in a folder, its loyalty program (``loyalty.yaml``) and its channel policy
(``channels.yaml``) when it has them, and its segment files, and deploy them all to the store, or
none if one is invalid."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from engine.channels.loader import policy_path, validate_policy_text
from engine.channels.policy import ChannelPolicy
from engine.errors import JourneyError, JourneyValidationError
from engine.loader import journey_files, load_directory
from engine.loyalty.loader import program_path, validate_program_text
from engine.loyalty.program import Program
from engine.plan import Plan
from engine.segments.loader import check_segments
from engine.source import SourceSyntaxError, read_source_file

T = TypeVar("T")


@dataclass(frozen=True)
class Deployed:
    journey: str  # the journey's id, the loyalty program's or the channel policy's
    version: str
    new: bool
    kind: str = "journey"  # journey | loyalty program | channel policy


@dataclass(frozen=True)
class Compiled:
    journeys: list[tuple[Plan, str]]
    program: tuple[Program, str] | None
    policy: tuple[ChannelPolicy, str] | None


def compile_directory(directory: Path) -> list[tuple[Plan, str]]:
    """Every journey of ``directory`` compiled, with its YAML source; ``JourneyValidationError`` lists
    every problem if one is invalid."""
    if not directory.is_dir():
        error = JourneyError(str(directory), 1, 1, "", "no such folder (set JOURNEYS_JOURNEYS_DIR)")
        raise JourneyValidationError([error])
    plans = load_directory(directory)
    # load_directory compiles the files in this order and raised if any failed.
    sources = [file.read_text("utf-8") for file in journey_files(directory)]
    return list(zip(plans, sources, strict=True))


def _validate_file(
    path: Path, validate: Callable[[str, str], tuple[T | None, list[JourneyError]]]
) -> tuple[T, str] | None:
    """The file at ``path`` validated, with its text; None when there is no such file;
    ``JourneyValidationError`` with every problem, positioned in it."""
    if not path.is_file():
        return None
    try:
        text = read_source_file(path)
    except SourceSyntaxError as exc:
        error = JourneyError(str(path), exc.line, exc.column, "", exc.message)
        raise JourneyValidationError([error]) from exc
    found, errors = validate(text, str(path))
    if found is None:
        raise JourneyValidationError(errors)
    return found, text


def validate_program_in(directory: Path) -> tuple[Program, str] | None:
    """The loyalty program of ``directory`` with its text, None when it has none."""
    return _validate_file(program_path(directory), validate_program_text)


def validate_policy_in(directory: Path) -> tuple[ChannelPolicy, str] | None:
    """The channel policy of ``directory`` with its text, None when it has none."""
    return _validate_file(policy_path(directory), validate_policy_text)


def compile_all(directory: Path) -> Compiled:
    """The journeys, the program and the policy of ``directory``; the problems of all, and of its
    segment files (``segments/*.yaml``, which the API and the worker read when they start), in one
    error."""
    errors: list[JourneyError] = []
    compiled: list[tuple[Plan, str]] = []
    program = policy = None
    try:
        compiled = compile_directory(directory)
    except JourneyValidationError as exc:
        errors += exc.errors
    if directory.is_dir():
        try:
            program = validate_program_in(directory)
        except JourneyValidationError as exc:
            errors += exc.errors
        try:
            policy = validate_policy_in(directory)
        except JourneyValidationError as exc:
            errors += exc.errors
        errors += [
            dataclasses.replace(error, file=str(directory / error.file))
            for error in check_segments(directory)[1]
        ]
    if errors:
        raise JourneyValidationError(errors)
    return Compiled(compiled, program, policy)


async def deploy_directory(directory: Path, store_url: str, *, deployed_by: str) -> list[Deployed]:
    """Compile ``directory`` (off the event loop) and deploy it: all of it, or nothing if one is invalid
    (a journey, the loyalty program or the channel policy). The deploy history names ``deployed_by``
    (``cli``, ``journeys setup``, ``journeys up``). A folder without ``channels.yaml`` leaves the
    deployed policy as it is (none: every send as before)."""
    # Here, not at the top: `journeys validate` uses this module without a store or an event loop.
    import asyncio

    from store.database import Store

    found = await asyncio.to_thread(compile_all, directory)
    store = Store(store_url)
    try:
        await store.migrate()
        deployed = [
            Deployed(plan.journey, plan.version, await store.deployments.deploy(plan, source, deployed_by))
            for plan, source in found.journeys
        ]
        if found.program is not None:
            program, text = found.program
            new = await store.loyalty_programs.deploy(program, text)
            deployed.append(Deployed(program.source.program, program.version, new, "loyalty program"))
        if found.policy is not None:
            policy, text = found.policy
            new = await store.channel_policies.deploy(policy, text)
            deployed.append(Deployed(policy.source.policy, policy.version, new, "channel policy"))
        return deployed
    finally:
        await store.close()

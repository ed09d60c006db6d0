"""Validate every journey in a folder, its loyalty program (``loyalty.yaml``) when it has one and its
segment files, and deploy them all to the store, or none if one is invalid."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from pathlib import Path

from engine.errors import JourneyError, JourneyValidationError
from engine.loader import journey_files, load_directory
from engine.loyalty.loader import program_path, validate_program_text
from engine.loyalty.program import Program
from engine.plan import Plan
from engine.segments.loader import check_segments
from engine.source import SourceSyntaxError, read_source_file


@dataclass(frozen=True)
class Deployed:
    journey: str  # the journey's id, or the loyalty program's
    version: str
    new: bool
    kind: str = "journey"  # journey | loyalty program


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


def validate_program_in(directory: Path) -> tuple[Program, str] | None:
    """The loyalty program of ``directory`` with its text, None when it has none;
    ``JourneyValidationError`` with every problem, positioned in ``loyalty.yaml``."""
    path = program_path(directory)
    if not path.is_file():
        return None
    try:
        text = read_source_file(path)
    except SourceSyntaxError as exc:
        error = JourneyError(str(path), exc.line, exc.column, "", exc.message)
        raise JourneyValidationError([error]) from exc
    program, errors = validate_program_text(text, str(path))
    if program is None:
        raise JourneyValidationError(errors)
    return program, text


def compile_all(directory: Path) -> tuple[list[tuple[Plan, str]], tuple[Program, str] | None]:
    """The journeys and the program of ``directory``; the problems of both, and of its segment files
    (``segments/*.yaml``, which the API and the worker read when they start), in one error."""
    errors: list[JourneyError] = []
    compiled: list[tuple[Plan, str]] = []
    program = None
    try:
        compiled = compile_directory(directory)
    except JourneyValidationError as exc:
        errors += exc.errors
    if directory.is_dir():
        try:
            program = validate_program_in(directory)
        except JourneyValidationError as exc:
            errors += exc.errors
        errors += [
            dataclasses.replace(error, file=str(directory / error.file))
            for error in check_segments(directory)[1]
        ]
    if errors:
        raise JourneyValidationError(errors)
    return compiled, program


async def deploy_directory(directory: Path, store_url: str, *, deployed_by: str) -> list[Deployed]:
    """Compile ``directory`` (off the event loop) and deploy it: all of it, or nothing if one is invalid
    (a journey or the loyalty program). The deploy history names ``deployed_by`` (``cli``,
    ``journeys setup``, ``journeys up``)."""
    from store.database import Store  # here: `journeys validate` uses this module without a store

    compiled, program = await asyncio.to_thread(compile_all, directory)
    store = Store(store_url)
    try:
        await store.migrate()
        deployed = [
            Deployed(plan.journey, plan.version, await store.deployments.deploy(plan, source, deployed_by))
            for plan, source in compiled
        ]
        if program is not None:
            new = await store.loyalty_programs.deploy(program[0], program[1])
            deployed.append(Deployed(program[0].source.program, program[0].version, new, "loyalty program"))
        return deployed
    finally:
        await store.close()

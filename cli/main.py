"""The ``journeys`` command line."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.versions import register as register_version_commands
from config.startup import command_imports, one_shot_process

if TYPE_CHECKING:
    from provision.deploy import Deployed

# Every command imports what it uses when it runs: `journeys --help` loads typer and no more.
app = typer.Typer(help="Journeys: customer-lifecycle journeys as durable workflows.", no_args_is_help=True)


@app.command()
def validate(paths: Annotated[list[Path], typer.Argument(help="journey files or folders")]) -> None:
    """Validate journeys (and a folder's loyalty.yaml and channels.yaml); list every problem with
    file, line, column and path."""
    with command_imports():
        from engine.errors import JourneyValidationError
        from engine.loader import compile_file, journey_files

    problems = 0
    checked = 0
    defined: dict[str, Path] = {}  # journey id -> the file that defines it
    for path in paths:
        if not path.exists():
            typer.echo(f"{path}: no such file or folder", err=True)
            problems += 1
            continue
        found_program = False
        for program_problems in (_validate_program(path), _validate_policy(path)):
            if program_problems is not None:
                found_program = True
                checked += 1
                problems += program_problems
        if found_program and path.is_file():
            continue
        if path.is_dir():
            segment_checked, segment_problems = _validate_segments(path)
            checked += segment_checked
            problems += segment_problems
        for file in journey_files(path):
            checked += 1
            try:
                plan = compile_file(file)
            except JourneyValidationError as exc:
                problems += len(exc.errors)
                for error in exc.errors:
                    typer.echo(str(error), err=True)
            else:
                if plan.journey in defined:
                    problems += 1
                    typer.echo(
                        f'{file}:1:1 journey: "{plan.journey}" is already defined in {defined[plan.journey]}',
                        err=True,
                    )
                    continue
                defined[plan.journey] = file
                typer.echo(f"ok  {file}  ({plan.journey} v{plan.version}, {len(plan.nodes)} steps)")
    if problems:
        typer.echo(f"{problems} problem(s) in {checked} file(s)", err=True)
        raise typer.Exit(1)


def _validate_segments(folder: Path) -> tuple[int, int]:
    """Check the segment files of a journeys folder (each problem printed at its file and line):
    how many files were checked and how many problems they have."""
    import dataclasses

    with command_imports():
        from engine.segments.loader import check_segments, segment_files

    files = segment_files(folder)
    segments, errors = check_segments(folder)
    for error in errors:
        typer.echo(str(dataclasses.replace(error, file=str(folder / error.file))), err=True)
    for segment in segments:
        typer.echo(f"ok  {folder / segment.file}  (segment {segment.name})")
    return len(files), len(errors)


def _validate_program(path: Path) -> int | None:
    """The problems of the loyalty program ``path`` is or holds (each printed); None when it has none."""
    with command_imports():
        from engine.errors import JourneyValidationError
        from engine.loyalty.loader import PROGRAM_FILE, program_path
        from provision.deploy import validate_program_in

    folder = path if path.is_dir() else path.parent
    if path.name != PROGRAM_FILE and not (path.is_dir() and program_path(path).is_file()):
        return None
    try:
        found = validate_program_in(folder)
    except JourneyValidationError as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        return len(exc.errors)
    assert found is not None
    program = found[0]
    typer.echo(f"ok  {program_path(folder)}  (loyalty program {program.source.program} v{program.version})")
    return 0


def _validate_policy(path: Path) -> int | None:
    """The problems of the channel policy ``path`` is or holds (each printed); None when it has none."""
    with command_imports():
        from engine.channels.loader import POLICY_FILE, policy_path
        from engine.errors import JourneyValidationError
        from provision.deploy import validate_policy_in

    folder = path if path.is_dir() else path.parent
    if path.name != POLICY_FILE and not (path.is_dir() and policy_path(path).is_file()):
        return None
    try:
        found = validate_policy_in(folder)
    except JourneyValidationError as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        return len(exc.errors)
    assert found is not None
    policy = found[0]
    typer.echo(f"ok  {policy_path(folder)}  (channel policy {policy.source.policy} v{policy.version})")
    return 0


@app.command()
def graph(file: Path) -> None:
    """Print a journey as a Mermaid flowchart."""
    from engine.diagram import mermaid
    from engine.errors import JourneyValidationError
    from engine.loader import compile_file

    try:
        plan = compile_file(file)
    except JourneyValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(mermaid(plan), nl=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of journey files (for yaml-language-server / VS Code)."""
    from engine.schema import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@app.command(name="channels-schema")
def channels_schema() -> None:
    """Print the JSON Schema of the channel policy file, journeys/channels.yaml (for editors)."""
    from engine.channels.schema import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@app.command(name="loyalty-schema")
def loyalty_schema() -> None:
    """Print the JSON Schema of the loyalty program file, journeys/loyalty.yaml (for editors)."""
    from engine.loyalty.schema import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@app.command()
def plan(file: Path) -> None:
    """Print the compiled plan of a journey as JSON."""
    from engine.errors import JourneyValidationError
    from engine.loader import compile_file

    try:
        compiled = compile_file(file)
    except JourneyValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(compiled.model_dump_json(indent=2))


@app.command()
def worker() -> None:
    """Run the Temporal worker (address, namespace, task queue, cache and concurrency from settings)."""
    from config.logs import configure_logging
    from config.loop import run
    from config.settings import get_settings
    from worker.service import serve

    configure_logging()
    run(serve(get_settings()))


@app.command()
def api() -> None:
    """Serve the HTTP API with uvicorn (host, port and the rest from settings)."""
    from api.server import serve_api
    from config.logs import configure_logging
    from config.settings import get_settings

    configure_logging()
    serve_api(get_settings())


@app.command()
def smtp() -> None:
    """Run the Outbox: a local SMTP server keeping every message under <data_dir>/outbox."""
    import asyncio

    from config.logs import configure_logging
    from config.settings import get_settings
    from devstack.smtp import serve_outbox

    configure_logging()
    asyncio.run(serve_outbox(get_settings()))


def _deployed(deployed: list[Deployed]) -> None:
    for item in deployed:
        kind = "" if item.kind == "journey" else f"  ({item.kind})"
        typer.echo(f"{'new' if item.new else 'ok '}  {item.journey} {item.version}{kind}")


def _run_deploy(work: Coroutine[None, None, list[Deployed]]) -> None:
    import asyncio

    from engine.errors import JourneyValidationError

    try:
        deployed = asyncio.run(work)
    except JourneyValidationError as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        typer.echo(f"{len(exc.errors)} problem(s); nothing was deployed", err=True)
        raise typer.Exit(1) from exc
    _deployed(deployed)


@app.command()
def deploy() -> None:
    """Validate every journey in the journeys folder, its loyalty.yaml and channels.yaml, and deploy
    them all (none if one is invalid)."""
    from config.settings import get_settings
    from provision.deploy import deploy_directory

    settings = get_settings()
    _run_deploy(deploy_directory(settings.journeys_dir, settings.store_url(), deployed_by="cli"))


@app.command()
def setup() -> None:
    """Prepare a production installation: search attributes in Temporal, store migrated, journeys deployed."""
    from config.settings import get_settings
    from provision.setup import setup as run_setup

    _run_deploy(run_setup(get_settings()))


@app.command()
def up() -> None:
    """Run everything on this machine: Temporal dev server, Outbox, worker and API, until Ctrl-C."""
    from config.settings import get_settings
    from devstack.supervisor import run

    raise typer.Exit(run(get_settings()))


def _register_simulation_commands() -> None:
    from simulate.commands import simulate_command, test_command

    app.command(name="simulate")(simulate_command)
    app.command(name="test")(test_command)


_register_simulation_commands()
register_version_commands(app)

# Commands that serve until stopped: they end the normal way, running every exit handler.
SERVICES = {"up", "worker", "api", "smtp"}


def main() -> None:
    """The ``journeys`` command. A one-shot command (simulate, test, validate, ...) exits as soon as
    it is done, skipping Python's teardown of every loaded module: about 0.5 s on this machine,
    a third of a one-story simulation. By then the command has closed what it opened."""
    if len(sys.argv) > 1 and sys.argv[1] in SERVICES:
        app()
        return
    one_shot_process()
    try:
        app()
        code: int = 0
    except SystemExit as done:
        code = _exit_code(done.code)
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


def _exit_code(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)  # what sys.exit("message") does
    return 1

"""The ``journeys`` command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from engine.diagram import mermaid
from engine.errors import JourneyValidationError
from engine.loader import compile_file, journey_files
from engine.schema import json_schema

app = typer.Typer(help="Journeys: customer-lifecycle journeys as durable workflows.", no_args_is_help=True)


@app.command()
def validate(paths: Annotated[list[Path], typer.Argument(help="journey files or folders")]) -> None:
    """Validate journeys; list every problem with file, line, column and step path."""
    problems = 0
    checked = 0
    for path in paths:
        if not path.exists():
            typer.echo(f"{path}: no such file or folder", err=True)
            problems += 1
            continue
        for file in journey_files(path):
            checked += 1
            try:
                plan = compile_file(file)
            except JourneyValidationError as exc:
                problems += len(exc.errors)
                for error in exc.errors:
                    typer.echo(str(error), err=True)
            else:
                typer.echo(f"ok  {file}  ({plan.journey} v{plan.version}, {len(plan.nodes)} steps)")
    if problems:
        typer.echo(f"{problems} problem(s) in {checked} journey file(s)", err=True)
        raise typer.Exit(1)


@app.command()
def graph(file: Path) -> None:
    """Print a journey as a Mermaid flowchart."""
    try:
        plan = compile_file(file)
    except JourneyValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(mermaid(plan), nl=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of journey files (for yaml-language-server / VS Code)."""
    typer.echo(json.dumps(json_schema(), indent=2))


@app.command()
def plan(file: Path) -> None:
    """Print the compiled plan of a journey as JSON."""
    try:
        compiled = compile_file(file)
    except JourneyValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(compiled.model_dump_json(indent=2))


@app.command()
def worker() -> None:
    """Run the Temporal worker (address, namespace and task queue from settings)."""
    import asyncio

    from runtime.logs import configure_logging
    from runtime.settings import get_settings
    from runtime.worker import serve

    configure_logging()
    asyncio.run(serve(get_settings()))

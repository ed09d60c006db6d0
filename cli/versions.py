"""``journeys diff``, ``journeys export`` and ``journeys history``: a journey file against the version
deployed in the configured store, the deployed versions written out, who deployed what and when.

Only typer is imported up front (``journeys --help`` stays fast); the store, the engine's diff and
the review are imported when a command runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from api.review import Review
    from engine.plan_diff import PlanDiff, PlanEdge, StepChange
    from store.database import Store
    from store.deployments import DeployRecord

T = TypeVar("T")

DIFF_NO_CHANGE, DIFF_CHANGES, DIFF_TROUBLE = 0, 1, 2
# Help texts: one line per paragraph (the help keeps a docstring's line breaks).
DIFF_HELP = "\n\n".join(
    [
        "Review FILE against the deployed version: YAML diff, plan diff, customers in flight it affects.",
        "Reads the configured store (JOURNEYS_DATABASE_URL); FILE's templates come from its folder.",
        "Exit code, as with `git diff --exit-code`: 0 when deploying FILE changes nothing (the deployed "
        "version is the one it compiles to), 1 when it would, 2 when FILE is invalid or the store cannot "
        "be read.",
    ]
)
EXPORT_HELP = "\n\n".join(
    [
        "Write each journey's current deployed YAML to DIR/<name>.yaml, so git shows what is live.",
        "A file there that differs from the deployed YAML is not overwritten without --force: then "
        "nothing is written, each such file is named, and the exit code is 1.",
    ]
)


def _with_store(work: Callable[[Store], Awaitable[T]], *, trouble: int) -> T:
    """Run ``work`` on the configured store (not migrated: these commands only read); a store that
    cannot be read is one line on stderr and exit code ``trouble``."""
    import asyncio

    from sqlalchemy.exc import SQLAlchemyError

    from config.settings import get_settings
    from store.database import Store

    async def run() -> T:
        store = Store(get_settings().store_url())
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except (SQLAlchemyError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        typer.echo(
            f"cannot read the store ({reason}); is it migrated (journeys deploy, journeys setup)?", err=True
        )
        raise typer.Exit(trouble) from exc


def diff_command(
    file: Annotated[Path, typer.Argument(help="the journey file", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="print the review as JSON")] = False,
) -> None:
    """Review FILE against the deployed version (see DIFF_HELP)."""
    from engine.errors import JourneyError, JourneyValidationError
    from engine.loader import compile_text
    from engine.source import SourceSyntaxError, format_path, read_source_file

    if not file.is_file():
        typer.echo(f"{file}: no such file", err=True)
        raise typer.Exit(DIFF_TROUBLE)
    try:
        try:
            text = read_source_file(file)
        except SourceSyntaxError as exc:
            error = JourneyError(file.name, exc.line, exc.column, format_path(exc.path), exc.message)
            raise JourneyValidationError([error]) from exc
        plan = compile_text(text, file.name, file.parent / "templates")
    except JourneyValidationError as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        typer.echo(f"{len(exc.errors)} problem(s); nothing to compare", err=True)
        raise typer.Exit(DIFF_TROUBLE) from exc

    async def review(store: Store) -> Review:
        from api.review import build_review, live_versions

        current = await store.deployments.get(plan.journey)
        live = await live_versions(store, plan.journey)
        return build_review(current, plan, text, live, after_name=str(file))

    found = _with_store(review, trouble=DIFF_TROUBLE)
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
    else:
        typer.echo(review_text(found), nl=False)
    raise typer.Exit(DIFF_CHANGES if found.changed else DIFF_NO_CHANGE)


def _value(value: Any) -> str:
    import json

    return repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _edge(mark: str, edge: PlanEdge) -> str:
    on = f" on {edge.label}" if edge.label else ""
    return f"  {mark} edge {edge.source} -> {edge.target or '(end)'}{on}"


def _step(change: StepChange) -> str:
    parts = [f"{f.field} {_value(f.before)} -> {_value(f.after)}" for f in change.fields]
    if change.template_files:
        parts.append(f"email files {', '.join(change.template_files)}")
    return f"  ~ step {change.step}: {', '.join(parts)}"


def plan_lines(plan: PlanDiff) -> list[str]:
    """The plan diff, a line per change: + added, - removed, ~ changed."""
    return [
        *(f"  + step {step}" for step in plan.steps_added),
        *(f"  - step {step}" for step in plan.steps_removed),
        *(_step(change) for change in plan.steps_changed),
        *(_edge("+", edge) for edge in plan.edges_added),
        *(_edge("-", edge) for edge in plan.edges_removed),
        *(f"  ~ {f.field}: {_value(f.before)} -> {_value(f.after)}" for f in plan.journey_changed),
        *(f"  + template {name}" for name in plan.templates_added),
        *(f"  - template {name}" for name in plan.templates_removed),
        *(f"  ~ template {name}" for name in plan.templates_changed),
    ]


def review_text(review: Review) -> str:
    """The review as ``journeys diff`` prints it: the YAML diff, the plan diff, the customers."""
    lines = [f"journey {review.journey}: deployed {review.current or '(none)'}, this file {review.version}"]
    if not review.changed and review.yaml_diff:
        lines.append("the YAML differs only in comments or layout: a deploy changes nothing")
    if review.yaml_diff:
        lines += ["", review.yaml_diff.rstrip("\n")]
    if review.current is None:
        lines += ["", f"plan: a new journey of {len(review.plan_diff.steps_added)} steps"]
    elif changes := plan_lines(review.plan_diff):
        lines += ["", "plan:", *changes]
    impact = review.impact
    if impact.versions:
        lines += ["", "customers in flight:"]
        for version in impact.versions:
            where = ", ".join(f"{step} {n}" for step, n in version.waiting.items())
            label = " (current)" if version.is_current else ""
            waiting = f"; waiting at {where}" if where else ""
            lines.append(f"  version {version.version}{label}: {version.in_flight} in flight{waiting}")
        lines += [f"  - {sentence}" for sentence in impact.sentences]
    lines += ["", impact.summary]
    return "\n".join(lines) + "\n"


def export_command(
    directory: Annotated[
        Path | None,
        typer.Argument(help="where to write <name>.yaml (default: the journeys folder)", show_default=False),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite files that differ")] = False,
) -> None:
    """Write each journey's deployed YAML out (see EXPORT_HELP)."""
    from api.saving import journey_file, write_source
    from config.settings import get_settings

    folder = directory if directory is not None else get_settings().journeys_dir

    async def deployed(store: Store) -> list[tuple[str, str, str]]:
        found = []
        for name in await store.deployments.names():
            stored = await store.deployments.get(name)
            if stored is not None:
                found.append((name, stored.version, stored.source))
        return found

    journeys = _with_store(deployed, trouble=1)
    plans: list[tuple[str, str, str, str]] = []  # name, version, source, what the file is now
    for name, version, source in journeys:
        target = journey_file(folder, name)
        if not source:
            typer.echo(f"skip  {name} {version}: deployed without its YAML", err=True)
            continue
        state = "new"
        if target.is_file():
            state = "same" if target.read_text("utf-8") == source else "differs"
        plans.append((name, version, source, state))
    differing = [(name, version) for name, version, _, state in plans if state == "differs"]
    if differing and not force:
        for name, version in differing:
            typer.echo(f"{journey_file(folder, name)} differs from the deployed {name} {version}", err=True)
        typer.echo(f"{len(differing)} file(s) differ: nothing was written (--force overwrites)", err=True)
        raise typer.Exit(1)
    folder.mkdir(parents=True, exist_ok=True)
    for name, version, source, state in plans:
        if state == "same":
            typer.echo(f"same   {journey_file(folder, name)}  ({name} {version})")
            continue
        written = write_source(folder, name, source)
        typer.echo(f"{'wrote' if state == 'new' else 'over '}  {written}  ({name} {version})")


def history_command(
    name: Annotated[str, typer.Argument(help="the journey id", show_default=False)],
    limit: Annotated[int, typer.Option(min=1, help="most rows, newest first")] = 50,
) -> None:
    """Who deployed which version of a journey, and when (deploys and rollbacks, newest first)."""

    async def read(store: Store) -> list[DeployRecord]:
        return await store.deployments.history(name, limit=limit)

    rows = _with_store(read, trouble=1)
    if not rows:
        typer.echo(f"no journey {name!r} has been deployed", err=True)
        raise typer.Exit(1)
    for row in rows:
        at = row.at.strftime("%Y-%m-%d %H:%M:%SZ")
        who = row.deployed_by or "(not recorded)"
        typer.echo(f"{at}  {row.action:<8}  {row.version}  {who}{'  (current)' if row.is_current else ''}")


def register(app: typer.Typer) -> None:
    app.command(name="diff", help=DIFF_HELP)(diff_command)
    app.command(name="export", help=EXPORT_HELP)(export_command)
    app.command(name="history")(history_command)

"""``journeys simulate``: one customer story as a timeline, or N generated ones as a funnel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from config.startup import command_imports

# Only what the options need is imported here: `journeys --help` and every other command load this
# module, and the simulator (Temporal, the store, the workflow) takes a second to import.
if TYPE_CHECKING:
    from engine.channels.policy import ChannelPolicy
    from engine.loyalty.program import Program
    from engine.plan import Plan
    from simulate.generate import Chance
    from simulate.simulation import Simulated
    from simulate.story import Story


def simulate_command(
    file: Annotated[Path, typer.Argument(help="the journey file")],
    story: Annotated[
        Path | None, typer.Option(help="a story file (YAML): customer, trigger, events, horizon")
    ] = None,
    event: Annotated[
        list[str] | None, typer.Option("--event", "-e", help='an event at an offset: "2d profile_completed"')
    ] = None,
    trait: Annotated[
        list[str] | None, typer.Option("--trait", "-t", help="a customer trait: key=value")
    ] = None,
    horizon: Annotated[str | None, typer.Option(help="how long to let time run (default 90d)")] = None,
    variant: Annotated[
        list[str] | None, typer.Option(help="put the customer in a split variant: step=variant|control")
    ] = None,
    with_all: Annotated[
        bool, typer.Option("--with-all", help="deploy every journey in the folder too")
    ] = False,
    html: Annotated[Path | None, typer.Option(help="write each rendered email to this folder")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the timeline as JSON")] = False,
    customers: Annotated[int, typer.Option(help="simulate N generated customers; print the funnel")] = 0,
    seed: Annotated[int, typer.Option(help="seed of the generated customers")] = 1,
    p: Annotated[
        list[str] | None, typer.Option("--p", help="chance a generated customer sends an event: event=0.4")
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(min=1, help="processes for --customers (default: one per core, 100+ stories each)"),
    ] = None,
) -> None:
    """Run a journey for a customer story over simulated weeks, on the real workflow, in seconds."""
    with command_imports():  # the engine only: the simulator is imported once the journey compiled
        from config.loop import run as run_loop
        from simulate.journey_files import load_plans, load_policy_beside, load_program_beside
        from simulate.quiet import quiet_temporal

    quiet_temporal()
    with _bad_input_ends_the_command():
        main, plans = load_plans(file, with_all=with_all)
        base, chances = _story(story, event or [], trait or [], horizon, variant or [])
        policy = load_policy_beside(file)  # the folder's channels.yaml, as the worker applies it
        program = load_program_beside(file)  # the folder's loyalty.yaml: tiers, earning rules
    if customers > 0:
        _forecast(main, plans, base, chances, customers, seed, p or [], as_json, processes, program, policy)
        return
    with _bad_input_ends_the_command():  # the story may not fit the journey (an event after the horizon)
        result = run_loop(_play_story(main, plans, base, html is not None, program, policy))
    from simulate.render import timeline_text, write_html  # loaded with the simulator by now

    timeline = result.timelines[0]
    if as_json:
        typer.echo(timeline.model_dump_json(indent=2))
    else:
        typer.echo(timeline_text(timeline), nl=False)
    if html is not None:
        written = write_html(timeline, result.messages, html)
        typer.echo(f"wrote {len(written)} email(s) to {html}", err=as_json)


async def _play_story(
    main: Plan,
    plans: list[Plan],
    story: Story,
    with_messages: bool,
    program: Program | None,
    policy: ChannelPolicy | None,
) -> Simulated:
    """Play one story. The test server starts first: its process gets ready (about 0.1 s) while this
    one imports the simulator (the store, the workflow, the worker; about half a second)."""
    import asyncio

    with command_imports():
        from simulate.test_server import start_test_server, stop_test_server
    server = asyncio.create_task(start_test_server())
    try:
        await asyncio.sleep(0)  # the task runs until it waits for the server's process, now started
        with command_imports():
            from simulate.simulation import simulate_here
        return await simulate_here(
            main, plans, [story], with_messages=with_messages, program=program, policy=policy, server=server
        )
    finally:
        await stop_test_server(server)


def _story(
    file: Path | None, events: list[str], traits: list[str], horizon: str | None, variants: list[str]
) -> tuple[Story, dict[str, Chance]]:
    from simulate.generate import Chance
    from simulate.story import Story, parse_inline_event, parse_pairs, read_yaml

    data: dict[str, Any] = read_yaml(file) if file is not None else {}
    chances = {name: Chance.model_validate(v) for name, v in (data.pop("generate", None) or {}).items()}
    data.pop("journey", None)
    story = Story.model_validate(data)
    update: dict[str, Any] = {}
    if events:
        update["events"] = [*story.events, *(parse_inline_event(text) for text in events)]
    if traits:
        update["customer"] = {**story.customer, **parse_pairs(traits, "--trait")}
    if horizon:
        update["horizon"] = horizon
    if variants:
        update["variants"] = {
            **story.variants,
            **{k: str(v) for k, v in parse_pairs(variants, "--variant").items()},
        }
    if file is None and "name" not in data:
        update["name"] = "command-line story"
    return Story.model_validate({**story.model_dump(), **update}), chances


def _forecast(
    main: Plan,
    plans: list[Plan],
    base: Story,
    chances: dict[str, Chance],
    count: int,
    seed: int,
    overrides: list[str],
    as_json: bool,
    processes: int | None,
    program: Program | None,
    policy: ChannelPolicy | None,
) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with command_imports():
        from config.loop import run as run_loop
        from simulate.funnel import build_funnel, funnel_text
        from simulate.generate import Chance, default_chances, generate
        from simulate.shards import ShardFailed
        from simulate.simulation import simulate
        from simulate.story import parse_pairs

    chances = {**default_chances(main), **chances}
    for name, value in parse_pairs(overrides, "--p").items():
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            typer.echo(f"error: --p {name}={value}: give a probability from 0 to 1", err=True)
            raise typer.Exit(2)
        previous = chances.get(name, Chance(p=0))
        chances[name] = previous.model_copy(update={"p": float(value)})
    stories = generate(base, chances, count, seed)
    total = sum(len(s.events) + (s.trigger is not None) for s in stories) + len(stories)
    console = Console(stderr=True)
    columns = (TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("simulate", total=total)

        def advance(count: int) -> None:
            progress.advance(task, count)

        try:
            result = run_loop(
                simulate(
                    main,
                    plans,
                    stories,
                    progress=advance,
                    processes=processes,
                    program=program,
                    policy=policy,
                )
            )
        except (ShardFailed, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
    funnel = build_funnel(main, result.runs)
    assumptions = [f"{name} {c.p:.0%} within {c.within}" for name, c in chances.items()]
    if as_json:
        typer.echo(json.dumps({"assumed": assumptions, **funnel.model_dump()}, indent=2))
    else:
        typer.echo(funnel_text(funnel, assumptions), nl=False)


def test_command(
    path: Annotated[
        Path, typer.Argument(help="a journeys folder (tests in its tests/), or one test file")
    ] = Path("journeys"),
    min_coverage: Annotated[
        float, typer.Option(help="also fail when a journey's step coverage is below this percent")
    ] = 0.0,
) -> None:
    """Run journey tests (stories with expectations) on the real workflow; report step coverage."""
    with command_imports():
        from config.loop import run as run_loop
        from simulate.journey_tests import report_lines, run_tests
        from simulate.quiet import quiet_temporal

    quiet_temporal()
    if not path.exists():
        typer.echo(f"{path}: no such file or folder", err=True)
        raise typer.Exit(2)
    with _bad_input_ends_the_command():
        report = run_loop(run_tests(path))
    typer.echo("\n".join(report_lines(report)))
    low = [c for c in report.coverage if c.percent < min_coverage]
    if report.failed or low or not report.files:
        if not report.files:
            typer.echo(f"no journey tests found in {path}", err=True)
        for cov in low:
            typer.echo(
                f"{cov.journey}: step coverage {cov.percent:.1f}% is below {min_coverage:g}%", err=True
            )
        raise typer.Exit(1)


@contextmanager
def _bad_input_ends_the_command() -> Iterator[None]:
    """Bad input ends the command with one clear line: exit 1 for an invalid journey (its own
    positioned report), exit 2 for a story or option that does not fit."""
    from pydantic import ValidationError

    from engine.errors import JourneyValidationError
    from simulate.story import StoryFileError

    try:
        yield
    except JourneyValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except (StoryFileError, ValidationError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc

"""Checks on a journey that parsed: step ids, targets, reachability, loops, conditions, templates.

Each check yields ``(path, message)`` pairs; the loader turns them into positioned errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError, UndefinedError

from engine import expressions, templates
from engine.graph import edges, loops_without_wait, unreachable
from engine.limits import MAX_ERRORS
from engine.sandbox import BudgetSpent, budget
from engine.schema import AwardStep, BranchStep, ExitStep, Journey, SendStep, WaitForStep
from engine.segments.folder import segment_names
from engine.segments.references import segments_read
from engine.source import Path as SourcePath

Problem = tuple[SourcePath, str]


def did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def check_step_ids(journey: Journey) -> Iterator[Problem]:
    first_seen: dict[str, int] = {}
    for index, step in enumerate(journey.steps):
        if step.id in first_seen:
            yield (
                ("steps", index, "id"),
                f'step id "{step.id}" is used twice (first at steps[{first_seen[step.id]}])',
            )
        else:
            first_seen[step.id] = index


def check_targets(journey: Journey) -> Iterator[Problem]:
    ids = [step.id for step in journey.steps]
    known = set(ids)
    index_of = {step.id: i for i, step in reversed(list(enumerate(journey.steps)))}
    for edge in edges(journey):
        if edge.target is not None and edge.target not in known:
            yield (
                ("steps", index_of[edge.source], *edge.field),
                f'goes to step "{edge.target}", which does not exist' + did_you_mean(edge.target, ids),
            )


def check_reachability(journey: Journey) -> Iterator[Problem]:
    index_of = {step.id: i for i, step in reversed(list(enumerate(journey.steps)))}
    for step_id in unreachable(journey):
        yield (
            ("steps", index_of[step_id], "id"),
            f'step "{step_id}" is never reached: no path from the first step leads to it',
        )


def check_loops(journey: Journey) -> Iterator[Problem]:
    index_of = {step.id: i for i, step in reversed(list(enumerate(journey.steps)))}
    for cycle in loops_without_wait(journey):
        route = " -> ".join([*cycle, cycle[0]])
        yield (
            ("steps", index_of[cycle[0]]),
            f"loop {route} never waits; add a wait or wait_for so a customer cannot spin forever",
        )


def _conditions(journey: Journey) -> list[tuple[SourcePath, str, tuple[str, ...]]]:
    """Every condition and expression of a journey: where it is, its text, the names it may read."""
    found: list[tuple[SourcePath, str, tuple[str, ...]]] = []
    if journey.trigger.where:
        found.append((("trigger", "where"), journey.trigger.where, ("customer", "event")))
    if journey.goal and journey.goal.where:
        found.append((("goal", "where"), journey.goal.where, ("customer", "event", "data", "journey")))
    for i, step in enumerate(journey.steps):
        if isinstance(step, WaitForStep) and step.wait_for.where:
            found.append((("steps", i, "wait_for", "where"), step.wait_for.where, expressions.NAMES_ALL))
        if isinstance(step, AwardStep) and isinstance(step.award.points, str):
            found.append((("steps", i, "award", "points"), step.award.points, expressions.NAMES_ALL))
        if isinstance(step, BranchStep):
            for j, case in enumerate(step.branch.cases):
                found.append((("steps", i, "branch", "cases", j, "when"), case.when, expressions.NAMES_ALL))
    return found


def check_expressions(journey: Journey) -> Iterator[Problem]:
    for path, source, allowed in _conditions(journey):
        try:
            expressions.check(source, allowed)
        except expressions.ExpressionError as exc:
            yield path, str(exc)


def check_segments_known(journey: Journey, known: frozenset[str]) -> Iterator[Problem]:
    """A scheduled trigger's segment, and each ``customer.segments.<name>`` a condition reads, name
    a segment of ``journeys/segments/``."""
    choices = sorted(known)
    schedule = journey.trigger.schedule
    if schedule is not None and schedule.segment not in known:
        yield ("trigger", "schedule", "segment"), _no_segment(schedule.segment, choices)
    for path, source, allowed in _conditions(journey):
        try:
            expressions.check(source, allowed)
        except expressions.ExpressionError:
            continue  # check_expressions says why
        for name in segments_read(source):
            if name not in known:
                yield path, f'"{source}" reads customer.segments.{name}: ' + _no_segment(name, choices)


def _no_segment(name: str, choices: list[str]) -> str:
    if not choices:
        return f'there is no segment "{name}" (journeys/segments/ defines none)'
    hint = did_you_mean(name, choices) or "; the segments are " + ", ".join(choices[:20])
    return f'there is no segment "{name}" in journeys/segments/' + hint


def check_templates(journey: Journey, templates_dir: Path) -> Iterator[Problem]:
    """Render every email (once per template, each locale) and every webhook payload.

    All the payloads of a journey render within one budget (``engine.sandbox``): they come with
    the journey, and together do no more work than one rendering may.
    """
    context = templates.sample_context(
        journey.journey, journey.sample.customer.laid_over(), journey.sample.event, journey.sample.data
    )
    emails: dict[str, str | None] = {}  # template name -> its problem, or None
    for i, step in enumerate(journey.steps):
        if isinstance(step, SendStep) and step.send.email is not None:
            if step.send.email not in emails:
                emails[step.send.email] = _email_problem(templates_dir, step.send.email, context)
            problem = emails[step.send.email]
            if problem is not None:
                yield ("steps", i, "send", "email"), problem
    payloads: list[Problem] = []
    with budget():  # collected, not yielded, inside: the budget must end with this block
        for i, step in enumerate(journey.steps):
            if isinstance(step, SendStep) and step.send.payload is not None:
                try:
                    templates.render_value(step.send.payload, context)
                except BudgetSpent as exc:
                    message = f"{exc.message}; a journey's payloads share this budget when validated"
                    payloads.append(
                        (("steps", i, "send", "payload"), f'template "payload" does not render: {message}')
                    )
                    break  # the payloads after it would say the same
                except TemplateError as exc:
                    payloads.append((("steps", i, "send", "payload"), _template_message("payload", exc)))
    yield from payloads


def _email_problem(templates_dir: Path, name: str, context: dict[str, object]) -> str | None:
    try:
        sources = templates.read_email_sources(templates_dir, name)
        locales = sorted({f.split(".")[1] for f in sources if f.count(".") == 2 and "/" in f})
        for locale in [None, *locales]:
            templates.render_email(sources, name, context, locale)
    except templates.TemplateMissing as exc:
        return exc.message  # names templates/<name>, never the server's own path
    except TemplateError as exc:
        return _template_message(name, exc)
    return None


def _template_message(name: str, exc: TemplateError) -> str:
    """What went wrong in a template; ``render_email`` and ``render_value`` raise only TemplateErrors."""
    if isinstance(exc, TemplateSyntaxError):
        where = f"{exc.name or name}:{exc.lineno}"
        return f'template "{name}" has a syntax error at {where}: {exc.message}'
    if isinstance(exc, TemplateNotFound):
        return f'template "{name}" includes "{exc.name}", which does not exist'
    if isinstance(exc, UndefinedError):
        return (
            f'template "{name}" does not render against the sample customer: {exc.message}'
            " (add it to the journey's sample: or guard it with `is defined`)"
        )
    return f'template "{name}" does not render: {exc}'


def check_exit_next(journey: Journey) -> Iterator[Problem]:
    for index, step in enumerate(journey.steps):
        if isinstance(step, ExitStep) and step.next is not None:
            yield ("steps", index, "next"), "an exit step ends the journey; it cannot go next"


def semantic_problems(
    journey: Journey, templates_dir: Path, *, graph: bool = True, render: bool = True
) -> list[Problem]:
    """Every problem of a journey that parsed.

    ``graph=False`` skips reachability and loops (some steps are stand-ins for broken ones);
    ``render=False`` skips rendering templates (the sample data is not the author's).
    """
    # Each check stops after MAX_ERRORS problems: no more would be listed (did-you-mean is not free).
    problems = [*_first(check_step_ids(journey)), *_first(check_targets(journey))]
    problems += _first(check_exit_next(journey))
    if graph and not problems:  # reachability and loops need a well-formed graph
        problems += [*_first(check_reachability(journey)), *_first(check_loops(journey))]
    problems += _first(check_expressions(journey))
    problems += _first(check_segments_known(journey, segment_names(templates_dir.parent)))
    if render:
        problems += _first(check_templates(journey, templates_dir))
    return problems


def _first(problems: Iterator[Problem]) -> list[Problem]:
    return list(islice(problems, MAX_ERRORS))

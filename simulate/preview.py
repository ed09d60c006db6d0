"""Preview runs for the journey pages: one customer story (its timeline, its path on the diagram and
every email as rendered) or a forecast of generated customers (per-step numbers keyed as the journey
page's counts), each played by the simulator exactly as ``journeys simulate`` plays it.

The API runs these in a process of their own (``simulate.preview_process``); the request and answer
models are the API's (``api.preview_models``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from api.preview_models import (
    ForecastResult,
    ForecastStep,
    PathTaken,
    RenderedEmail,
    RunJob,
    RunOutcome,
    StoryEventOut,
    StoryIn,
    StoryPlayed,
    StoryResult,
    TimelineEntry,
)
from api.stats import rate
from api.ui.graph import END, ENTRY, Diagram, DiagramEdge, diagram
from api.ui.live import EdgeNumbers, LiveCounts, NodeNumbers
from engine.channels.policy import ChannelPolicy
from engine.loyalty.program import Program
from engine.plan import Plan
from outbox.server import OutboxMessage
from simulate.customer_ids import story_customer_ids
from simulate.funnel import build_funnel
from simulate.generate import Chance, default_chances, generate
from simulate.offsets import resolve
from simulate.runner import START_TIME, Progress, RunRecord, StoryRun
from simulate.simulation import simulate
from simulate.story import EVENT_NAME, Story, StoryFileError, parse_inline_event, parse_pairs
from simulate.timeline import Timeline
from workflows.models import StepTaken
from workflows.timing import next_local_time


class Refused(ValueError):
    """A story or forecast that does not fit the journey or the simulator: the message says where."""


# --------------------------------------------------------------------------- reading the request


def _words(exc: Exception) -> str:
    """The simulator's message, without the command-line option it names (the page has none)."""
    if isinstance(exc, ValidationError):
        return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
    return str(exc).replace("--event ", "").replace("--trait ", "").replace("--p ", "")


def _pairs(lines: Sequence[str], what: str) -> dict[str, Any]:
    """``key=value`` lines, as ``-t`` and ``--p`` read them (values are YAML scalars)."""
    values: dict[str, Any] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            values.update(parse_pairs([line.strip()], what))
        except StoryFileError as exc:
            raise Refused(f'{what} line {number} "{line}": {_words(exc).split(": ", 1)[-1]}') from None
    return values


def _check_timezone(traits: dict[str, Any]) -> None:
    zone = traits.get("timezone")
    if zone is None:
        return
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise Refused(
            f'traits: "{zone}" is not a time zone; write an IANA name such as Asia/Jakarta'
        ) from None


def _check_times(story: Story) -> None:
    """Every event between the start (day 0 at 09:00 on the customer's clock) and the horizon, as
    the runner checks them (``Simulator._script``), before anything starts."""
    zone = story.timezone()
    start = next_local_time(datetime.now(UTC), START_TIME, zone)
    end = start + timedelta(seconds=story.horizon_seconds())
    for event in story.events:
        moment = resolve(start, event.at, zone)
        if moment < start:
            raise Refused(
                f"{event.event} at {event.at} is before the story starts (day 0 at {START_TIME} on the "
                "customer's clock)"
            )
        if moment > end:
            raise Refused(
                f"{event.event} at {event.at} is after the horizon ({story.horizon}); give a longer one"
            )


def read_story(plan: Plan, given: StoryIn) -> Story:
    """The story as ``journeys simulate -e … -t … --variant … --horizon …`` reads it; ``Refused``
    names the line or field that does not fit."""
    events = []
    for number, line in enumerate(given.events, start=1):
        if not line.strip():
            continue
        try:
            events.append(parse_inline_event(line.strip()))
        except (StoryFileError, ValidationError, ValueError) as exc:
            words = _words(exc).removeprefix(f'"{line.strip()}": ')
            raise Refused(f'events line {number} "{line.strip()}": {words}') from None
    customer = _pairs(given.traits, "traits")
    _check_timezone(customer)
    try:
        story = Story(
            name=given.name,
            customer=customer,
            events=events,
            horizon=given.horizon,
            variants=dict(given.variants),
        )
    except ValidationError as exc:
        raise Refused(_words(exc)) from None
    _check_times(story)
    try:
        story_customer_ids([plan], [story])  # a split or variant the journey does not have
    except ValueError as exc:
        raise Refused(f"variants: {exc}") from None
    return story


def read_forecast(plan: Plan, job: RunJob) -> tuple[list[Story], list[str]]:
    """The generated stories of a forecast (``journeys simulate --customers N --p …``) and the
    chances they were drawn with, in words."""
    base = read_story(plan, job.story.model_copy(update={"events": [], "variants": {}}))
    chances = default_chances(plan)
    for name, value in _pairs(job.p, "chances").items():
        if not EVENT_NAME.match(name):
            raise Refused(f'chances: "{name}" is not an event name (lower case, digits, _ and .)')
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise Refused(f"chances: {name}={value}: give a probability from 0 to 1")
        previous = chances.get(name, Chance(p=0))
        chances[name] = previous.model_copy(update={"p": float(value)})
    stories = generate(base, chances, job.customers, job.seed)
    return stories, [f"{name} {c.p:.0%} within {c.within}" for name, c in chances.items()]


def progress_total(stories: Sequence[Story]) -> int:
    """How many progress steps playing ``stories`` reports (each event sent, each story read back)."""
    return sum(len(s.events) + (s.trigger is not None) for s in stories) + len(stories)


# --------------------------------------------------------------------------- the path on the diagram


def _pick(candidates: list[DiagramEdge], taken: StepTaken) -> DiagramEdge | None:
    """Of the ways from ``taken``'s step to one target, the one its outcome names."""
    if len(candidates) < 2:
        return candidates[0] if candidates else None
    outcome = taken.outcome
    wanted: list[DiagramEdge] = []
    if outcome.startswith("control group"):
        wanted = [e for e in candidates if e.kind == "control"]
    elif taken.kind == "wait_for":
        kind = "timeout" if outcome.startswith("timed out") else "event"
        wanted = [e for e in candidates if e.kind == kind]
    elif taken.kind == "split":
        name = outcome.removeprefix("variant ")
        wanted = [e for e in candidates if e.full_label.startswith(f"variant {name}:")]
    elif taken.kind == "branch":
        condition = outcome.rpartition(" -> ")[0]
        if condition.startswith("no case matched"):
            wanted = [e for e in candidates if e.kind == "else"]
        else:
            wanted = [e for e in candidates if e.full_label == f"if {condition}"]
    return (wanted or candidates)[0]


def path_of(drawn: Diagram, runs: Sequence[RunRecord]) -> PathTaken:
    """The steps ``runs`` entered and the diagram's nodes and edges they went through."""
    outgoing: dict[str, list[DiagramEdge]] = {}
    for edge in drawn.edges:
        outgoing.setdefault(edge.source, []).append(edge)
    steps: list[str] = []
    edges: list[str] = []
    for run in runs:
        taken = [t for t in run.steps if t.kind != "goal"]
        if not taken:
            continue
        entry = next((e for e in outgoing.get(ENTRY, []) if e.target == taken[0].step), None)
        ways = [entry]
        for here, following in pairwise(taken):
            ways.append(_pick([e for e in outgoing.get(here.step, []) if e.target == following.step], here))
        if run.outcome in ("completed", "control"):  # it ran off the end (or left as control)
            last = taken[-1]
            ways.append(_pick([e for e in outgoing.get(last.step, []) if e.target == END], last))
        edges += [way.id for way in ways if way is not None]
        steps += [t.step for t in taken]
    by_id = {edge.id: edge for edge in drawn.edges}
    reached_end = any(by_id[edge].target == END for edge in edges)
    nodes = list(dict.fromkeys([*([ENTRY] if steps else []), *steps, *([END] if reached_end else [])]))
    return PathTaken(steps=steps, nodes=nodes, edges=list(dict.fromkeys(edges)))


# --------------------------------------------------------------------------- one story


def _emails(timeline: Timeline, messages: list[OutboxMessage]) -> list[RenderedEmail]:
    by_id = {(m.message_id or "").strip(): m for m in messages}
    emails = []
    for index, email in enumerate(timeline.summary.emails):
        message = by_id.get((email.message_id or "").strip()) if email.message_id else None
        emails.append(
            RenderedEmail(
                index=index,
                step=email.step,
                name=email.name,
                day=email.day,
                time=email.time,
                status=email.status,
                reason=email.reason,
                recipient=email.recipient,
                subject=email.subject,
                html=message.html if message else None,
                text=message.text if message else None,
            )
        )
    return emails


def story_result(
    plan: Plan, story: Story, timeline: Timeline, run: StoryRun, messages: list[OutboxMessage]
) -> StoryResult:
    summary = timeline.summary
    return StoryResult(
        journey=plan.journey,
        version=plan.version,
        story=StoryPlayed(
            name=story.name,
            customer=story.customer,
            traits=story.traits(),
            events=[StoryEventOut(at=e.at, event=e.event, properties=e.properties) for e in story.events],
            variants=story.variants,
            horizon=story.horizon,
        ),
        customer_id=timeline.customer_id,
        start=timeline.start,
        timezone=timeline.timezone,
        timeline=[
            TimelineEntry(day=e.day, time=e.time, at=e.at, step=e.step, kind=e.kind, text=e.text)
            for e in timeline.entries
        ],
        path=path_of(diagram(plan), [r for r in run.runs if r.journey == plan.journey]),
        emails=_emails(timeline, messages),
        runs=[
            RunOutcome(
                entered_day=r.entered_day,
                ended_day=r.ended_day,
                outcome=r.outcome,
                reason=r.reason,
                goal_reached=r.goal_reached,
                goal_day=r.goal_day,
            )
            for r in timeline.runs_of(plan.journey)
        ],
        points=summary.points,
        stage=summary.stage,
        tier=summary.tier,
        badges=summary.badges,
    )


async def play_story(
    plan: Plan,
    story: Story,
    progress: Progress | None = None,
    program: Program | None = None,
    policy: ChannelPolicy | None = None,
) -> StoryResult:
    """Play one story on a fresh Sandbox (with the loyalty ``program`` and the channel ``policy``),
    reading back every email it sent."""
    result = await simulate(
        plan, [plan], [story], progress=progress, with_messages=True, program=program, policy=policy
    )
    return story_result(plan, story, result.timelines[0], result.runs[0], result.messages)


# --------------------------------------------------------------------------- a forecast


def forecast_result(plan: Plan, runs: Sequence[StoryRun], assumed: list[str]) -> ForecastResult:
    """The funnel of ``runs`` (``journeys simulate --customers``), and the same numbers keyed by the
    diagram's node and edge ids. A step's customers have completed it or wait there at the horizon."""
    funnel = build_funnel(plan, list(runs))
    drawn = diagram(plan)
    completed: Counter[str] = Counter()
    taken_edges: Counter[str] = Counter()
    sends: dict[str, Counter[str]] = {node.id: Counter() for node in plan.nodes}
    for story_run in runs:
        for run in (r for r in story_run.runs if r.journey == plan.journey):
            steps = [t.step for t in run.steps if t.kind != "goal"]
            for step in dict.fromkeys(steps):
                if not (run.outcome == "running" and step == steps[-1]):
                    completed[step] += 1
            taken_edges.update(path_of(drawn, [run]).edges)
        for delivery in story_run.records.deliveries or []:
            if delivery.journey == plan.journey and delivery.step in sends:
                sends[delivery.step][delivery.status] += 1
    runs_total = sum(funnel.outcomes.values())
    in_flight = funnel.outcomes.get("running", 0)
    nodes = {ENTRY: NodeNumbers(entered=runs_total, completed=runs_total)}
    entered = {ENTRY: runs_total}
    steps_out = []
    for s in funnel.steps:
        sent = sends[s.step]
        nodes[s.step] = NodeNumbers(
            waiting=s.waiting,
            entered=s.entered,
            completed=completed[s.step],
            sent=sent["sent"],
            skipped=sent["skipped"],
            failed=sent["failed"],
            uncertain=sent["uncertain"],
            points=s.points,
            conversions=s.converted,
        )
        entered[s.step] = s.entered
        steps_out.append(
            ForecastStep(
                step=s.step,
                kind=s.kind,
                entered=s.entered,
                completed=completed[s.step],
                waiting=s.waiting,
                exited=s.exited,
                converted=s.converted,
                emails=s.emails,
                points=s.points,
            )
        )
    edges = {
        e.id: EdgeNumbers(count=taken_edges[e.id], share=rate(taken_edges[e.id], entered.get(e.source, 0)))
        for e in drawn.edges
    }
    counts = LiveCounts(
        journey=plan.journey,
        version=plan.version,
        entered=runs_total,
        in_flight=in_flight,
        exited=runs_total - in_flight,
        conversions=funnel.converted,
        conversion_rate=rate(funnel.converted, runs_total),
        nodes=nodes,
        edges=edges,
    )
    return ForecastResult(
        journey=plan.journey,
        version=plan.version,
        customers=funnel.customers,
        entered=funnel.entered,
        converted=funnel.converted,
        outcomes=funnel.outcomes,
        emails=funnel.emails,
        points=funnel.points,
        assumed=assumed,
        steps=steps_out,
        counts=counts,
    )


async def play_forecast(
    plan: Plan,
    stories: Sequence[Story],
    assumed: list[str],
    progress: Progress | None = None,
    program: Program | None = None,
    policy: ChannelPolicy | None = None,
) -> ForecastResult:
    """Play the generated stories (on several cores when there are many, as the CLI does)."""
    result = await simulate(plan, [plan], stories, progress=progress, program=program, policy=policy)
    return forecast_result(plan, result.runs, assumed)

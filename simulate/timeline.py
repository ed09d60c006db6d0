"""A story's timeline: what happened to the customer, day by day, and a summary — built from the real
runs' steps and what the store and the mail server recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, Field

from engine.durations import format_duration
from engine.plan import AwardNode, ExitNode, Plan, SendEmailNode, SendWebhookNode, WaitForNode
from simulate.offsets import day_and_time
from simulate.runner import RunRecord, StoryRun
from workflows.models import StepTaken

_Add = Callable[[datetime, str, str, str | None, str | None], None]


class Entry(BaseModel):
    day: int
    time: str
    at: datetime
    journey: str | None = None
    step: str | None = None
    kind: str  # event | enter | end | goal | a step kind
    text: str


class Message(BaseModel):
    day: int
    time: str
    journey: str
    step: str
    channel: str  # email | webhook
    name: str  # email template or webhook message type
    status: str  # sent | skipped
    subject: str | None = None
    recipient: str | None = None
    reason: str | None = None
    message_id: str | None = None
    payload: dict[str, object] | None = None


class PointsChange(BaseModel):
    day: int
    journey: str | None
    step: str | None
    points: int
    reason: str
    balance: int


class RunSummary(BaseModel):
    journey: str
    trigger: str
    entered_day: int
    ended_day: int | None
    outcome: str
    reason: str
    goal_reached: bool
    goal_day: int | None = None
    steps: list[str]


class Summary(BaseModel):
    emails: list[Message]
    webhooks: list[Message]
    points: int
    ledger: list[PointsChange]
    stage: str | None
    tier: str | None
    badges: list[str]
    runs: list[RunSummary]


class Timeline(BaseModel):
    story: str
    journey: str
    customer_id: str
    start: datetime
    timezone: str
    horizon: str
    entries: list[Entry]
    summary: Summary
    deployed: list[str] = Field(default_factory=list)

    def runs_of(self, journey: str) -> list[RunSummary]:
        return [run for run in self.summary.runs if run.journey == journey]


def build_timeline(
    story_run: StoryRun, plans: list[Plan], webhooks: dict[str, dict[str, object]]
) -> Timeline:
    by_name = {plan.journey: plan for plan in plans}
    start, tz = story_run.start, story_run.timezone
    entries: list[Entry] = []

    def add(
        moment: datetime, kind: str, text: str, journey: str | None = None, step: str | None = None
    ) -> None:
        day, time = day_and_time(start, moment, tz)
        entries.append(Entry(day=day, time=time, at=moment, journey=journey, step=step, kind=kind, text=text))

    for sent in story_run.events:
        props = ", ".join(f"{k}={v}" for k, v in sent.event.properties.items())
        text = f"customer event {sent.event.event}" + (f" ({props})" if props else "")
        if sent.skipped:
            text += f"; not entered: {'; '.join(sent.skipped)}"
        add(sent.at, "event", text)
    summaries = []
    for run in story_run.runs:
        plan = by_name[run.journey]
        add(run.started, "enter", f"enters {run.journey} (trigger {run.trigger})", run.journey)
        goal_at = _add_steps(run, plan, add)
        goal_day = day_and_time(start, goal_at, tz)[0] if goal_at is not None else None
        end_text = f"{run.journey} {_ending(run)}"
        ended_day = None
        if run.ended is not None:
            add(run.ended, "end", end_text, run.journey)
            ended_day = day_and_time(start, run.ended, tz)[0]
        elif run.outcome == "running":
            add(story_run.end, "end", end_text, run.journey)
        summaries.append(
            RunSummary(
                journey=run.journey,
                trigger=run.trigger,
                entered_day=day_and_time(start, run.started, tz)[0],
                ended_day=ended_day,
                outcome=run.outcome,
                reason=run.reason,
                goal_reached=run.goal_reached,
                goal_day=goal_day,
                steps=[s.step for s in run.steps if s.kind != "goal"],
            )
        )
    entries.sort(key=lambda entry: entry.at)  # stable: same-moment entries keep their order
    return Timeline(
        story=story_run.story.name,
        journey=story_run.journey,
        customer_id=story_run.customer_id,
        start=start,
        timezone=tz,
        horizon=story_run.story.horizon,
        entries=entries,
        summary=_summary(story_run, by_name, webhooks).model_copy(update={"runs": summaries}),
        deployed=list(by_name),
    )


def _add_steps(run: RunRecord, plan: Plan, add: _Add) -> datetime | None:
    """Add the run's steps (a wait shows when it ended); return when the goal was reached."""
    goal_at = None
    steps = run.steps
    for position, taken in enumerate(steps):
        following = steps[position + 1] if position + 1 < len(steps) else None
        if taken.kind == "goal":
            assert plan.goal is not None
            text = f"goal reached: {plan.goal.event}"
            if "stage " in taken.outcome:  # "goal <event> reached; stage a -> b"
                text += f"; {_arrows(taken.outcome[taken.outcome.index('stage ') :])}"
            add(taken.at, "goal", text, run.journey, "goal")
            goal_at = taken.at
            continue
        node = plan.node(taken.step)
        if isinstance(node, WaitForNode):
            if following is not None:
                after = format_duration(max(60, round((following.at - taken.at).total_seconds() / 60) * 60))
                verdict = "arrived" if taken.outcome.endswith("arrived") else "timed out"
                text = f"waited {after} for {node.event}: {verdict}"
                add(following.at, taken.kind, text, run.journey, taken.step)
            else:
                wait = format_duration(node.timeout_seconds)
                add(taken.at, taken.kind, f"waits for {node.event} (up to {wait})", run.journey, taken.step)
            continue
        add(taken.at, taken.kind, _describe(taken, node), run.journey, taken.step)
    return goal_at


def _describe(taken: StepTaken, node: object) -> str:
    outcome = taken.outcome
    if isinstance(node, SendEmailNode):
        if outcome.startswith("sent "):
            subject, _, recipient = outcome[len("sent ") :].rpartition(" to ")
            return f"email {subject} ({node.template}) to {recipient}"
        return f"email {node.template} {outcome or 'not sent'}"
    if isinstance(node, SendWebhookNode):
        return f"webhook {node.message_type} {outcome.removeprefix('webhook ') or 'not sent'}"
    if isinstance(node, AwardNode):
        points, _, rest = outcome.partition(", ")
        return f"{points} ({node.reason}), {_arrows(rest)}" if rest else f"{outcome} ({node.reason})"
    if isinstance(node, ExitNode):
        return f"exit: {node.reason}"
    if taken.kind == "branch":
        condition, _, target = outcome.rpartition(" -> ")
        if condition == "no case matched":
            return f"branch: no case held -> {target}"
        return f"branch: {condition} holds -> {target}"
    if taken.kind == "split":
        return f"A/B split: {outcome}"
    return _arrows(outcome) or taken.kind


def _arrows(text: str) -> str:
    return text.replace(" -> ", " → ")


def _ending(run: RunRecord) -> str:
    """How a run's line ends the timeline: "is waiting…", "ends (first purchase)" for an exit (its
    reason says why), else "ends: <outcome>…"."""
    if run.outcome == "running":
        return f"is {run.reason}"
    if run.outcome == "completed":
        return "ends: completed (end of journey)"
    if run.outcome == "control":
        return f"ends: control group ({run.reason})"
    if run.outcome == "exited":
        return f"ends ({run.reason})"
    return f"ends: {run.outcome}: {run.reason}"


def _summary(story_run: StoryRun, plans: dict[str, Plan], webhooks: dict[str, dict[str, object]]) -> Summary:
    start, tz = story_run.start, story_run.timezone
    records = story_run.records
    emails: list[Message] = []
    hooks: list[Message] = []
    for delivery in records.deliveries or []:
        day, time = day_and_time(start, delivery.at, tz)
        plan = plans.get(delivery.journey)
        node = plan.node(delivery.step) if plan is not None else None
        name = delivery.step
        if isinstance(node, SendEmailNode):
            name = node.template
        elif isinstance(node, SendWebhookNode):
            name = node.message_type
        body = webhooks.get(delivery.message_id or "") if delivery.channel == "webhook" else None
        message = Message(
            day=day,
            time=time,
            journey=delivery.journey,
            step=delivery.step,
            channel=delivery.channel,
            name=name,
            status=delivery.status,
            subject=delivery.subject if delivery.channel == "email" else None,
            recipient=delivery.recipient if delivery.channel == "email" else None,
            reason=delivery.reason,
            message_id=delivery.message_id,
            payload=_payload(body),
        )
        (emails if delivery.channel == "email" else hooks).append(message)
    ledger = [
        PointsChange(
            day=day_and_time(start, entry.at, tz)[0],
            journey=entry.journey,
            step=entry.step,
            points=entry.delta,
            reason=entry.reason,
            balance=entry.balance_after,
        )
        for entry in records.ledger or []
    ]
    return Summary(
        emails=emails,
        webhooks=hooks,
        points=records.points,
        ledger=ledger,
        stage=records.stage,
        tier=records.tier,
        badges=list(records.badges),
        runs=[],
    )


def _payload(body: dict[str, object] | None) -> dict[str, object] | None:
    payload = body.get("payload") if body is not None else None
    return payload if isinstance(payload, dict) else None

"""The compiler: a pure function from a validated journey (and its templates) to a ``Plan``."""

from __future__ import annotations

from collections.abc import Mapping

from engine import plan as p
from engine.durations import parse_duration
from engine.schema import (
    AwardStep,
    BranchStep,
    Cooldown,
    ExitStep,
    Journey,
    SendStep,
    SetStageStep,
    SplitStep,
    StepBase,
    WaitForStep,
    WaitSpec,
    WaitStep,
)
from engine.versions import content_hash


def compile_journey(journey: Journey, template_sources: Mapping[str, str]) -> p.Plan:
    """Compile ``journey``; ``template_sources`` holds every template file its emails use."""
    steps: list[StepBase] = list(journey.steps)
    nodes = [_node(step, i, steps) for i, step in enumerate(steps)]
    entry = (
        p.PlanEntry(mode="cooldown", cooldown_seconds=parse_duration(journey.entry.cooldown))
        if isinstance(journey.entry, Cooldown)
        else p.PlanEntry(mode=journey.entry)
    )
    goal = None
    if journey.goal is not None:
        goal = p.PlanGoal(
            event=journey.goal.event,
            within_seconds=parse_duration(journey.goal.within),
            stage=journey.goal.stage,
            where=journey.goal.where,
            exit=journey.goal.exit,
        )
    draft = p.Plan(
        journey=journey.journey,
        version="",
        description=journey.description,
        stage=journey.stage,
        trigger=_trigger(journey),
        entry=entry,
        exit_on=list(journey.exit_on),
        goal=goal,
        start=steps[0].id,
        nodes=nodes,
        templates=dict(sorted(template_sources.items())),
        tracking=journey.tracking,
    )
    return draft.model_copy(update={"version": content_version(draft)})


def _trigger(journey: Journey) -> p.PlanTrigger:
    schedule = journey.trigger.schedule
    if schedule is None:
        assert journey.trigger.event is not None  # the schema requires one of the two
        return p.PlanTrigger(event=journey.trigger.event, where=journey.trigger.where)
    planned = p.PlanSchedule(every=schedule.every, at=schedule.at, segment=schedule.segment)
    return p.PlanTrigger(event=p.SCHEDULED_EVENT, where=journey.trigger.where, schedule=planned)


def content_version(plan: p.Plan) -> str:
    """A short content hash: the same journey and templates always give the same version."""
    return content_hash(plan.model_dump(mode="json", exclude={"version"}), 12)


def _node(step: StepBase, index: int, steps: list[StepBase]) -> p.Node:
    following = steps[index + 1].id if index + 1 < len(steps) else None
    after = step.next if step.next is not None else following
    base = {"id": step.id, "next": after}
    if isinstance(step, SendStep):
        policy = {"message_class": step.send.message_class, "quiet_hours": step.send.quiet_hours}
        if step.send.email is not None:
            return p.SendEmailNode(**base, **policy, template=step.send.email)
        assert step.send.webhook is not None
        return p.SendWebhookNode(
            **base, **policy, message_type=step.send.webhook, payload=step.send.payload or {}
        )
    if isinstance(step, WaitStep):
        spec = step.wait if isinstance(step.wait, WaitSpec) else WaitSpec(duration=step.wait)
        seconds = parse_duration(spec.duration) if spec.duration else 0
        return p.WaitNode(**base, seconds=seconds, until=spec.until)
    if isinstance(step, WaitForStep):
        return p.WaitForNode(
            **base,
            event=step.wait_for.event,
            where=step.wait_for.where,
            timeout_seconds=parse_duration(step.wait_for.timeout),
            on_event=step.on_event if step.on_event is not None else after,
            on_timeout=step.on_timeout if step.on_timeout is not None else after,
        )
    if isinstance(step, BranchStep):
        return p.BranchNode(
            **base,
            cases=[p.BranchCase(when=c.when, next=c.next) for c in step.branch.cases],
            otherwise=step.branch.otherwise if step.branch.otherwise is not None else after,
        )
    if isinstance(step, SplitStep):
        variants = [
            p.SplitVariant(name=v.name, weight=v.weight, next=v.next if v.next is not None else after)
            for v in step.split.variants
        ]
        return p.SplitNode(**base, variants=variants, control_percent=step.split.control)
    if isinstance(step, AwardStep):
        award = step.award
        computed = award.points if isinstance(award.points, str) else None
        return p.AwardNode(
            **base,
            points=0 if isinstance(award.points, str) else award.points,
            points_expression=computed,
            reason=award.reason,
            badge=award.badge,
            to=award.to,
        )
    if isinstance(step, SetStageStep):
        return p.SetStageNode(**base, stage=step.set_stage)
    if isinstance(step, ExitStep):
        return p.ExitNode(id=step.id, next=None, reason=step.exit or step.id)
    raise TypeError(f"unknown step kind {type(step).__name__}")

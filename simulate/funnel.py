"""The funnel of a journey over many simulated customers: per step, how many entered, converted,
left the journey there, are still waiting there, and the emails and points it gave."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel

from engine.plan import Plan
from simulate.runner import StoryRun


class StepCounts(BaseModel):
    step: str
    kind: str
    entered: int = 0
    converted: int = 0
    exited: int = 0
    waiting: int = 0
    emails: int = 0
    points: int = 0


class Funnel(BaseModel):
    journey: str
    customers: int
    entered: int
    converted: int
    outcomes: dict[str, int]
    emails: int
    points: int
    steps: list[StepCounts]


def build_funnel(plan: Plan, story_runs: list[StoryRun]) -> Funnel:
    steps = {node.id: StepCounts(step=node.id, kind=node.kind) for node in plan.nodes}
    outcomes: Counter[str] = Counter()
    entered_customers = converted = 0
    for story_run in story_runs:
        runs = [run for run in story_run.runs if run.journey == plan.journey]
        entered_customers += bool(runs)
        for run in runs:
            outcomes[run.outcome] += 1
            converted += run.goal_reached
            for step in dict.fromkeys(t.step for t in run.steps if t.kind != "goal"):
                steps[step].entered += 1
            last = None
            for taken in run.steps:
                if taken.kind != "goal":
                    last = taken.step
                elif last is not None:
                    steps[last].converted += 1
            if last is not None:
                if run.outcome == "running":
                    steps[last].waiting += 1
                else:
                    steps[last].exited += 1
        for delivery in story_run.records.deliveries or []:
            if delivery.journey == plan.journey and delivery.status == "sent" and delivery.step in steps:
                steps[delivery.step].emails += delivery.channel == "email"
        for entry in story_run.records.ledger or []:
            if entry.journey == plan.journey and entry.step in steps:
                steps[entry.step].points += entry.delta
    counts = list(steps.values())
    return Funnel(
        journey=plan.journey,
        customers=len(story_runs),
        entered=entered_customers,
        converted=converted,
        outcomes=dict(outcomes),
        emails=sum(s.emails for s in counts),
        points=sum(s.points for s in counts),
        steps=counts,
    )


def funnel_text(funnel: Funnel, assumptions: list[str]) -> str:
    runs = sum(funnel.outcomes.values())
    lines = [
        f"{funnel.journey}: forecast for {funnel.customers} simulated customers",
        "assumed: " + ("; ".join(assumptions) if assumptions else "no events besides the trigger"),
        "",
    ]
    width = max([len(s.step) for s in funnel.steps] + [4])
    header = f"{'step':<{width}}  {'kind':<12} {'entered':>8} {'%':>5} {'converted':>9} {'exited':>7}"
    header += f" {'waiting':>7} {'emails':>7} {'points':>8}"
    lines += [header, "-" * len(header)]
    for s in funnel.steps:
        share = f"{100 * s.entered / runs:.0f}" if runs else "-"
        lines.append(
            f"{s.step:<{width}}  {s.kind:<12} {s.entered:>8} {share:>5} {s.converted:>9} {s.exited:>7}"
            f" {s.waiting:>7} {s.emails:>7} {s.points:>8}"
        )
    rate = f"{100 * funnel.converted / runs:.1f}%" if runs else "-"
    outcomes = ", ".join(f"{name} {n}" for name, n in sorted(funnel.outcomes.items()))
    lines += [
        "",
        f"entered {funnel.entered} of {funnel.customers}; runs {runs} ({outcomes or 'none'})",
        f"goal reached {funnel.converted} ({rate}); emails sent {funnel.emails};"
        f" points awarded {funnel.points}",
    ]
    return "\n".join(lines) + "\n"

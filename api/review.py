"""Review before deploy: what a new version of a journey changes (the YAML diff and the plan diff
against the current version) and what it means for the customers in flight — how many wait at each
step of each version now, and which of them stand on steps the new version removes or changes.

``live_versions`` reads the store (the counters kept on write, ``store.steps.counts``);
``build_review`` is pure and bounded (``engine.plan_diff``), so callers may run it off the event loop.
Customers keep the version they entered on, so no one is moved: the sentences say so, for a marketer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from engine.plan import Plan
from engine.plan_diff import PlanDiff, diff_plans, yaml_diff
from store.database import Store
from store.deployments import StoredVersion
from store.steps import JourneyCounts


@dataclass(frozen=True)
class LiveVersion:
    """A deployed version with customers in it, and its live counts."""

    version: str
    is_current: bool
    plan: Plan
    counts: JourneyCounts


class AffectedStep(BaseModel):
    step: str
    change: Literal["removed", "changed"]
    fields: list[str] = Field(default_factory=list, description="what changed (empty when removed)")
    waiting: int
    sentence: str


class VersionImpact(BaseModel):
    version: str
    is_current: bool
    in_flight: int = Field(description="customers inside this version now")
    waiting: dict[str, int] = Field(
        description="customers waiting at each step now (steps with any), in step order"
    )
    affected: list[AffectedStep] = Field(
        description="steps where customers wait that the new version removes or changes"
    )


class Impact(BaseModel):
    in_flight: int = Field(description="customers inside the journey now, on any version")
    affected: int = Field(description="of them, those waiting at a step the new version removes or changes")
    versions: list[VersionImpact] = Field(description="every version with customers in it, current first")
    sentences: list[str] = Field(description="one per affected step, for a marketer")
    summary: str


class Review(BaseModel):
    valid: Literal[True] = True  # an invalid text gets the 422 of validate instead
    journey: str
    current: str | None = Field(description="the version deployed now; None for a journey not deployed yet")
    version: str = Field(description="the version this YAML compiles to")
    changed: bool = Field(description="deploying it would make another version current")
    yaml_diff: str = Field(description="unified diff from the current version's YAML; empty when equal")
    plan_diff: PlanDiff
    impact: Impact


async def live_versions(store: Store, name: str) -> list[LiveVersion]:
    """Every deployed version of ``name`` with customers in it now (current first, then newest first)."""
    found: list[LiveVersion] = []
    for version in await store.deployments.versions(name):
        counts = await store.steps.counts(name, version.version)
        if not counts.active and not any(tally.waiting for tally in counts.steps.values()):
            continue
        stored = await store.deployments.get(name, version.version)
        if stored is not None:
            found.append(LiveVersion(version.version, version.is_current, stored.plan, counts))
    return sorted(found, key=lambda live: not live.is_current)


def _customers(n: int) -> str:
    return "1 customer waits" if n == 1 else f"{n} customers wait"


def version_impact(live: LiveVersion, diff: PlanDiff) -> VersionImpact:
    """Where the customers of ``live`` wait, and which of those steps the change ``diff`` (from the
    current version to the new one) removes or changes."""
    removed = set(diff.steps_removed)
    waiting = {
        node.id: live.counts.steps[node.id].waiting
        for node in live.plan.nodes
        if node.id in live.counts.steps and live.counts.steps[node.id].waiting > 0
    }
    affected: list[AffectedStep] = []
    for step, n in waiting.items():
        tail = f"they finish on version {live.version}"
        if step in removed:
            sentence = f"removes `{step}`, where {_customers(n)}: {tail}; new entrants get the new version"
            affected.append(AffectedStep(step=step, change="removed", waiting=n, sentence=sentence))
        elif (change := diff.changed_step(step)) is not None:
            names = change.names()
            sentence = (
                f"changes `{step}` ({', '.join(names)}), where {_customers(n)}: {tail} as it was; "
                "new entrants get the new version"
            )
            affected.append(
                AffectedStep(step=step, change="changed", fields=names, waiting=n, sentence=sentence)
            )
    return VersionImpact(
        version=live.version,
        is_current=live.is_current,
        in_flight=max(live.counts.active, sum(waiting.values())),
        waiting=waiting,
        affected=affected,
    )


def impact(live: list[LiveVersion], diff: PlanDiff, new: Plan, current: str | None) -> Impact:
    """What deploying ``new`` (``diff`` from the current version) means for the customers of ``live``."""
    versions = [version_impact(one, diff) for one in live]
    in_flight = sum(v.in_flight for v in versions)
    affected = sum(step.waiting for v in versions for step in v.affected)
    sentences = [step.sentence for v in versions for step in v.affected]
    return Impact(
        in_flight=in_flight,
        affected=affected,
        versions=versions,
        sentences=sentences,
        summary=_summary(new, current, in_flight, affected),
    )


def _summary(new: Plan, current: str | None, in_flight: int, affected: int) -> str:
    newest = f"the new version ({new.version})"
    if current == new.version:
        return f"No change: this is the current version ({new.version})."
    if current is None:
        return f"A new journey: everyone who enters from now on gets {newest}."
    if not in_flight:
        return f"No customers are in flight: everyone who enters from now on gets {newest}."
    inside = "1 customer is in flight" if in_flight == 1 else f"{in_flight} customers are in flight"
    if not affected:
        return (
            f"{inside}; none waits at a step this change removes or changes. Each finishes on the version "
            f"they entered on; new entrants get {newest}."
        )
    wait = "waits" if affected == 1 else "wait"
    return (
        f"{inside}; {affected} of them {wait} at steps this change removes or changes. Each finishes on "
        f"the version they entered on; new entrants get {newest}."
    )


def build_review(
    current: StoredVersion | None, plan: Plan, source: str, live: list[LiveVersion], *, after_name: str
) -> Review:
    """The review of deploying ``plan`` (from ``source``) over ``current``, given the live versions."""
    before_name = f"{plan.journey}.yaml@{current.version}" if current else "/dev/null"
    diff = diff_plans(current.plan if current else None, plan)
    return Review(
        journey=plan.journey,
        current=current.version if current else None,
        version=plan.version,
        changed=current is None or current.version != plan.version,
        yaml_diff=yaml_diff(
            current.source if current else "", source, before_name=before_name, after_name=after_name
        ),
        plan_diff=diff,
        impact=impact(live, diff, plan, current.version if current else None),
    )
